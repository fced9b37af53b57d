"""The dispatch policies, areas and service timings a host's orders read: kept in memory, and
read again from MySQL when the hub bumps the dispatch version in Redis (an area or a policy
changed: the next dispatch step sees it) or REFRESH_S after the last read."""

from __future__ import annotations

import asyncio
import time

from actors.dispatch.policy import Policy, PolicyError, layers, merged
from adapters.dispatch import DispatchStore

REFRESH_S = 60.0


class PolicyBook:
    def __init__(self, store: DispatchStore, base: dict, redis, version_key: str):
        self.store = store
        self.redis, self.version_key = redis, version_key
        self._version: str | None = None
        self.base = base  # from the deployment's settings (e.g. HUB_GRAB_RADIUS_M)
        self._rows: dict[tuple[int, int], dict] = {}
        self._areas: dict[int, list] = {}
        self._timing: dict[int, dict] = {}
        self._read_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _fresh(self) -> None:
        """Read again when the version moved; under a lock, so no caller sees the new
        version with the old rows (an await sits between the check and the set)."""
        async with self._lock:
            version = await self.redis.get(self.version_key)
            if version == self._version and time.monotonic() - self._read_at < REFRESH_S:
                return
            rows = await self.store.policies()
            areas = await self.store.area_polygons()
            self._rows = {(r["area_id"], r["service_id"]): r["config"] for r in rows}
            self._areas, self._timing = areas, {}
            self._version, self._read_at = version, time.monotonic()

    async def policy(self, area_id: int | None, service_id: int) -> Policy:
        """The defaults, then every row that applies (policy.layers), general first."""
        await self._fresh()
        try:
            return merged(self.base, *layers(self._rows, area_id or 0, service_id))
        except PolicyError:  # a row saved before a rule changed: fall back, don't stop
            return merged(self.base)

    async def areas(self) -> dict[int, list]:
        await self._fresh()
        return self._areas

    async def timing(self, service_id: int) -> dict:
        await self._fresh()
        if service_id not in self._timing:
            self._timing[service_id] = await self.store.service_timing(service_id)
        return self._timing[service_id]
