"""Offers in Redis: the offers open to each provider (their grab hall) and the crowd a grab
order was broadcast to. Sending and withdrawing also tell the providers, in the same round
trip."""

from __future__ import annotations

import time
from datetime import timedelta

import orjson

from actors import privacy
from actors.env import Env
from adapters.clock import iso


def _payload(env: Env, order: dict, distance_m: float, ttl: float, respond: str) -> dict:
    return {
        "orderId": order["id"],
        "serviceId": order["service_id"],
        **privacy.offer_view(order, distance_m),  # distance and district, never a point
        "price": order["estimated_amount"],
        "urgency": order["urgency"],
        "dispatchMode": order["dispatch_mode"],
        # How the provider answers: `grab` (first come, the grab window) or `accept`/decline
        # (a batch, an assignment, a direct order): a grab order that went on to batches
        # keeps dispatchMode "grab", so the mode alone cannot tell.
        "respond": respond,
        "expiresAt": iso(env.clock() + timedelta(seconds=ttl)),
        "expiresAtTs": time.time() + ttl,
    }


async def send(
    env: Env, order: dict, targets: list[tuple[int, float]], ttl: float, respond: str = "accept"
) -> None:
    """Offer the order to each (provider id, distance); a grab order remembers its crowd.
    `respond`: "grab" from the grab window, else "accept" (the provider's own to take)."""
    pipe = env.redis.pipeline(transaction=False)
    emits = []
    for pid, payload in _write(env, pipe, order, targets, ttl, respond):
        public = {k: v for k, v in payload.items() if k != "expiresAtTs"}
        emits.append(("order.offer", public, f"provider:{pid}"))
    env.emitter.add_to(pipe, emits)
    await pipe.execute()


async def restore(
    env: Env, order: dict, targets: list[tuple[int, float]], ttl: float, respond: str = "accept"
) -> None:
    """Put offers the providers already heard of back in their halls (and the crowd), without
    telling them again: Redis rebuilt after it lost them (actors/rebuild.py)."""
    if targets:
        pipe = env.redis.pipeline(transaction=False)
        _write(env, pipe, order, targets, ttl, respond)
        await pipe.execute()


def _write(
    env: Env, pipe, order: dict, targets: list[tuple[int, float]], ttl: float, respond: str
) -> list:
    keys, keep = env.keys, int(env.settings.order_expiry_s) + 3600
    written = []
    for pid, dist in targets:
        payload = _payload(env, order, dist, ttl, respond)
        pipe.hset(keys.offers(pid), str(order["id"]), orjson.dumps(payload))
        pipe.expire(keys.offers(pid), keep)
        written.append((pid, payload))
    if order["dispatch_mode"] == "grab":
        pipe.sadd(keys.offered(order["id"]), *[pid for pid, _ in targets])
        pipe.expire(keys.offered(order["id"]), keep)
    return written


async def withdraw(env: Env, order_id: int, providers: list[int], reason: str) -> None:
    """The offer leaves these providers' halls, and they hear `order.taken` with why."""
    if not providers:
        return
    pipe = env.redis.pipeline(transaction=False)
    for pid in providers:
        pipe.hdel(env.keys.offers(pid), str(order_id))
    env.emitter.add_to(
        pipe,
        [
            (
                "order.taken",
                {"orderId": order_id, "reason": reason},
                [f"provider:{p}" for p in providers],
            )
        ],
    )
    await pipe.execute()


async def crowd(env: Env, order_id: int) -> set[int]:
    """The providers a grab order was offered to (kept in Redis: it survives a restart)."""
    return {int(p) for p in await env.redis.smembers(env.keys.offered(order_id))}


async def open_to(redis, keys, provider_id: int) -> list[dict]:
    """The offers still open to a provider (hall.snapshot), nearest first."""
    raw = await redis.hgetall(keys.offers(provider_id))
    now = time.time()
    offers, expired = [], []
    for order_id, payload in raw.items():
        offer = orjson.loads(payload)
        if offer["expiresAtTs"] > now:
            offers.append(offer)
        else:
            expired.append(order_id)
    if expired:
        await redis.hdel(keys.offers(provider_id), *expired)
    offers.sort(key=lambda o: o["distanceM"])
    for offer in offers:
        offer.pop("expiresAtTs", None)
    return offers
