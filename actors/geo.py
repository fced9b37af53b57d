"""Where the available providers are: one Redis GEO set per service (skill).

A provider is in the set of each of its skills while it is online and approved; an order
asks the set of its service for the nearest ones (their cards say who is free). Writes come
in per-tick batches.
"""

from __future__ import annotations

from actors.dispatch.filters import distance_m
from adapters.redis import Keys

__all__ = ["distance_m", "nearest", "place", "remove"]


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
