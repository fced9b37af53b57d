"""Timers that live in the actors: heartbeats, offer time-outs, expiry of untaken orders.
These run on a hub with its own database, so its hosts can have short timers."""

from __future__ import annotations

import asyncio

import pytest
from conftest import MYSQL_URL, REDIS_URL, World


@pytest.fixture(scope="module")
async def quick(hub_factory):
    hub = hub_factory(
        MYSQL_URL=MYSQL_URL + "_timers",
        REDIS_URL=REDIS_URL.rsplit("/", 1)[0] + "/11",
        HUB_HEARTBEAT_TIMEOUT_S=4,
        HUB_OFFER_TTL_S=3,
        HUB_ORDER_EXPIRY_S=8,
    )
    world = World(hub.url)
    yield world
    await world.close()


@pytest.mark.slow
async def test_silent_provider_goes_offline_and_gets_no_offers(quick):
    world = quick
    customer = await world.customer()
    alive, silent, busy = [await world.provider() for _ in range(3)]
    alive_sock = await world.socket(alive)
    alive_sock.heartbeat_s = 1
    silent_sock, busy_sock = await world.socket(silent), await world.socket(busy)
    for sock in (silent_sock, busy_sock):
        sock._beat.cancel()  # these two go quiet
    for sock in (alive_sock, silent_sock, busy_sock):
        assert (await sock.call("provider.online", {"lat": 20.03, "lng": 110.3}))["ok"]

    first = await world.order(customer)
    await busy_sock.wait_for("order.offer", orderId=first["id"])
    assert (await busy_sock.call("order.grab", {"orderId": first["id"]}))["ok"]
    staff = await world.socket(await world.admin_user())

    await asyncio.sleep(7)
    second = await world.order(customer)
    await alive_sock.wait_for("order.offer", orderId=second["id"])
    await asyncio.sleep(1)
    assert not silent_sock.of("order.offer", orderId=second["id"])
    me = await silent.api.ok("GET", "/api/me")
    assert me["provider"]["workStatus"] == "offline"
    alert = await staff.wait_for("console.update", type="alert", kind="provider_lost")
    assert alert["providerId"] == busy.provider_id and alert["orders"] == [first["id"]]
    await alive_sock.call("provider.offline")


@pytest.mark.slow
async def test_unanswered_direct_offer_returns_to_pending_with_an_alert(quick):
    world = quick
    customer = await world.customer()
    chosen = await world.provider()
    sock = await world.socket(chosen)
    sock.heartbeat_s = 1
    await sock.call("provider.online", {"lat": 20.03, "lng": 110.3})
    staff = await world.socket(await world.admin_user())
    order = await world.order(customer, dispatchMode="direct", providerId=chosen.provider_id)
    await sock.wait_for("order.offer", orderId=order["id"])
    alert = await staff.wait_for(
        "console.update", timeout=10, type="alert", kind="offer_unanswered", orderId=order["id"]
    )
    assert alert["providerId"] == chosen.provider_id
    await sock.wait_for("order.taken", orderId=order["id"])  # the offer is withdrawn
    back = await customer.api.ok("GET", f"/api/orders/{order['id']}")
    assert back["status"] == "pending"
    r = await chosen.api.call("POST", f"/api/orders/{order['id']}/accept")
    assert r.status_code == 404  # no longer theirs to accept
    await sock.call("provider.offline")


@pytest.mark.slow
async def test_order_nobody_takes_expires(quick):
    world = quick
    customer = await world.customer()
    watcher = await world.socket(customer)
    order = await world.order(customer)
    await watcher.call("order.watch", {"orderId": order["id"]})
    expired = await watcher.wait_for(
        "order.status", timeout=20, orderId=order["id"], status="expired"
    )
    assert expired["by"] == "system"
