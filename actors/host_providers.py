"""The provider half of a host (actors/host.py's EntityHost): provider actors, their messages,
the per-tick location batch, heartbeats, and the search dispatch sends to every host.

A mixin, split out by concept: it uses the host's providers, placement, locator and env.
"""

from __future__ import annotations

import logging
import time

from actors import privacy
from actors.provider import MESSAGES as PROVIDER_MESSAGES
from actors.provider import ProviderActor
from actors.provider import load as load_provider
from actors.provider import load_many as load_providers
from actors.results import fail, ok
from adapters import providers as provider_rows

log = logging.getLogger("orderhub.host")

RELOAD_CHUNK = 500  # providers per query when a host reloads


class ProviderHosting:
    async def _reload_providers(self) -> None:
        """The present providers this host holds, loaded a chunk at a time (three round
        trips a chunk): the host answers nothing until they are back."""
        mine = self._mine("provider", await provider_rows.present_ids(self.db))
        for start in range(0, len(mine), RELOAD_CHUNK):
            for entity in await load_providers(self.env, mine[start : start + RELOAD_CHUNK]):
                self.providers[entity.id] = entity
                entity.online = True  # it gets a heartbeat timeout's grace to say hello
                self.locator.listed(None, entity)
        if mine:
            log.info("%s reloaded %d present providers", self.name, len(mine))

    async def provider_call(self, pid: int, message: str, *args) -> dict:
        """A message to a provider actor: here, or on the host that holds it."""
        absent = absent_provider(message)
        return await self.entity_call("provider", pid, "provider_message", absent, message, *args)

    async def _provider_from_db(self, pid: int) -> ProviderActor | None:
        entity = await load_provider(self.env, pid)
        if entity is not None:
            self.providers[pid] = entity
        return entity

    async def provider_message(self, pid: int, message: str, *args) -> dict:
        """One of provider.MESSAGES, through the provider's mailbox."""
        await self._ready
        handler = PROVIDER_MESSAGES.get(message)
        if handler is None:
            return fail(400, "unknown_message", f"a provider takes no {message!r}")
        entity = self.providers.get(pid)
        if entity is None:
            if message != "go_online":
                return absent_provider(message)
            entity = await self._provider_from_db(pid)
            if entity is None:
                return fail(404, "not_found", "no such provider")
        answer = await entity.mailbox.ask(handler, entity, *args)
        if not entity.online and not entity.current:
            self.providers.pop(pid, None)
            self._maybe_exit()
        return answer

    async def provider_locations(self, batch: list[tuple]) -> int:
        """A tick's worth of fixes and heartbeats: (providerId, fix | None). The hot path."""
        await self._ready
        pipe = self.redis.pipeline(transaction=False)
        sends, seen = [], []
        for pid, fix in batch:
            entity = self.providers.get(pid)
            if entity is None or not entity.online:
                continue
            if entity.touch(fix):
                self.locator.moved(pipe, entity)
            if fix is None:
                continue
            self._moved[pid] = (fix["lat"], fix["lng"], pid)
            seen.append(entity.summary())
            sends += privacy.location_events(pid, fix, entity.current)  # who may see it
        if seen:
            sends.append(("console.update", {"type": "locations", "providers": seen}, "staff"))
        self.emitter.add_to(pipe, sends)
        if len(pipe):
            await pipe.execute()  # every publish of the tick (and any GEO writes): one round trip
        return len(batch)

    async def _sweep(self) -> None:
        """Providers whose heartbeats stopped go offline and get no more offers."""
        deadline = time.monotonic() - self.settings.heartbeat_timeout_s
        for pid, entity in list(self.providers.items()):
            if entity.online and entity.last_seen < deadline:
                log.info("%s: provider %s missed heartbeats: offline", self.name, pid)
                await self.provider_message(pid, "go_offline", "heartbeat_missed")

    async def _flush_locations(self) -> None:
        if not self._moved:
            return
        rows, self._moved = list(self._moved.values()), {}
        await provider_rows.save_locations(self.db, rows)

    async def nearby(
        self, service_id: int, lat: float, lng: float, radius_m: float, count: int
    ) -> list[tuple]:
        """This host's providers listed for the service within the radius, nearest first,
        with their cards (actors/candidates.py HostLocator fans a search out to this)."""
        await self._ready
        return self.locator.nearby(service_id, lat, lng, radius_m, count)


def absent_provider(message: str) -> dict:
    """What a provider that is not online (no actor anywhere) answers."""
    if message == "reserve":
        return fail(409, "provider_offline", "this provider is offline")
    if message == "where":
        return {"lat": None, "lng": None, "online": False}
    return ok(status="offline")
