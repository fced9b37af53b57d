"""CONTRACT §4: the service catalog and service areas, public reads and admin edits."""

from __future__ import annotations

import orjson

from adapters import catalog
from hub.audit import audit
from hub.errors import Invalid, NotFound, duplicate_is_conflict
from hub.models import AreaIn, AreaOut, AreaPatch, ServiceIn, ServiceOut, ServicePatch
from hub.router import Call, Router


async def dispatch_changed(hub) -> None:
    """Areas and dispatch policies changed: every host reads them again on its next step."""
    await hub.redis.incr(hub.keys.dispatch_version())


router = Router("catalog")
ADMIN = ("admin",)


def service_json(row: dict) -> dict:
    return {
        "id": row["id"],
        "category": row["category"],
        "name": row["name"],
        "description": row["description"],
        "basePrice": row["base_price"],
        "durationMin": row["duration_min"],
        "dispatchLeadMin": row["dispatch_lead_min"],
        "active": bool(row["active"]),
    }


def area_json(row: dict) -> dict:
    return {
        "id": row["id"],
        "name": row["name"],
        "city": row["city"],
        "centerLat": row["center_lat"],
        "centerLng": row["center_lng"],
        "boundary": orjson.loads(row["boundary"]),
        "depositAmount": row["deposit_amount"] or 0,
        "active": bool(row["active"]),
    }


@router.route("GET", "/api/services", response=list[ServiceOut])
async def list_services(call: Call):
    """The active services, by category."""
    return [service_json(r) for r in await catalog.active_services(call.hub.db)]


@router.route("GET", "/api/areas", response=list[AreaOut])
async def list_areas(call: Call):
    """The active service areas with their boundaries."""
    return [area_json(r) for r in await catalog.active_areas(call.hub.db)]


@router.route("GET", "/api/admin/services", roles=ADMIN, response=list[ServiceOut])
async def admin_list_services(call: Call):
    """Every service, disabled ones included."""
    return [service_json(r) for r in await catalog.all_services(call.hub.db)]


@router.route(
    "POST", "/api/admin/services", roles=ADMIN, body=ServiceIn, response=ServiceOut, status=201
)
async def create_service(call: Call):
    """Add a service to the catalog."""
    b = call.body
    with duplicate_is_conflict("a service with this category and name exists", "duplicate_service"):
        sid = await catalog.add_service(
            call.hub.db, b.category, b.name, b.description, b.base_price, b.duration_min
        )
    await audit(call, "service.create", "service", sid, b.model_dump(mode="json"))
    return await _service(call, sid)


@router.route(
    "PATCH", "/api/admin/services/{id:int}", roles=ADMIN, body=ServicePatch, response=ServiceOut
)
async def update_service(call: Call):
    """Change a service; `active: false` disables it (kept for existing orders)."""
    sid = call.path["id"]
    await _service(call, sid)
    changes = _changes(call.body)
    with duplicate_is_conflict("the new name is taken", "duplicate_name"):
        await catalog.update_service(call.hub.db, sid, changes)
    await audit(call, "service.update", "service", sid, changes)
    await dispatch_changed(call.hub)
    return await _service(call, sid)


@router.route("POST", "/api/admin/areas", roles=ADMIN, body=AreaIn, response=AreaOut, status=201)
async def create_area(call: Call):
    """Add a service area."""
    b = call.body
    with duplicate_is_conflict("an area with this name exists", "duplicate_area"):
        aid = await catalog.add_area(
            call.hub.db, b.name, b.city, b.center_lat, b.center_lng, b.boundary, b.deposit_amount
        )
    await audit(call, "area.create", "area", aid, b.model_dump(mode="json"))
    await dispatch_changed(call.hub)
    return await _area(call, aid)


@router.route("PATCH", "/api/admin/areas/{id:int}", roles=ADMIN, body=AreaPatch, response=AreaOut)
async def update_area(call: Call):
    """Change a service area; `active: false` disables it."""
    aid = call.path["id"]
    await _area(call, aid)
    changes = _changes(call.body)
    with duplicate_is_conflict("the new name is taken", "duplicate_name"):
        await catalog.update_area(call.hub.db, aid, changes)
    await audit(call, "area.update", "area", aid, changes)
    await dispatch_changed(call.hub)
    return await _area(call, aid)


def _changes(patch) -> dict:
    """The fields a PATCH sets; null is refused (leaving a field out keeps it)."""
    changes = patch.model_dump(exclude_unset=True)
    for key, value in changes.items():
        if value is None:
            field = key.split("_")[0] + "".join(w.title() for w in key.split("_")[1:])
            raise Invalid(
                f"{field}: may not be null; leave it out to keep it", fields=[{"field": field}]
            )
    return changes


async def _service(call: Call, sid: int) -> dict:
    row = await catalog.service(call.hub.db, sid)
    if row is None:
        raise NotFound("no such service")
    return service_json(row)


async def _area(call: Call, aid: int) -> dict:
    row = await catalog.area(call.hub.db, aid)
    if row is None:
        raise NotFound("no such area")
    return area_json(row)
