"""The provider actor: online/offline, last location, the orders it holds (with their slots),
and its dispatch record (answers to personal offers, cool-down).

Dispatch reads providers through their card, a JSON entry in Redis the actor rewrites on every
change (actors/candidates.py turns cards into the engine's Candidates); the card outlives the
actor, so the record survives a restart.
"""

from __future__ import annotations

import time

import orjson

from actors.dispatch.filters import Slot, load_now
from actors.env import Env
from actors.mailbox import Mailbox
from actors.results import fail, ok
from actors.transitions import ASSIGNED
from adapters import providers as provider_rows
from adapters.clock import epoch

DEFAULT_LEAD_S = 3600.0  # a slot further away than this does not take capacity
RECORD = ("accepted", "declined", "timedOut", "misses", "cooldownUntil", "idleSince")


class ProviderActor:
    def __init__(self, env: Env, row: dict, current: list[Slot], card: dict | None = None):
        self.env = env
        self.id: int = row["id"]
        self.user_id: int = row["user_id"]
        self.skills: list[int] = orjson.loads(row["skills"])
        self.areas: list[int] = orjson.loads(row["service_areas"])
        self.capacity: int = row["max_concurrent"]
        self.rating = float(row["rating"])
        self.verified = row["verification"] == "approved"
        self.online = False
        self.lat: float | None = row["last_lat"]
        self.lng: float | None = row["last_lng"]
        self.location_at: str | None = None
        # epoch seconds of the last fix (stale ones are not offered orders); after a restart,
        # the last one MySQL has (written on going online and every few seconds after)
        self.fix_at: float | None = epoch(row["location_at"])
        self.last_seen = time.monotonic()
        self.current: dict[int, Slot] = {s.order_id: s for s in current}
        self.record = {k: (card or {}).get(k, 0) for k in RECORD}
        if not self.record["idleSince"]:
            self.record["idleSince"] = time.time()
        self.mailbox = Mailbox(f"provider {self.id}")

    @property
    def listed(self) -> bool:
        """In the GEO sets dispatch searches: online and approved (load is on the card)."""
        return self.online and self.verified

    def load(self, lead_s: float = DEFAULT_LEAD_S) -> int:
        return load_now(list(self.current.values()), time.time(), lead_s)

    @property
    def work_status(self) -> str:
        if not self.online:
            return "offline"
        return "online" if self.load() < self.capacity else "busy"

    def summary(self) -> dict:
        return {
            "providerId": self.id,
            "status": self.work_status,
            "lat": self.lat,
            "lng": self.lng,
            "at": self.location_at,
            "orders": sorted(self.current),
        }

    def card(self) -> dict:
        return {
            "online": self.online,
            "verified": self.verified,
            "skills": self.skills,
            "areas": self.areas,
            "capacity": self.capacity,
            "rating": self.rating,
            "slots": [
                [s.order_id, s.start, s.duration_s, s.lat, s.lng] for s in self.current.values()
            ],
            **self.record,
        }

    # --- messages -------------------------------------------------------------------------------

    async def go_online(self, lat: float, lng: float) -> dict:
        if not self.verified:
            return fail(403, "not_verified", "only approved providers can go online")
        self.online = True
        self.lat, self.lng, self.fix_at = lat, lng, time.time()
        self.last_seen = time.monotonic()
        await self._sync(fixed=True)
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

    async def reserve(self, order_id: int, slot: dict | None = None) -> dict:
        """An order wants this provider: yes while online, approved and with room then.
        `slot`: {start (epoch s or None), durationS, lat, lng, leadS} of the order."""
        if order_id in self.current:
            return ok()
        if not self.verified:
            return fail(409, "not_verified", "this provider is not approved")
        if not self.online:
            return fail(409, "provider_offline", "this provider is offline")
        slot = slot or {}
        if self.load(slot.get("leadS", DEFAULT_LEAD_S)) >= self.capacity:
            return fail(409, "at_capacity", f"this provider already has {self.capacity} order(s)")
        self.current[order_id] = Slot(
            order_id,
            slot.get("start"),
            slot.get("durationS", 3600.0),
            slot.get("lat", self.lat or 0.0),
            slot.get("lng", self.lng or 0.0),
        )
        self.record["accepted"] += 1
        self.record["misses"] = 0
        await self._sync()
        return ok()

    async def release(self, order_id: int) -> dict:
        if self.current.pop(order_id, None) is not None:
            if not self.current:
                self.record["idleSince"] = time.time()
            await self._sync()
        return ok()

    async def missed(self, order_id: int, why: str, after: int, rest_s: float) -> dict:
        """A personal offer this provider declined or let time out; `after` in a row earn a
        cool-down of `rest_s` (the order's policy says how many and how long)."""
        self.record["declined" if why == "declined" else "timedOut"] += 1
        self.record["misses"] += 1
        if after and self.record["misses"] >= after:
            self.record["cooldownUntil"] = time.time() + rest_s
            self.record["misses"] = 0
        await self._sync()
        return ok(cooldownUntil=self.record["cooldownUntil"])

    async def rerate(self, rating: float) -> dict:
        """A new review moved the provider's rating: dispatch scores with it from now on."""
        self.rating = float(rating)
        await self.env.redis.hset(self.env.keys.cards(), str(self.id), orjson.dumps(self.card()))
        return ok()

    async def revoke(self) -> dict:
        self.verified = False
        return await self.go_offline("revoked")

    async def where(self) -> dict:
        return {"lat": self.lat, "lng": self.lng, "online": self.online}

    async def _sync(self, fixed: bool = False) -> None:
        """Make the dispatch index, the card in Redis, and MySQL agree with this actor."""
        pipe = self.env.redis.pipeline(transaction=False)
        self.env.locator.listed(pipe, self)
        pipe.hset(self.env.keys.cards(), str(self.id), orjson.dumps(self.card()))
        await pipe.execute()
        await provider_rows.save_presence(
            self.env.db, self.id, self.work_status, self.lat, self.lng, fixed
        )
        await self.env.emitter.emit(
            "console.update", {"type": "provider", "provider": self.summary()}, "staff"
        )

    # --- the hot path: called by the host for a whole batch, outside the mailbox ------------------

    def touch(self, fix: dict | None) -> bool:
        """A heartbeat or a location fix; True when the dispatch index should hear of it.

        Plain attribute writes with no await: safe to run beside mailbox messages.
        """
        self.last_seen = time.monotonic()
        if fix is None:
            return False
        self.lat, self.lng, self.location_at = fix["lat"], fix["lng"], fix["at"]
        self.fix_at = time.time()
        return self.listed


