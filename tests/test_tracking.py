"""Live tracking and the grab hall snapshot."""

from __future__ import annotations

from waiting import arrival


async def _online(world):
    user = await world.provider()
    sock = await world.socket(user)
    assert (await sock.call("provider.online", {"lat": 20.03, "lng": 110.3}))["ok"]
    return user, sock


async def _fix_handled(staff, provider, at: str, orders: list[int]) -> None:
    """Wait for the staff console's locations tick that shows `provider` at the fix `at`,
    holding `orders`: that tick's batch, and whatever it sent anyone, has been published."""

    def shows(update: dict) -> bool:
        return any(
            p["providerId"] == provider.provider_id and p["at"] == at and p["orders"] == orders
            for p in update["providers"]
        )

    what = f"showing provider {provider.provider_id} at {at} with orders {orders}"
    await arrival(staff, "console.update", type="locations", where=shows, what=what)


async def test_locations_reach_watchers_only_while_the_provider_is_on_the_way(world):
    customer = await world.customer()
    provider, psock = await _online(world)
    staff = await world.socket(await world.admin_user())
    order = await world.order(customer)
    oid = order["id"]
    watcher = await world.socket(customer)
    await watcher.call("order.watch", {"orderId": oid})
    await psock.wait_for("order.offer", orderId=oid)
    fix = {"lat": 20.0301, "lng": 110.3001, "at": "2026-11-21T08:00:00.123Z"}
    assert (await psock.call("location.update", fix))["ok"]  # pending: nobody to tell
    # Fixes travel in per-tick batches: the grab must come after this one was handled.
    await _fix_handled(staff, provider, fix["at"], [])
    assert (await psock.call("order.grab", {"orderId": oid}))["ok"]
    for i in range(3):
        at = f"2026-11-21T08:00:0{i + 1}.000Z"
        assert (await psock.call("location.update", {**fix, "lat": 20.031 + i * 1e-4, "at": at}))[
            "ok"
        ]
        got = await watcher.wait_for("provider.location", orderId=oid, at=at)
        assert got["providerId"] == provider.provider_id
        assert abs(got["lat"] - (20.031 + i * 1e-4)) < 1e-9
    # The later fixes have arrived: the pending one would have arrived before them.
    assert not watcher.of("provider.location", at=fix["at"])
    for action in ("depart", "arrive", "start", "complete"):
        await provider.api.ok("POST", f"/api/orders/{oid}/{action}")
    late = "2026-11-21T09:00:00.000Z"
    assert (await psock.call("location.update", {**fix, "at": late}))["ok"]
    await _fix_handled(staff, provider, late, [])
    # A chat message sent now reaches the watcher after anything that tick sent it.
    sent = await psock.call("chat.send", {"orderId": oid, "text": "谢谢", "clientMsgId": "bye"})
    assert sent["ok"], sent
    await arrival(watcher, "chat.message", orderId=oid, msgId=sent["msgId"])
    assert not watcher.of("provider.location", at=late)
    # A stranger's watch is refused, so a stranger never sees where the provider is.
    stranger = await world.socket(await world.customer())
    assert (await stranger.call("order.watch", {"orderId": oid}))["ok"] is False
    await psock.call("provider.offline")


async def test_hall_snapshot_shows_open_offers_to_a_reconnecting_provider(world):
    customer = await world.customer()
    provider, psock = await _online(world)
    _rival, rsock = await _online(world)
    order = await world.order(customer)
    oid = order["id"]
    await psock.wait_for("order.offer", orderId=oid)
    await psock.close()

    back = await world.socket(provider)
    snapshot = await back.call("hall.snapshot")
    offers = [o for o in snapshot["offers"] if o["orderId"] == oid]
    assert len(offers) == 1 and offers[0]["price"] == order["price"]["estimated"]
    assert "expiresAtTs" not in offers[0]

    await rsock.wait_for("order.offer", orderId=oid)
    assert (await rsock.call("order.grab", {"orderId": oid}))["ok"]
    await back.wait_for("order.taken", orderId=oid)
    snapshot = await back.call("hall.snapshot")
    assert oid not in [o["orderId"] for o in snapshot["offers"]]
    await customer.api.ok("POST", f"/api/orders/{oid}/cancel", {"reason": "test"})
    for sock in (back, rsock):
        await sock.call("provider.offline")
