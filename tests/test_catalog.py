"""CONTRACT §4: the public catalog and areas, and an admin creating, changing and disabling
services (a disabled one leaves the public list); duplicates are 409s."""

from __future__ import annotations

import uuid

from bad_input import plain, resolve
from conftest import Api

# Category names sort after the ones other tests use, so `services[0]` stays theirs.
CATEGORY = "zz-catalog"


async def test_public_services_and_areas(world, hub):
    await world.ensure_catalog()
    anon = Api(hub.url)
    services = await anon.ok("GET", "/api/services")
    assert services
    for s in services:
        assert {"id", "category", "name", "description", "basePrice", "durationMin"} <= set(s)
        assert isinstance(s["basePrice"], int) and s["durationMin"] > 0
    assert [(s["category"], s["id"]) for s in services] == sorted(
        (s["category"], s["id"]) for s in services
    )
    areas = await anon.ok("GET", "/api/areas")
    assert areas
    for a in areas:
        assert {"id", "name", "city", "centerLat", "centerLng", "boundary"} <= set(a)
        assert len(a["boundary"]) >= 3 and all(len(p) == 2 for p in a["boundary"])
    await anon.close()


async def test_admin_creates_updates_and_disables_a_service(world, hub):
    await world.ensure_catalog()
    admin = await world.admin()
    anon = Api(hub.url)
    name = f"换锁-{uuid.uuid4().hex[:6]}"
    body = {"category": CATEGORY, "name": name, "description": "上门换锁芯"}
    created = await admin.ok(
        "POST", "/api/admin/services", {**body, "basePrice": 6000, "durationMin": 40}, status=201
    )
    assert created["name"] == name and created["basePrice"] == 6000 and created["active"]
    sid = created["id"]
    public = {s["id"]: s for s in await anon.ok("GET", "/api/services")}
    assert public[sid]["description"] == "上门换锁芯"

    changed = await admin.ok("PATCH", f"/api/admin/services/{sid}", {"basePrice": 6500})
    assert changed["basePrice"] == 6500 and changed["name"] == name
    public = {s["id"]: s for s in await anon.ok("GET", "/api/services")}
    assert public[sid]["basePrice"] == 6500

    r = await admin.call("POST", "/api/admin/services", {**body, "basePrice": 1, "durationMin": 1})
    assert r.status_code == 409 and r.json()["error"]["code"] == "duplicate_service", r.text

    other = await admin.ok(
        "POST",
        "/api/admin/services",
        {"category": CATEGORY, "name": f"{name}-2", "basePrice": 1, "durationMin": 1},
        status=201,
    )
    r = await admin.call("PATCH", f"/api/admin/services/{other['id']}", {"name": name})
    assert r.status_code == 409 and r.json()["error"]["code"] == "duplicate_name", r.text

    for sid_ in (sid, other["id"]):
        off = await admin.ok("PATCH", f"/api/admin/services/{sid_}", {"active": False})
        assert off["active"] is False
    public_ids = {s["id"] for s in await anon.ok("GET", "/api/services")}
    assert sid not in public_ids and other["id"] not in public_ids
    everything = {s["id"]: s for s in await admin.ok("GET", "/api/admin/services")}
    assert everything[sid]["active"] is False and everything[sid]["basePrice"] == 6500

    r = await admin.call("PATCH", "/api/admin/services/999999999", {"basePrice": 1})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text
    await anon.close()


async def test_duplicate_area_is_a_conflict(world):
    await world.ensure_catalog()
    admin = await world.admin()
    # Far from the test orders' point, so it changes no one's service area.
    area = {
        "name": f"三亚-{uuid.uuid4().hex[:6]}",
        "city": "三亚",
        "centerLat": 18.25,
        "centerLng": 109.5,
        "boundary": [[18.2, 109.4], [18.2, 109.6], [18.3, 109.6]],
    }
    created = await admin.ok("POST", "/api/admin/areas", area, status=201)
    try:
        r = await admin.call("POST", "/api/admin/areas", area)
        assert r.status_code == 409 and r.json()["error"]["code"] == "duplicate_area", r.text
    finally:
        await admin.ok("PATCH", f"/api/admin/areas/{created['id']}", {"active": False})


async def test_a_category_as_long_as_documented_is_taken(world, hub):
    """The OpenAPI document says how long a category may be, in characters: a service with
    that many (CJK, three bytes each) is created as it is, one more is a 422 naming the field."""
    admin = await world.admin()
    anon = Api(hub.url)
    doc = await anon.ok("GET", "/api/openapi.json")
    await anon.close()
    op = doc["paths"]["/api/admin/services"]["post"]
    schema = resolve(op["requestBody"]["content"]["application/json"]["schema"], doc)
    longest = plain(schema["properties"]["category"], doc)["maxLength"]
    category = "zz" + "类" * (longest - 2)  # "zz": after the other tests' categories
    body = {"category": category, "name": f"long-{uuid.uuid4().hex[:6]}", "basePrice": 1}
    body["durationMin"] = 1
    created = await admin.ok("POST", "/api/admin/services", body, status=201)
    try:
        assert created["category"] == category
        listed = {s["id"]: s for s in await admin.ok("GET", "/api/admin/services")}
        assert listed[created["id"]]["category"] == category
        r = await admin.call("POST", "/api/admin/services", {**body, "category": category + "类"})
        assert r.status_code == 422 and "category" in r.json()["error"]["message"], r.text
    finally:
        await admin.ok("PATCH", f"/api/admin/services/{created['id']}", {"active": False})
