"""CONTRACT §4: the service catalog and service areas, public reads and admin edits."""

from __future__ import annotations

import orjson

from adapters.mysql import is_duplicate
from hub.audit import audit
from hub.errors import Conflict, Invalid, NotFound
from hub.models import AreaIn, AreaOut, AreaPatch, ServiceIn, ServiceOut, ServicePatch
from hub.router import Call, Router

router = Router("catalog")
ADMIN = ("admin",)

_SERVICE_COLUMNS = {
    "category": "category",
    "name": "name",
    "description": "description",
    "base_price": "base_price",
    "duration_min": "duration_min",
    "active": "active",
}
_AREA_COLUMNS = {
    "name": "name",
    "city": "city",
    "center_lat": "center_lat",
    "center_lng": "center_lng",
    "boundary": "boundary",
    "active": "active",
}


def service_json(row: dict) -> dict:
    return {
        "id": row["id"],
        "category": row["category"],
        "name": row["name"],
        "description": row["description"],
        "basePrice": row["base_price"],
        "durationMin": row["duration_min"],
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
        "active": bool(row["active"]),
    }


@router.route("GET", "/api/services", response=list[ServiceOut])
async def list_services(call: Call):
    """The active services, by category."""
    rows = await call.hub.db.fetch_all("SELECT * FROM services WHERE active ORDER BY category, id")
    return [service_json(r) for r in rows]


@router.route("GET", "/api/areas", response=list[AreaOut])
async def list_areas(call: Call):
    """The active service areas with their boundaries."""
    rows = await call.hub.db.fetch_all("SELECT * FROM areas WHERE active ORDER BY id")
    return [area_json(r) for r in rows]


@router.route("GET", "/api/admin/services", roles=ADMIN, response=list[ServiceOut])
async def admin_list_services(call: Call):
    """Every service, disabled ones included."""
    rows = await call.hub.db.fetch_all("SELECT * FROM services ORDER BY category, id")
    return [service_json(r) for r in rows]


@router.route(
    "POST", "/api/admin/services", roles=ADMIN, body=ServiceIn, response=ServiceOut, status=201
)
async def create_service(call: Call):
    """Add a service to the catalog."""
    b = call.body
    try:
        _, sid = await call.hub.db.execute(
            "INSERT INTO services (category, name, description, base_price, duration_min)"
            " VALUES (%s, %s, %s, %s, %s)",
            (b.category, b.name, b.description, b.base_price, b.duration_min),
        )
    except Exception as exc:
        if is_duplicate(exc):
            raise Conflict(
                "a service with this category and name exists", "duplicate_service"
            ) from None
        raise
    await audit(call, "service.create", "service", sid, b.model_dump(mode="json"))
    return await _service(call, sid)


@router.route(
    "PATCH", "/api/admin/services/{id:int}", roles=ADMIN, body=ServicePatch, response=ServiceOut
)
async def update_service(call: Call):
    """Change a service; `active: false` disables it (kept for existing orders)."""
    sid = call.path["id"]
    await _service(call, sid)
    await _patch(call, "services", sid, call.body, _SERVICE_COLUMNS)
    await audit(call, "service.update", "service", sid, call.body.model_dump(exclude_unset=True))
    return await _service(call, sid)


@router.route("POST", "/api/admin/areas", roles=ADMIN, body=AreaIn, response=AreaOut, status=201)
async def create_area(call: Call):
    """Add a service area."""
    b = call.body
    try:
        _, aid = await call.hub.db.execute(
            "INSERT INTO areas (name, city, center_lat, center_lng, boundary)"
            " VALUES (%s, %s, %s, %s, %s)",
            (b.name, b.city, b.center_lat, b.center_lng, orjson.dumps(b.boundary).decode()),
        )
    except Exception as exc:
        if is_duplicate(exc):
            raise Conflict("an area with this name exists", "duplicate_area") from None
        raise
    await audit(call, "area.create", "area", aid, b.model_dump(mode="json"))
    return await _area(call, aid)


@router.route("PATCH", "/api/admin/areas/{id:int}", roles=ADMIN, body=AreaPatch, response=AreaOut)
async def update_area(call: Call):
    """Change a service area; `active: false` disables it."""
    aid = call.path["id"]
    await _area(call, aid)
    await _patch(call, "areas", aid, call.body, _AREA_COLUMNS)
    await audit(call, "area.update", "area", aid, call.body.model_dump(exclude_unset=True))
    return await _area(call, aid)


async def _patch(call: Call, table: str, row_id: int, patch, columns: dict) -> None:
    changes = patch.model_dump(exclude_unset=True)
    if not changes:
        return
    sets, args = [], []
    for key, value in changes.items():
        if value is None:
            field = key.split("_")[0] + "".join(w.title() for w in key.split("_")[1:])
            raise Invalid(
                f"{field}: may not be null; leave it out to keep it", fields=[{"field": field}]
            )
        sets.append(f"{columns[key]} = %s")
        args.append(orjson.dumps(value).decode() if isinstance(value, list) else value)
    try:
        await call.hub.db.execute(
            f"UPDATE {table} SET {', '.join(sets)} WHERE id = %s", (*args, row_id)
        )
    except Exception as exc:
        if is_duplicate(exc):
            raise Conflict("the new name is taken", "duplicate_name") from None
        raise


async def _service(call: Call, sid: int) -> dict:
    row = await call.hub.db.fetch_one("SELECT * FROM services WHERE id = %s", (sid,))
    if row is None:
        raise NotFound("no such service")
    return service_json(row)


async def _area(call: Call, aid: int) -> dict:
    row = await call.hub.db.fetch_one("SELECT * FROM areas WHERE id = %s", (aid,))
    if row is None:
        raise NotFound("no such area")
    return area_json(row)
