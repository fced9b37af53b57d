"""Location privacy by phase (docs/privacy.md, actors/privacy.py): an order walked through every
phase while its provider keeps sending fixes; what the customer, a bystander provider (one the
order was offered to, watching it) and staff received is checked per phase."""

from __future__ import annotations

import asyncio

import orjson
from db import rows

LAT, LNG = 20.1100, 110.4300  # in 美兰区, away from the other tests' providers


def _mentions(sock, lat: float) -> bool:
    """Whether any event this socket received carries the coordinate."""
    return any(repr(lat) in orjson.dumps(data).decode() for _, data in sock.events)


async def _fix(provider, staff, lat: float, lng: float) -> None:
    """Send a fix and wait until staff saw it: everything that fix produced (the tick's
    publishes go out in order, provider.location first) has reached the other sockets too."""
    assert (await provider.call("location.update", {"lat": lat, "lng": lng}))["ok"]

    def seen(data) -> bool:
        return any(p["lat"] == lat for p in data.get("providers", []))

    for _ in range(100):
        if any(seen(d) for d in staff.of("console.update", type="locations")):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"staff never saw the fix {lat}")
    await asyncio.sleep(0.2)


async def test_who_sees_the_provider_in_each_phase(world):
    admin = await world.admin_user()
    staff = await world.socket(admin)
    customer, assignee, bystander = (
        await world.customer(),
        await world.provider(),
        await world.provider(),
    )
    me_sock, p_sock, b_sock = (
        await world.socket(customer),
        await world.socket(assignee),
        await world.socket(bystander),
    )
    assert (await p_sock.call("provider.online", {"lat": LAT, "lng": LNG}))["ok"]
    assert (await b_sock.call("provider.online", {"lat": LAT + 0.002, "lng": LNG}))["ok"]
    # offered directly to the bystander first, who watches it (an offer lets one) and declines
    order = await world.order(
        customer,
        lat=LAT + 0.001,
        lng=LNG + 0.001,
        dispatchMode="direct",
        providerId=bystander.provider_id,
    )
    oid = order["id"]

    # offers: distance and district, never a point
    offer = await b_sock.wait_for("order.offer", orderId=oid)
    assert offer["address"] == order["district"] and isinstance(offer["distanceM"], int)
    assert not {"lat", "lng", "location", "addressDetail"} & set(offer)
    hall = await b_sock.call("hall.snapshot")
    assert all("lat" not in o and "lng" not in o for o in hall["offers"])

    # everyone who may watches the order: customer, the bystander (while offered), staff
    watched = {}
    for name, sock in (("customer", me_sock), ("bystander", b_sock), ("staff", staff)):
        watched[name] = await sock.call("order.watch", {"orderId": oid})
        assert watched[name]["ok"]
    # the customer's address: in full to the customer and staff; to a provider holding only
    # an offer, as precisely as the offer (district, a point to 0.01°, no contact)
    assert watched["customer"]["order"]["address"] == order["address"]
    assert watched["staff"]["order"]["lat"] == order["lat"]
    as_offered = await bystander.api.ok("GET", f"/api/orders/{oid}")
    for seen in (as_offered, watched["bystander"]["order"]):
        assert seen["address"] == order["district"] != order["address"]
        assert (seen["lat"], seen["lng"]) == (round(order["lat"], 2), round(order["lng"], 2))
        assert seen["contactPhone"] == "" and seen["contactName"] == ""

    phases = {}  # status → the latitude the assignee sent in it
    phases["pending"] = LAT + 0.000101
    await _fix(p_sock, staff, phases["pending"], LNG)
    declined = await bystander.api.ok("POST", f"/api/orders/{oid}/decline")
    assert declined["address"] == order["district"]
    admin_api = await world.admin()
    await admin_api.ok("POST", f"/api/orders/{oid}/assign", {"providerId": assignee.provider_id})
    await p_sock.wait_for("order.offer", orderId=oid)
    accepted = await assignee.api.ok("POST", f"/api/orders/{oid}/accept")
    assert accepted["address"] == order["address"]  # the order's provider: in full
    phases["accepted"] = LAT + 0.000202
    await _fix(p_sock, staff, phases["accepted"], LNG)
    for action, status in (("depart", "departed"), ("arrive", "arrived"), ("start", "in_progress")):
        await assignee.api.ok("POST", f"/api/orders/{oid}/{action}")
        phases[status] = LAT + 0.000101 * (len(phases) + 1)
        await _fix(p_sock, staff, phases[status], LNG)
    await assignee.api.ok("POST", f"/api/orders/{oid}/complete")
    await me_sock.wait_for("order.status", orderId=oid, status="completed")
    phases["completed"] = LAT + 0.000909
    await _fix(p_sock, staff, phases["completed"], LNG)

    seen_by_customer = {
        d["lat"]
        for d in me_sock.of("provider.location", orderId=oid, providerId=assignee.provider_id)
    }
    tracked = {"accepted", "departed", "arrived", "in_progress"}
    assert seen_by_customer == {phases[s] for s in tracked}
    for status in set(phases) - tracked:  # before the provider, after the end: nothing at all
        assert not _mentions(me_sock, phases[status]), status
    # the bystander: no position of the assignee, in any event, ever
    assert b_sock.of("provider.location") == []
    assert not any(_mentions(b_sock, lat) for lat in phases.values())
    # staff: every fix, always (the console stream), and the order's track while watching
    staff_fixes = {
        p["lat"]
        for d in staff.of("console.update", type="locations")
        for p in d["providers"]
        if p["providerId"] == assignee.provider_id
    }
    assert set(phases.values()) <= staff_fixes
    assert {d["lat"] for d in staff.of("provider.location", orderId=oid)} == seen_by_customer

    # staff's positions list: allowed, and every look at positions is in the audit log
    await admin_api.ok("GET", "/api/admin/providers/positions")
    r = await customer.api.call("GET", "/api/admin/providers/positions")
    assert r.status_code == 403
    looks = rows(
        "SELECT action, target_id FROM audit_log WHERE actor_id = %s AND action LIKE 'privacy.%%'",
        (admin.user_id,),
    )
    assert ("privacy.order_watched", oid) in looks
    assert ("privacy.console_stream", None) in looks
    assert ("privacy.positions_viewed", None) in looks