async def load(env: Env, provider_id: int) -> ProviderActor | None:
    """The provider's actor from its row, the orders it is on and its card, or None."""
    found = await load_many(env, [provider_id])
    return found[0] if found else None


async def load_many(env: Env, provider_ids: list[int]) -> list[ProviderActor]:
    """`load` for many providers in three round trips (rows, slots, cards), not three each:
    a restarted host reloads thousands of present providers before it answers."""
    rows = await provider_rows.load_many(env.db, provider_ids)
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    slots: dict[int, list[Slot]] = {pid: [] for pid in ids}
    for r in await env.dispatch.slots_of_many(ids, ASSIGNED):
        slot = Slot(r["id"], epoch(r["scheduled_at"]), r["duration_min"] * 60.0, r["lat"], r["lng"])
        slots[r["provider_id"]].append(slot)
    cards = await env.redis.hmget(env.keys.cards(), [str(pid) for pid in ids])
    return [
        ProviderActor(env, row, slots[row["id"]], orjson.loads(card) if card else None)
        for row, card in zip(rows, cards, strict=True)
    ]


# The messages a provider actor takes (from the hub or from an order), and nothing else.
MESSAGES = {
    "go_online": ProviderActor.go_online,
    "go_offline": ProviderActor.go_offline,
    "reserve": ProviderActor.reserve,
    "release": ProviderActor.release,
    "missed": ProviderActor.missed,
    "rerate": ProviderActor.rerate,
    "revoke": ProviderActor.revoke,
    "where": ProviderActor.where,
}
