"""CONTRACT §6 end to end: an order is paid through WeChat Pay v3 (the sandbox speaks its
protocol; the hub uses the real wechatpayv3 client), and a lost notification never leaves a
payment that WeChat recorded unpaid."""

from __future__ import annotations

import asyncio

import httpx
from waiting import arrival, until

LAT, LNG = 20.06, 110.34  # away from the other tests' providers


async def completed_order(world) -> tuple:
    """A customer's order walked to `completed` by a provider: (customer, provider, order)."""
    customer, provider = await world.customer(), await world.provider()
    sock = await world.socket(provider)
    assert (await sock.call("provider.online", {"lat": LAT, "lng": LNG}))["ok"]
    order = await world.order(customer, lat=LAT, lng=LNG)
    await sock.wait_for("order.offer", orderId=order["id"])
    assert (await sock.call("order.grab", {"orderId": order["id"]}))["ok"]
    for action in ("depart", "arrive", "start", "complete"):
        order = await provider.api.ok("POST", f"/api/orders/{order['id']}/{action}")
    assert (await sock.call("provider.offline"))["ok"]
    return customer, provider, order


async def cashier(sandbox: str, params: dict, outcome: str = "success") -> dict:
    """What the WeChat app does after wx.requestPayment (the sandbox's stand-in)."""
    async with httpx.AsyncClient(base_url=sandbox, timeout=60) as http:
        r = await http.post("/sandbox/pay/cashier", json={**params, "outcome": outcome})
    return r.json()


async def test_an_order_is_paid_after_the_service(world, sandbox):
    staff = await world.socket(await world.admin_user())
    customer, provider, order = await completed_order(world)
    oid = order["id"]
    assert order["paymentStatus"] == "unpaid"
    prepay = await customer.api.ok("POST", "/api/payments", {"orderId": oid}, status=201)
    params = prepay["paymentParams"]
    assert set(params) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert params["package"].startswith("prepay_id=") and params["signType"] == "RSA"
    assert prepay["kind"] == "full" and prepay["amount"] == order["price"]["final"]
    again = await customer.api.ok("POST", "/api/payments", {"orderId": oid}, status=200)
    assert again["paymentId"] == prepay["paymentId"]  # no second prepay while it is open
    other = await world.customer()
    r = await other.api.call("POST", "/api/payments", {"orderId": oid})
    assert r.status_code == 404
    r = await provider.api.call("POST", "/api/payments", {"orderId": oid})
    assert r.status_code == 403

    await cashier(sandbox, params)
    await arrival(
        staff,
        "console.update",
        timeout=60,
        where=lambda d: d["payment"]["status"] == "paid",
        what="the payment, paid, on the staff console",
        type="payment",
        orderId=oid,
    )
    payment = await customer.api.ok("GET", f"/api/payments/{prepay['paymentId']}")
    assert payment["status"] == "paid" and payment["transactionId"]
    assert (await customer.api.ok("GET", f"/api/orders/{oid}"))["paymentStatus"] == "paid"
    timeline = await customer.api.ok("GET", f"/api/orders/{oid}/timeline")
    moves = [e["detail"]["action"] for e in timeline["items"]]
    assert moves[-2:] == ["payment_opened", "paid"]
    r = await customer.api.call("POST", "/api/payments", {"orderId": oid})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "already_paid")
    r = await other.api.call("GET", f"/api/payments/{prepay['paymentId']}")
    assert r.status_code == 404


async def test_nothing_is_due_before_the_service(world):
    customer = await world.customer()
    order = await world.order(customer, lat=LAT, lng=LNG)
    r = await customer.api.call("POST", "/api/payments", {"orderId": order["id"]})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "not_payable_yet")
    await customer.api.ok("POST", f"/api/orders/{order['id']}/cancel", {"reason": "test"})


async def test_a_payment_whose_notification_is_lost_is_paid_by_query(world, sandbox):
    customer, _, order = await completed_order(world)
    prepay = await customer.api.ok("POST", "/api/payments", {"orderId": order["id"]}, status=201)
    async with httpx.AsyncClient(base_url=sandbox, timeout=30) as http:
        r = await http.post(
            "/sandbox/pay/faults", json={"trades": {prepay["outTradeNo"]: {"lost": True}}}
        )
        assert r.status_code in (200, 204), r.text
    await cashier(sandbox, prepay["paymentParams"])

    async def paid() -> bool:
        got = await customer.api.ok("GET", f"/api/orders/{order['id']}")
        return got["paymentStatus"] == "paid"

    await until(paid, timeout=60, what="the payment found paid by the hub's own queries")


async def test_two_racing_prepays_make_one_payment(world):
    customer, _, order = await completed_order(world)
    body = {"orderId": order["id"]}
    answers = await asyncio.gather(
        *[customer.api.call("POST", "/api/payments", body) for _ in range(5)]
    )
    assert all(r.status_code in (200, 201) for r in answers), [r.text for r in answers]
    assert len({r.json()["paymentId"] for r in answers}) == 1
    listed = await customer.api.ok("GET", f"/api/orders/{order['id']}/payments")
    assert len(listed["items"]) == 1
