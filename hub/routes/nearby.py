"""Nearby providers for a customer choosing one (dispatch mode `direct`, CONTRACT §10).

The list comes from the index dispatch searches (the hosts' H3 index, or Redis GEO under the
dedicated placement: actors/candidates.py), online approved providers by skill, so a provider
shown here is one a direct order can reach. Only public
profile fields and a distance rounded to 100 m are shown: never a provider's position.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from pydantic import Field

from actors import geo
from adapters import catalog, providers
from hub.models import In, Lat, Lng, Out
from hub.router import Call, Router

router = Router("providers")

RADIUS_M = 10_000


class NearbyQuery(In):
    lat: Lat
    lng: Lng
    service_id: Annotated[int, Field(ge=1, le=2**62)] | None = None
    limit: Annotated[int, Field(ge=1, le=20)] = 10


class NearbyProvider(Out):
    id: int
    name: str
    rating: float
    rating_count: int
    completed_orders: int
    distance_m: int = Field(description="rounded to 100 m")


class NearbyList(Out):
    items: list[NearbyProvider]


@router.route(
    "GET", "/api/providers/nearby", roles=("customer",), query=NearbyQuery, response=NearbyList
)
async def nearby(call: Call):
    """Online approved providers with the service's skill (without `serviceId`: any active
    service's) within 10 km, nearest first."""
    hub, q = call.hub, call.query
    await hub.limiter.hit(f"nearby:{call.me.user_id}", 60)
    if q.service_id is not None:
        services = [q.service_id]
    else:  # the home page: the index is per service, so ask each and merge
        services = [s["id"] for s in await catalog.active_services(hub.db)]
    found: dict[int, float] = {}
    for hits in await asyncio.gather(*(_search(hub, s, q) for s in services)):
        for pid, dist in hits:
            found[pid] = min(dist, found.get(pid, dist))
    hits = sorted(found.items(), key=lambda hit: (hit[1], hit[0]))[: q.limit]
    rows = await asyncio.gather(*(providers.load(hub.db, pid) for pid, _ in hits))
    items = [
        {
            "id": row["id"],
            "name": row["name"],
            "rating": float(row["rating"]),
            "ratingCount": row["rating_count"],
            "completedOrders": row["completed_orders"],
            "distanceM": max(100, round(dist / 100) * 100),
        }
        for row, (_, dist) in zip(rows, hits, strict=True)
        if row and row["verification"] == "approved" and row["work_status"] != "offline"
    ]
    return {"items": items}


async def _search(hub, service_id: int, q: NearbyQuery) -> list[tuple[int, float]]:
    args = (service_id, q.lat, q.lng, RADIUS_M, q.limit)
    hits = await hub.actors.nearby_providers(*args)
    if hits is None:  # dedicated placement: the providers' index is Redis GEO
        hits = await geo.nearest(hub.redis, hub.keys, *args)
    return hits
