"""Where the available providers are: one Redis GEO set per service (skill).

A provider is in the set of each of its skills while it is online and has capacity; an
order asks the set of its service for the nearest ones. Writes come in per-tick batches.
"""

from __future__ import annotations

import time

import orjson

from adapters.redis import Keys


async def nearest(
    redis, keys: Keys, service_id: int, lat: float, lng: float, radius_m: float, count: int
) -> list[tuple[int, float]]:
    hits = await redis.geosearch(
        keys.skill(service_id),
        longitude=lng,
        latitude=lat,
        radius=radius_m,
        unit="m",
        sort="ASC",
        count=count,
        withdist=True,
    )
    return [(int(member), float(dist)) for member, dist in hits]


def place(pipe, keys: Keys, skills: list[int], provider_id: int, lat: float, lng: float) -> None:
    for sid in skills:
        pipe.geoadd(keys.skill(sid), (lng, lat, provider_id))


def remove(pipe, keys: Keys, skills: list[int], provider_id: int) -> None:
    for sid in skills:
        pipe.zrem(keys.skill(sid), provider_id)


async def open_offers(redis, keys: Keys, provider_id: int) -> list[dict]:
    """The offers still open to a provider (hall.snapshot)."""
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
