"""Where the available providers are: one Redis GEO set per service (skill).

A provider is in the set of each of its skills while it is online and has capacity; an
order asks the set of its service for the nearest ones. Writes come in per-tick batches.
"""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

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


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Metres between two WGS-84 points (haversine; plenty for a city)."""
    dlat, dlng = radians(lat2 - lat1), radians(lng2 - lng1)
    a = sin(dlat / 2) ** 2 + cos(radians(lat1)) * cos(radians(lat2)) * sin(dlng / 2) ** 2
    return 2 * 6_371_000 * asin(sqrt(a))


def place(pipe, keys: Keys, skills: list[int], provider_id: int, lat: float, lng: float) -> None:
    for sid in skills:
        pipe.geoadd(keys.skill(sid), (lng, lat, provider_id))


def remove(pipe, keys: Keys, skills: list[int], provider_id: int) -> None:
    for sid in skills:
        pipe.zrem(keys.skill(sid), provider_id)
