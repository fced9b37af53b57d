"""CONTRACT §10 against the real stack: batches over a growing radius, scheduled orders, the
fallback chain to a staff alert, the explanations, the batch matching window, a no-show, and a
batch that survives its hosts being killed. Each test has an area (and policy) of its own, far
from the others, so only its own providers are candidates."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import UTC, datetime, timedelta

import pytest
from waiting import arrival, until

KM = 1 / 111.2  # degrees of latitude in a kilometre

# In full runs these tests used to miss offers now and then (a batch that offered nobody, an
# offer that never came) while passing alone: tests/test_hub_workers.py ran a hub with an
# embedded Ray of its own on the session's database, whose hosts picked up every later test's
# live orders and dispatched them a second time. It has a database of its own now. A rerun
# stays as a safety net; the chain test prints the explanation if it happens again.
pytestmark = pytest.mark.flaky(reruns=1)


async def _provider_at(world, lat: float, lng: float):
    user = await world.provider()
    sock = await world.socket(user)
    assert (await sock.call("provider.online", {"lat": lat, "lng": lng}))["ok"]
    return user, sock


async def _why(world, order_id: int) -> dict:
    return await (await world.admin()).ok("GET", f"/api/orders/{order_id}/dispatch")


async def _steps(customer, order_id: int) -> list[dict]:
    timeline = await customer.api.ok("GET", f"/api/orders/{order_id}/timeline")
    return [i["detail"] for i in timeline["items"] if i["detail"]["action"] == "dispatch"]


async def test_nobody_within_the_first_radius_so_it_grows(world):
    lat, lng = 21.0, 111.0
    area = await world.area(lat, lng, half=0.2)
    config = dict(min_radius_m=1000, radius_step_m=2000, max_radius_m=5000, batch_size=1)
    await world.policy(area["id"], strategy="nearest", **config)
    far, far_sock = await _provider_at(world, lat + 2.5 * KM, lng)
    customer = await world.customer()
    order = await world.order(customer, lat=lat, lng=lng, dispatchMode="auto")
    offer = await far_sock.wait_for("order.offer", orderId=order["id"])
    assert 2300 < offer["distanceM"] < 2700 and offer["respond"] == "accept"
    taken = await far.api.ok("POST", f"/api/orders/{order['id']}/accept")
    assert taken["providerId"] == far.provider_id

    why = await _why(world, order["id"])
    [batch] = why["items"]
    assert batch["stage"] == "batches" and batch["explanation"]["radiusM"] == 3000
    assert batch["explanation"]["chosen"] == [far.provider_id]
    considered = {c["providerId"]: c for c in batch["explanation"]["candidates"]}
    assert (
        considered[far.provider_id]["chosen"] and "distance" in considered[far.provider_id]["parts"]
    )
    steps = await _steps(customer, order["id"])
    assert steps == [
        {"action": "dispatch", "stage": "batches", "batch": 1, "radiusM": 3000.0, "offered": 1}
    ]
    # The event carrying the decision is the one the decision names.
    timeline = await customer.api.ok("GET", f"/api/orders/{order['id']}/timeline")
    seq_of = {i["seq"]: i["detail"]["action"] for i in timeline["items"]}
    assert seq_of[batch["seq"]] == "dispatch"
    await customer.api.ok("POST", f"/api/orders/{order['id']}/cancel", {"reason": "done"})


async def test_excluded_providers_keep_their_reason(world):
    lat, lng = 21.5, 111.0
    stranger, _ = await _provider_at(world, lat + 0.3 * KM, lng)  # made before the area
    area = await world.area(lat, lng, half=0.2)
    await world.policy(area["id"], batch_size=1, batch_s=30)
    near, near_sock = await _provider_at(world, lat + 0.6 * KM, lng)
    customer = await world.customer()
    order = await world.order(customer, lat=lat, lng=lng, dispatchMode="auto")
    await near_sock.wait_for("order.offer", orderId=order["id"])
    why = (await _why(world, order["id"]))["items"][0]["explanation"]
    excluded = {e["providerId"]: e["reason"] for e in why["excluded"]}
    assert excluded[stranger.provider_id] == "outside_service_area"
    assert why["chosen"] == [near.provider_id]
    await customer.api.ok("POST", f"/api/orders/{order['id']}/cancel", {"reason": "done"})


async def test_a_scheduled_order_is_offered_at_its_lead_time_not_before(world):
    lat, lng = 22.0, 111.0
    area = await world.area(lat, lng, half=0.2)
    await world.policy(area["id"], batch_size=1, batch_s=30)
    _provider, sock = await _provider_at(world, lat + 0.5 * KM, lng)
    customer = await world.customer()
    # The service's lead time is 60 min: dispatch starts 4 s from now.
    slot = datetime.now(UTC) + timedelta(minutes=60, seconds=4)
    order = await world.order(
        customer, lat=lat, lng=lng, dispatchMode="auto", scheduledAt=slot.isoformat()
    )
    steps = await _steps(customer, order["id"])
    assert steps[0]["stage"] == "scheduled" and steps[0]["startsAt"]
    await asyncio.sleep(2)
    assert not sock.of("order.offer", orderId=order["id"])
    await sock.wait_for("order.offer", orderId=order["id"], timeout=15)
    stages = [s["stage"] for s in await _steps(customer, order["id"])]
    assert stages == ["scheduled", "batches"]
    await customer.api.ok("POST", f"/api/orders/{order['id']}/cancel", {"reason": "done"})


async def test_the_chain_runs_to_a_staff_alert_when_nobody_accepts(world):
    lat, lng = 22.5, 111.0
    area = await world.area(lat, lng, half=0.2)
    await world.policy(
        area["id"],
        chain=["grab", "batches", "alert"],
        grab_window_s=2,
        batch_s=2,
        max_batches=1,
        batch_size=1,
        reveal_ms=0,
    )
    silent, sock = await _provider_at(world, lat + 0.5 * KM, lng)  # never answers
    staff = await world.socket(await world.admin_user())
    customer = await world.customer()
    order = await world.order(customer, lat=lat, lng=lng)
    oid = order["id"]
    await sock.wait_for("order.offer", orderId=oid)
    alert = await arrival(
        staff, "console.update", timeout=20, type="alert", kind="dispatch_exhausted", orderId=oid
    )
    assert alert["pinned"] is True
    steps = await _steps(customer, oid)
    assert [s["stage"] for s in steps] == ["grab", "batches", "alert"]
    # (once, in a full run on a loaded machine, the batch offered nobody: the explanation
    # says why when it happens again)
    assert steps[1]["offered"] == 1, (steps, await _why(world, oid))
    assert steps[2]["pinned"] is True
    withdrawn = [t["reason"] for t in sock.of("order.taken", orderId=oid)]
    assert withdrawn == ["withdrawn", "withdrawn"]  # the grab window, then the batch
    why = await _why(world, oid)
    assert why["state"]["stage"] == "alert" and why["state"]["pinned"] is True
    assert [i["stage"] for i in why["items"]] == ["batches"]
    assert why["items"][0]["explanation"]["chosen"] == [silent.provider_id]
    # Staff step in: the pinned order is assigned by hand.
    await (await world.admin()).ok(
        "POST", f"/api/orders/{oid}/assign", {"providerId": silent.provider_id}
    )
    await until(lambda: len(sock.of("order.offer", orderId=oid)) >= 3, "the assigned offer")
    await silent.api.ok("POST", f"/api/orders/{oid}/accept")
    await customer.api.ok("POST", f"/api/orders/{oid}/cancel", {"reason": "done"})


async def test_a_batch_window_matches_for_the_smallest_total_distance(world):
    """Greedy (first order takes its nearest) would give 1 km + 4 km; together 2 km + 1 km."""
    lat, lng = 23.0, 111.0
    area = await world.area(lat, lng, half=0.2)
    await world.policy(area["id"], window_s=2, batch_size=1, batch_s=30, strategy="nearest")
    _p1, s1 = await _provider_at(world, lat, lng)
    p2, s2 = await _provider_at(world, lat + 3 * KM, lng)
    customer = await world.customer()
    o1 = await world.order(customer, lat=lat + 1 * KM, lng=lng, dispatchMode="auto")
    o2 = await world.order(customer, lat=lat - 1 * KM, lng=lng, dispatchMode="auto")
    await s2.wait_for("order.offer", orderId=o1["id"], timeout=15)
    await s1.wait_for("order.offer", orderId=o2["id"], timeout=15)
    assert not s1.of("order.offer", orderId=o1["id"])
    assert not s2.of("order.offer", orderId=o2["id"])
    matched = (await _why(world, o1["id"]))["items"][-1]["explanation"]
    assert matched["stage"] == "window" and matched["chosen"] == [p2.provider_id]
    assert matched["orders"] == 2 and 2900 < matched["totalM"] < 3100
    assert 4900 < matched["greedyTotalM"] < 5100
    for order in (o1, o2):
        await customer.api.ok("POST", f"/api/orders/{order['id']}/cancel", {"reason": "done"})


async def test_a_provider_who_does_not_depart_is_a_no_show(world):
    lat, lng = 23.5, 111.0
    area = await world.area(lat, lng, half=0.2)
    # Reminded 15 s before the slot; must have departed 8 s before it.
    await world.policy(
        area["id"], batch_size=1, batch_s=30, remind_before_min=0.25, depart_by_min=8 / 60
    )
    late, late_sock = await _provider_at(world, lat + 0.5 * KM, lng)
    _other, other_sock = await _provider_at(world, lat + 1.5 * KM, lng)
    staff = await world.socket(await world.admin_user())
    customer = await world.customer()
    slot = datetime.now(UTC) + timedelta(seconds=20)
    order = await world.order(
        customer, lat=lat, lng=lng, dispatchMode="auto", scheduledAt=slot.isoformat()
    )
    oid = order["id"]
    await late_sock.wait_for("order.offer", orderId=oid)
    await late.api.ok("POST", f"/api/orders/{oid}/accept")
    reminder = await arrival(
        late_sock,
        "order.status",
        timeout=15,
        where=lambda e: e["detail"]["action"] == "slot_reminder",
    )
    assert reminder["detail"]["providerId"] == late.provider_id
    alert = await arrival(
        staff, "console.update", timeout=20, type="alert", kind="no_show", orderId=oid
    )
    assert alert["providerId"] == late.provider_id
    await other_sock.wait_for("order.offer", orderId=oid, timeout=15)
    back = await customer.api.ok("GET", f"/api/orders/{oid}")
    assert back["status"] == "pending" and back["providerId"] is None
    await customer.api.ok("POST", f"/api/orders/{oid}/cancel", {"reason": "done"})


async def test_a_batch_resumes_after_its_hosts_are_killed(world):
    lat, lng = 24.0, 111.0
    area = await world.area(lat, lng, half=0.2)
    await world.policy(area["id"], batch_size=1, batch_s=8, max_batches=3, strategy="nearest")
    _first, first_sock = await _provider_at(world, lat + 0.5 * KM, lng)
    second, second_sock = await _provider_at(world, lat + 1.5 * KM, lng)
    customer = await world.customer()
    order = await world.order(customer, lat=lat, lng=lng, dispatchMode="auto")
    oid = order["id"]
    await first_sock.wait_for("order.offer", orderId=oid)
    admin = await world.admin()
    for host in (await admin.ok("GET", "/api/admin/hosts"))["items"]:
        os.kill(host["pid"], signal.SIGKILL)
    # Batch 1's time runs out on the restarted host; batch 2 goes to the next provider.
    await second_sock.wait_for("order.offer", orderId=oid, timeout=90)

    async def accepted() -> bool:
        r = await second.api.call("POST", f"/api/orders/{oid}/accept")
        return r.status_code == 200

    await until(accepted, "the second provider's accept", timeout=30, interval=0.5)
    steps = await _steps(customer, oid)
    assert [(s["stage"], s["batch"]) for s in steps] == [("batches", 1), ("batches", 2)]
    assert len(first_sock.of("order.offer", orderId=oid)) == 1
    done = await customer.api.ok("GET", f"/api/orders/{oid}")
    assert done["providerId"] == second.provider_id
    await customer.api.ok("POST", f"/api/orders/{oid}/cancel", {"reason": "done"})


async def test_a_new_review_moves_the_rating_dispatch_scores_with(world):
    lat, lng = 24.5, 111.0
    area = await world.area(lat, lng, half=0.2)
    await world.policy(area["id"], batch_size=1, batch_s=30)
    provider, sock = await _provider_at(world, lat + 0.5 * KM, lng)
    customer = await world.customer()
    first = await world.order(customer, lat=lat, lng=lng, dispatchMode="auto")
    await sock.wait_for("order.offer", orderId=first["id"])
    for action in ("accept", "depart", "arrive", "start", "complete"):
        await provider.api.ok("POST", f"/api/orders/{first['id']}/{action}")
    review = {"rating": 1, "serviceRating": 1, "qualityRating": 1, "speedRating": 1}
    await customer.api.ok("POST", f"/api/orders/{first['id']}/review", review, status=201)
    page = await customer.api.ok("GET", f"/api/providers/{provider.provider_id}/reviews")
    rating = page["summary"]["rating"]
    assert rating < 4.5  # the prior, before the review
    second = await world.order(customer, lat=lat, lng=lng, dispatchMode="auto")
    await sock.wait_for("order.offer", orderId=second["id"])
    [decision] = (await _why(world, second["id"]))["items"]
    [mine] = decision["explanation"]["candidates"]
    weight = (await _why(world, second["id"]))["policy"]["weights"]["rating"]
    assert mine["parts"]["rating"] == round(weight * (rating - 1) / 4, 4)
    await customer.api.ok("POST", f"/api/orders/{second['id']}/cancel", {"reason": "done"})
