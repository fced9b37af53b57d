"""CONTRACT §5's newer rules, end to end: a provider hands an accepted order back with
`decline {reason}` before arriving and it goes back to dispatch; a grab that loses says why."""

from __future__ import annotations

import asyncio

# Far from the other tests' providers (20.03, 110.3): only this file's providers get offers.
LAT, LNG = 19.95, 110.45


async def _online(world):
    user = await world.provider()
    sock = await world.socket(user)
    assert (await sock.call("provider.online", {"lat": LAT, "lng": LNG}))["ok"]
    return user, sock


async def _more(sock, event: str, than: int, timeout: float = 15, **match) -> None:
    """Wait until `sock` holds more than `than` such events."""
    deadline = asyncio.get_running_loop().time() + timeout
    while len(sock.of(event, **match)) <= than:
        assert asyncio.get_running_loop().time() < deadline, f"no new {event} {match}"
        await asyncio.sleep(0.05)


async def test_a_handed_back_grab_order_is_offered_again_to_the_others(world):
    customer = await world.customer()
    (first, first_sock), (second, second_sock) = await _online(world), await _online(world)
    order = await world.order(customer, lat=LAT, lng=LNG)
    oid = order["id"]
    await first_sock.wait_for("order.offer", orderId=oid)
    await second_sock.wait_for("order.offer", orderId=oid)
    await first.api.ok("POST", f"/api/orders/{oid}/grab")
    await first.api.ok("POST", f"/api/orders/{oid}/depart")
    await second_sock.wait_for("order.taken", orderId=oid)
    offers_before = len(first_sock.of("order.offer", orderId=oid))
    second_before = len(second_sock.of("order.offer", orderId=oid))

    back = await first.api.ok("POST", f"/api/orders/{oid}/decline", {"reason": "车坏了"})
    assert back["status"] == "pending" and back["providerId"] is None

    await _more(second_sock, "order.offer", second_before, orderId=oid)
    taken = await second.api.ok("POST", f"/api/orders/{oid}/grab")
    assert taken["providerId"] == second.provider_id
    # The offer round after the hand-back went out before the grab: the one who gave it back
    # was not in it.
    assert len(first_sock.of("order.offer", orderId=oid)) == offers_before
    timeline = await customer.api.ok("GET", f"/api/orders/{oid}/timeline")
    actions = [(e["detail"]["action"], e["status"]) for e in timeline["items"]]
    assert actions == [  # each grab window opens with a dispatch step (CONTRACT §10)
        ("create", "pending"),
        ("dispatch", "pending"),
        ("grab", "accepted"),
        ("depart", "departed"),
        ("decline", "pending"),
        ("dispatch", "pending"),
        ("grab", "accepted"),
    ]
    assert timeline["items"][4]["detail"] == {
        "action": "decline",
        "providerId": first.provider_id,
        "reason": "车坏了",
    }
    r = await first.api.call("POST", f"/api/orders/{oid}/arrive")
    assert r.status_code == 404  # no longer theirs
    await customer.api.ok("POST", f"/api/orders/{oid}/cancel", {"reason": "done"})
    for sock in (first_sock, second_sock):
        await sock.call("provider.offline")


async def test_a_grab_on_an_ended_order_says_how_it_ended(world):
    customer = await world.customer()
    provider, sock = await _online(world)
    order = await world.order(customer, lat=LAT, lng=LNG)
    await sock.wait_for("order.offer", orderId=order["id"])
    await customer.api.ok("POST", f"/api/orders/{order['id']}/cancel", {"reason": "changed"})
    lost = await sock.call("order.grab", {"orderId": order["id"]})
    assert lost["ok"] is False and lost["error"]["code"] == "order_cancelled"
    r = await provider.api.call("POST", f"/api/orders/{order['id']}/grab")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "order_cancelled")
    await sock.call("provider.offline")
