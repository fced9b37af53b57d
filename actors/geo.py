"""Where the available providers are: one Redis GEO set per service (skill).

A provider is in the set of each of its skills while it is online and has capacity; an
order asks the set of its service for the nearest ones. Writes come in per-tick batches.
"""

from __future__ import annotations

import time

import orjson


def skill_key(service_id: int) -> str:
    return f"geo:svc:{service_id}"


def offers_key(provider_id: int) -> str:
    return f"offers:{provider_id}"


def offered_key(order_id: int) -> str:
    return f"offered:{order_id}"


async def nearest(
    redis, service_id: int, lat: float, lng: float, radius_m: float, count: int
) -> list[tuple[int, float]]:
    hits = await redis.geosearch(
        skill_key(service_id),
        longitude=lng,
        latitude=lat,
        radius=radius_m,
        unit="m",
        sort="ASC",
        count=count,
        withdist=True,
    )
    return [(int(member), float(dist)) for member, dist in hits]


def place(pipe, skills: list[int], provider_id: int, lat: float, lng: float) -> None:
    for sid in skills:
        pipe.geoadd(skill_key(sid), (lng, lat, provider_id))


def remove(pipe, skills: list[int], provider_id: int) -> None:
    for sid in skills:
        pipe.zrem(skill_key(sid), provider_id)


async def open_offers(redis, provider_id: int) -> list[dict]:
    """The offers still open to a provider (hall.snapshot)."""
    raw = await redis.hgetall(offers_key(provider_id))
    now = time.time()
    offers, expired = [], []
    for order_id, payload in raw.items():
        offer = orjson.loads(payload)
        if offer["expiresAtTs"] > now:
            offers.append(offer)
        else:
            expired.append(order_id)
    if expired:
        await redis.hdel(offers_key(provider_id), *expired)
    offers.sort(key=lambda o: o["distanceM"])
    for offer in offers:
        offer.pop("expiresAtTs", None)
    return offers
