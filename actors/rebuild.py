"""Redis is derived from MySQL: what a starting hub rebuilds there, for its deployment.

Redis holds projections of MySQL and of the actors (who reload from MySQL): the GEO sets of
listed providers and their fix times (dispatch under dedicated placement), the providers'
cards, the offers open to each provider (their grab hall) and each grab order's crowd. Two
ways Redis goes wrong, both found in testing:

- the database was dropped and created again (or another one restored) while Redis kept the
  old one's keys — same key prefix, so ghost providers of the old database were offered
  orders. Redis remembers which database it was built from (`Keys.origin`, the time of its
  first migration); another one means every derived key is wiped first;
- Redis was flushed or lost keys: the listed providers and their cards are written again
  from MySQL, and every pending order puts its open offers back (`reoffer`, in the order's
  mailbox: the order knows its crowd, its batch and its personal offer; MySQL its state).

Then GEO members MySQL does not list (offline, not approved, gone, or lacking that skill)
are removed; cards of providers MySQL does not have are deleted. A provider's dispatch record
(answers, cool-down) lives only on its card: it survives unless the database changed.

Hubs run this on start while other hubs may be serving: a provider changing state during the
rebuild can be written back as MySQL had it a moment before; its next change or fix (every
few seconds) corrects it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import orjson

from actors import geo, offers
from actors.dispatch.filters import Slot
from actors.dispatch.plan import state_of
from actors.provider import ProviderActor
from actors.results import ok
from actors.transitions import ASSIGNED
from adapters import redis_sources as sources
from adapters.clock import epoch
from adapters.dispatch import DispatchStore

log = logging.getLogger("orderhub.rebuild")

# The card fields MySQL decides; the rest (the dispatch record, slots) the actors keep.
FROM_MYSQL = ("online", "verified", "skills", "areas", "capacity")


async def _wipe(redis, keys) -> int:
    gone = 0
    for pattern in keys.derived():
        batch = [k async for k in redis.scan_iter(match=pattern, count=1000)]
        for i in range(0, len(batch), 500):
            gone += await redis.delete(*batch[i : i + 500])
    return gone


def _card_fields(row: dict, online: bool) -> dict:
    """The card fields MySQL decides, for comparing with a card in Redis."""
    actor = ProviderActor(None, row, [], None)
    actor.online = online
    card = actor.card()
    return {k: card[k] for k in FROM_MYSQL}


async def _card(db, row: dict, old: dict | None, online: bool) -> dict:
    slots = [
        Slot(r["id"], epoch(r["scheduled_at"]), r["duration_min"] * 60.0, r["lat"], r["lng"])
        for r in await DispatchStore(db).slots_of(row["id"], ASSIGNED)
    ]
    actor = ProviderActor(None, row, slots, old)  # the one definition of a card
    actor.online = online
    return actor.card()


async def providers(db, redis, keys, alive: Callable[[int], Awaitable[bool]]) -> dict:
    """The providers' keys made to agree with MySQL. `alive(pid)`: whether the provider has
    an actor that may be online (under dedicated placement, its own host must exist)."""
    made = await sources.database_identity(db)
    was = await redis.get(keys.origin())
    wiped = await _wipe(redis, keys) if was is not None and was != made else 0
    await redis.set(keys.origin(), made)

    listed = {r["id"]: r for r in await sources.present_providers(db) if await alive(r["id"])}
    pipe = redis.pipeline(transaction=False)
    removed = 0
    async for key in redis.scan_iter(match=keys.skill("*"), count=1000):
        sid = int(key.rsplit(":", 1)[1])
        for member in await redis.zrange(key, 0, -1):
            row = listed.get(int(member))
            if row is None or sid not in orjson.loads(row["skills"]):
                pipe.zrem(key, member)
                removed += 1
    for pid in await redis.hkeys(keys.fixes()):
        if int(pid) not in listed:
            pipe.hdel(keys.fixes(), pid)
    for pid, row in listed.items():
        geo.place(pipe, keys, orjson.loads(row["skills"]), pid, row["last_lat"], row["last_lng"])
        pipe.hset(keys.fixes(), str(pid), epoch(row["location_at"]) or time.time())

    cards = {int(k): orjson.loads(v) for k, v in (await redis.hgetall(keys.cards())).items()}
    rows = await sources.providers_in(db, sorted(set(cards) | set(listed)))
    dropped = rewritten = 0
    for pid in cards:
        if pid not in rows:
            pipe.hdel(keys.cards(), str(pid))
            dropped += 1
    for pid, row in rows.items():
        old = cards.get(pid)
        mysql_says = _card_fields(row, pid in listed)
        if old is None or any(old.get(k) != v for k, v in mysql_says.items()):
            # rewritten only then: its slots cost a query (thousands of cards at start)
            new = await _card(db, row, old, pid in listed)
            pipe.hset(keys.cards(), str(pid), orjson.dumps(new))
            rewritten += 1
    await pipe.execute()
    figures = {
        "wipedKeys": wiped,
        "listed": len(listed),
        "geoRemoved": removed,
        "cardsDropped": dropped,
        "cardsWritten": rewritten,
    }
    log.info("redis rebuilt from mysql for %s: %s", keys.ns, figures)
    return figures


async def reoffer(order) -> dict:
    """In the order's mailbox: its open offers back in the providers' halls (and its grab
    crowd), as they stand — same providers, the time they have left — without telling the
    providers again (they heard of them when they were made)."""
    if order.status != "pending":
        return ok(restored=0)
    env, row, st = order.env, order.row, state_of(order.row)
    s, loop = env.settings, asyncio.get_running_loop()

    def left(timer: str, fallback: float) -> float:
        handle = order.timers.get(timer)
        return max(1.0, handle.when() - loop.time()) if handle else fallback

    # provider id → (seconds the offer has left, how it is answered: see offers.send)
    held: dict[int, tuple[float, str]] = {}
    if row["offered_provider_id"]:
        held[row["offered_provider_id"]] = (left("offer", s.offer_ttl_s), "accept")
    if st.stage == "batches" and st.offered and st.until > time.time():
        held.update(dict.fromkeys(st.offered, (st.until - time.time(), "accept")))
    if st.stage in ("", "grab") and row["dispatch_mode"] == "grab":
        crowd = order.crowd | await offers.crowd(env, order.id)
        held.update(dict.fromkeys(crowd, (left("round", s.offer_ttl_s), "grab")))
    where = await sources.positions_of(env.db, sorted(held))
    by_ttl: dict[tuple[float, str], list[tuple[int, float]]] = {}
    for pid, (ttl, respond) in held.items():
        pos = where.get(pid)
        dist = geo.distance_m(row["lat"], row["lng"], *pos) if pos else 0.0
        by_ttl.setdefault((round(ttl, 1), respond), []).append((pid, dist))
    for (ttl, respond), targets in by_ttl.items():
        await offers.restore(env, row, targets, ttl, respond)
    return ok(restored=len(held))


async def open_offers(order_ids: list[int], reoffer_one, concurrency: int = 32) -> int:
    """Every pending order's offers back (`reoffer_one(oid)` reaches the order's actor)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(oid: int) -> int:
        async with gate:
            answer = await reoffer_one(oid)
            return (answer or {}).get("restored", 0)

    counts = await asyncio.gather(*(one(oid) for oid in order_ids), return_exceptions=True)
    for oid, n in zip(order_ids, counts, strict=True):
        if isinstance(n, BaseException):
            log.warning("order %s: its offers were not restored: %r", oid, n)
    return sum(n for n in counts if isinstance(n, int))
