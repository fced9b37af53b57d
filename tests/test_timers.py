"""Timers that live in the actors: heartbeats, offer time-outs, expiry of untaken orders.
These run on a hub with its own database, so its hosts can have short timers."""

from __future__ import annotations

import httpx
import pytest
from conftest import MYSQL_URL, REDIS_URL, Socket, World
from waiting import arrival, until

EXPIRY_S = 15  # long enough for the first test's order to outlive a heartbeat time-out


@pytest.fixture(scope="module")
async def quick(hub_factory):
    hub = hub_factory(
        MYSQL_URL=MYSQL_URL + "_timers",
        REDIS_URL=REDIS_URL.rsplit("/", 1)[0] + "/11",
        HUB_HEARTBEAT_TIMEOUT_S=4,
        HUB_OFFER_TTL_S=3,
        HUB_ORDER_EXPIRY_S=EXPIRY_S,
        HUB_PAY_TTL_S=4,
    )
    world = World(hub.url)
    yield world
    await world.close()


async def _socket(world: World, user, heartbeat_s: float | None) -> Socket:
    """A socket that sends a heartbeat every `heartbeat_s` (None: never), closed with `world`."""
    sock = Socket(heartbeat_s=heartbeat_s)
    await sock.connect(world.base, user.token)
    world.clients.append(sock)
    return sock


async def _work_status(user) -> str:
    return (await user.api.ok("GET", "/api/me"))["provider"]["workStatus"]


async def _is_offline(user) -> bool:
    return await _work_status(user) == "offline"


@pytest.mark.slow
async def test_silent_provider_goes_offline_and_gets_no_offers(quick):
    world = quick
    customer = await world.customer()
    alive, silent, busy = [await world.provider() for _ in range(3)]
    alive_sock = await _socket(world, alive, heartbeat_s=1)
    silent_sock = await _socket(world, silent, heartbeat_s=None)  # these two go quiet
    busy_sock = await _socket(world, busy, heartbeat_s=None)
    for sock in (alive_sock, silent_sock, busy_sock):
        assert (await sock.call("provider.online", {"lat": 20.03, "lng": 110.3}))["ok"]

    first = await world.order(customer)
    await busy_sock.wait_for("order.offer", orderId=first["id"])
    assert (await busy_sock.call("order.grab", {"orderId": first["id"]}))["ok"]
    staff = await world.socket(await world.admin_user())
    # Offered to `silent` while it is still online; withdrawn later, as a marker.
    bait = await world.order(customer)
    await silent_sock.wait_for("order.offer", orderId=bait["id"])

    went = f"provider {silent.provider_id} offline after missing heartbeats"
    await until(lambda: _is_offline(silent), went, timeout=20, interval=0.5)
    alert = await arrival(
        staff, "console.update", type="alert", kind="provider_lost", providerId=busy.provider_id
    )
    assert alert["orders"] == [first["id"]]
    assert await _work_status(alive) == "online"

    second = await world.order(customer)
    await alive_sock.wait_for("order.offer", orderId=second["id"])
    # Published after any offer of `second` to `silent` would have been, on the same channel:
    # once it has arrived, such an offer would have arrived too.
    await customer.api.ok("POST", f"/api/orders/{bait['id']}/cancel", {"reason": "marker"})
    await arrival(silent_sock, "order.taken", orderId=bait["id"])
    assert not silent_sock.of("order.offer", orderId=second["id"])
    await alive_sock.call("provider.offline")


@pytest.mark.slow
async def test_unanswered_direct_offer_returns_to_pending_with_an_alert(quick):
    world = quick
    customer = await world.customer()
    chosen = await world.provider()
    sock = await _socket(world, chosen, heartbeat_s=1)
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
    expired = await arrival(
        watcher, "order.status", timeout=EXPIRY_S + 15, orderId=order["id"], status="expired"
    )
    assert expired["by"] == "system"


async def test_an_unpaid_prepay_is_closed_at_wechat_then_here(quick, sandbox):
    from test_payments import completed_order

    customer, _, order = await completed_order(quick)
    prepay = await customer.api.ok("POST", "/api/payments", {"orderId": order["id"]}, status=201)

    async def closed() -> bool:
        got = await customer.api.ok("GET", f"/api/payments/{prepay['paymentId']}")
        return got["status"] == "closed"

    await until(closed, timeout=30, what="the expired prepay closed")
    async with httpx.AsyncClient(base_url=sandbox, timeout=30) as http:
        r = await http.get("/sandbox/pay/trades", params={"out_trade_no": prepay["outTradeNo"]})
    assert r.json()["trades"][0]["trade_state"] == "CLOSED"  # closed at WeChat, first
    got = await customer.api.ok("GET", f"/api/orders/{order['id']}")
    assert got["paymentStatus"] == "unpaid"
    again = await customer.api.ok("POST", "/api/payments", {"orderId": order["id"]}, status=201)
    assert again["paymentId"] != prepay["paymentId"]  # a new prepay, a new trade
