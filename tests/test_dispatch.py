"""Direct, auto and staff-assigned dispatch; idempotent order creation; watch ownership."""

from __future__ import annotations

import uuid


async def _online(world, lat=20.03, lng=110.3):
    user = await world.provider()
    sock = await world.socket(user)
    assert (await sock.call("provider.online", {"lat": lat, "lng": lng}))["ok"]
    return user, sock


async def _offline(*socks) -> None:
    for sock in socks:
        assert (await sock.call("provider.offline"))["ok"]


async def _marker_offer(world, customer, sock, lat=20.03, lng=110.3) -> None:
    """A grab order near `sock`'s provider, offered to it, then cancelled: its offer is
    published after anything sent to that provider before, so once it has arrived, whatever
    an earlier order sent that provider has arrived too."""
    marker = await world.order(customer, lat=lat, lng=lng)
    await sock.wait_for("order.offer", orderId=marker["id"])
    await customer.api.ok("POST", f"/api/orders/{marker['id']}/cancel", {"reason": "marker"})


async def test_direct_order_offers_to_that_provider_who_accepts(world):
    customer = await world.customer()
    chosen, sock = await _online(world)
    bystander, other = await _online(world)
    order = await world.order(customer, dispatchMode="direct", providerId=chosen.provider_id)
    offer = await sock.wait_for("order.offer", orderId=order["id"])
    assert offer["dispatchMode"] == "direct" and offer["respond"] == "accept"
    r = await bystander.api.call("POST", f"/api/orders/{order['id']}/accept")
    assert r.status_code == 404
    accepted = await chosen.api.ok("POST", f"/api/orders/{order['id']}/accept")
    assert accepted["status"] == "accepted" and accepted["providerId"] == chosen.provider_id
    await _marker_offer(world, customer, other)
    assert not other.of("order.offer", orderId=order["id"])
    await customer.api.ok("POST", f"/api/orders/{order['id']}/cancel", {"reason": "done"})
    await _offline(sock, other)


async def test_auto_offers_nearest_first_then_the_next_on_decline(world):
    """One by one (batches of one): the nearest first, the next on a decline."""
    customer = await world.customer()
    area = await world.area(20.5, 110.5)
    await world.policy(area["id"], batch_size=1, strategy="nearest")
    near, near_sock = await _online(world, 20.50, 110.50)
    far, far_sock = await _online(world, 20.51, 110.50)
    order = await world.order(customer, lat=20.501, lng=110.5, dispatchMode="auto")
    await near_sock.wait_for("order.offer", orderId=order["id"])
    await _marker_offer(world, customer, far_sock, lat=20.501, lng=110.5)
    assert not far_sock.of("order.offer", orderId=order["id"])
    await near.api.ok("POST", f"/api/orders/{order['id']}/decline")
    await far_sock.wait_for("order.offer", orderId=order["id"])
    accepted = await far.api.ok("POST", f"/api/orders/{order['id']}/accept")
    assert accepted["providerId"] == far.provider_id
    timeline = await customer.api.ok("GET", f"/api/orders/{order['id']}/timeline")
    steps = [i["detail"]["action"] for i in timeline["items"]]
    assert steps == ["create", "dispatch", "decline", "dispatch", "accept"]
    await customer.api.ok("POST", f"/api/orders/{order['id']}/cancel", {"reason": "done"})
    await _offline(near_sock, far_sock)


async def test_staff_assign_offers_to_one_provider(world):
    customer = await world.customer()
    target, sock = await _online(world)
    order = await world.order(customer, dispatchMode="direct", providerId=target.provider_id)
    await sock.wait_for("order.offer", orderId=order["id"])
    await target.api.ok("POST", f"/api/orders/{order['id']}/decline")
    other, other_sock = await _online(world)
    admin = await world.admin()
    r = await customer.api.call(
        "POST", f"/api/orders/{order['id']}/assign", {"providerId": other.provider_id}
    )
    assert r.status_code == 403
    assigned = await admin.ok(
        "POST", f"/api/orders/{order['id']}/assign", {"providerId": other.provider_id}
    )
    assert assigned["status"] == "pending"
    await other_sock.wait_for("order.offer", orderId=order["id"])
    done = await other.api.ok("POST", f"/api/orders/{order['id']}/accept")
    assert done["providerId"] == other.provider_id
    await customer.api.ok("POST", f"/api/orders/{order['id']}/cancel", {"reason": "done"})
    await _offline(sock, other_sock)


async def test_idempotency_key_creates_one_order(world):
    customer = await world.customer()
    services = await world.ensure_catalog()
    body = {
        "serviceId": services[0]["id"],
        "address": "海口市龙华区",
        "lat": 20.03,
        "lng": 110.3,
        "contactName": "李先生",
        "contactPhone": "13900001111",
        "dispatchMode": "grab",
    }
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await customer.api.call("POST", "/api/orders", body, headers=key)
    again = await customer.api.call("POST", "/api/orders", body, headers=key)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    listed = await customer.api.ok("GET", "/api/orders")
    assert listed["total"] == 1
    stranger = await world.customer()
    mine = await stranger.api.call("POST", "/api/orders", body, headers=key)
    assert mine.status_code == 201 and mine.json()["id"] != first.json()["id"]


async def test_only_parties_can_watch_or_chat(world):
    customer = await world.customer()
    order = await world.order(customer)
    stranger = await world.customer()
    sock = await world.socket(stranger)
    ack = await sock.call("order.watch", {"orderId": order["id"], "afterSeq": 0})
    assert ack["ok"] is False and ack["error"]["code"] == "not_found"
    ack = await sock.call("chat.send", {"orderId": order["id"], "text": "hi", "clientMsgId": "x"})
    assert ack["ok"] is False and ack["error"]["code"] == "not_found"
    ack = await sock.call("order.watch", {"orderId": 10**9})
    assert ack["error"]["code"] == "not_found"
    staff = await world.socket(await world.admin_user())
    assert (await staff.call("order.watch", {"orderId": order["id"]}))["ok"]
    await customer.api.ok("POST", f"/api/orders/{order['id']}/cancel", {"reason": "test"})
