"""The provider actor: online/offline/busy, last location, capacity and current orders."""

from __future__ import annotations

import time

import orjson

from actors import geo
from actors.env import Env
from actors.mailbox import Mailbox
from actors.results import fail, ok
from actors.transitions import ASSIGNED
from adapters import providers as provider_rows


class ProviderActor:
    def __init__(self, env: Env, row: dict, current: list[int]):
        self.env = env
        self.id: int = row["id"]
        self.user_id: int = row["user_id"]
        self.skills: list[int] = orjson.loads(row["skills"])
        self.capacity: int = row["max_concurrent"]
        self.verified = row["verification"] == "approved"
        self.online = False
        self.lat: float | None = row["last_lat"]
        self.lng: float | None = row["last_lng"]
        self.location_at: str | None = None
        self.last_seen = time.monotonic()
        self.current: set[int] = set(current)
        self.mailbox = Mailbox(f"provider {self.id}")

    @property
    def available(self) -> bool:
        return self.online and self.verified and len(self.current) < self.capacity

    @property
    def work_status(self) -> str:
        if not self.online:
            return "offline"
        return "online" if len(self.current) < self.capacity else "busy"

    def summary(self) -> dict:
        return {
            "providerId": self.id,
            "status": self.work_status,
            "lat": self.lat,
            "lng": self.lng,
            "at": self.location_at,
            "orders": sorted(self.current),
        }

    # --- messages -------------------------------------------------------------------------------

    async def go_online(self, lat: float, lng: float) -> dict:
        if not self.verified:
            return fail(403, "not_verified", "only approved providers can go online")
        self.online = True
        self.lat, self.lng = lat, lng
        self.last_seen = time.monotonic()
        await self._sync()
        return ok(status=self.work_status)

    async def go_offline(self, why: str = "requested") -> dict:
        was_online = self.online
        self.online = False
        await self._sync()
        if was_online and self.current and why != "requested":
            await self.env.emitter.alert(
                "provider_lost", providerId=self.id, orders=sorted(self.current), why=why
            )
        return ok(status="offline")

    async def reserve(self, order_id: int) -> dict:
        """An order wants this provider: yes while online, verified and under capacity."""
        if order_id in self.current:
            return ok()
        if not self.verified:
            return fail(409, "not_verified", "this provider is not approved")
        if not self.online:
            return fail(409, "provider_offline", "this provider is offline")
        if len(self.current) >= self.capacity:
            return fail(409, "at_capacity", f"this provider already has {self.capacity} order(s)")
        self.current.add(order_id)
        await self._sync()
        return ok()

    async def release(self, order_id: int) -> dict:
        if order_id in self.current:
            self.current.discard(order_id)
            await self._sync()
        return ok()

    async def revoke(self) -> dict:
        self.verified = False
        return await self.go_offline("revoked")

    async def where(self) -> dict:
        return {"lat": self.lat, "lng": self.lng, "online": self.online}

    async def _sync(self) -> None:
        """Make Redis GEO and MySQL agree with this actor's availability."""
        pipe = self.env.redis.pipeline(transaction=False)
        if self.available and self.lat is not None:
            geo.place(pipe, self.env.keys, self.skills, self.id, self.lat, self.lng)
        else:
            geo.remove(pipe, self.env.keys, self.skills, self.id)
        await pipe.execute()
        await provider_rows.save_presence(
            self.env.db, self.id, self.work_status, self.lat, self.lng
        )
        await self.env.emitter.emit(
            "console.update", {"type": "provider", "provider": self.summary()}, "staff"
        )

    # --- the hot path: called by the host for a whole batch, outside the mailbox ------------------

    def touch(self, fix: dict | None) -> bool:
        """A heartbeat or a location fix; True when GEO should hear of the new position.

        Plain attribute writes with no await: safe to run beside mailbox messages.
        """
        self.last_seen = time.monotonic()
        if fix is None:
            return False
        self.lat, self.lng, self.location_at = fix["lat"], fix["lng"], fix["at"]
        return self.available


async def load(env: Env, provider_id: int) -> ProviderActor | None:
    """The provider's actor from its row and the orders it is on, or None."""
    row = await provider_rows.load(env.db, provider_id)
    if row is None:
        return None
    return ProviderActor(env, row, await env.orders.held_by(provider_id, ASSIGNED))


# The messages a provider actor takes (from the hub or from an order), and nothing else.
MESSAGES = {
    "go_online": ProviderActor.go_online,
    "go_offline": ProviderActor.go_offline,
    "reserve": ProviderActor.reserve,
    "release": ProviderActor.release,
    "revoke": ProviderActor.revoke,
    "where": ProviderActor.where,
}
