"""Seed 001's 定金 + 尾款: an area may ask a deposit at order time and the balance after the
service; a cancel before the provider sets off gives the deposit back."""

from __future__ import annotations

from test_payments import cashier
from test_refunds import wechat_refunds
from waiting import until

LAT, LNG = 21.5, 109.5  # an area of this file's own
DEPOSIT = 3000


async def _pay(customer, sandbox, order_id: int, kind: str) -> dict:
    prepay = await customer.api.ok("POST", "/api/payments", {"orderId": order_id}, status=201)
    assert prepay["kind"] == kind, prepay
    await cashier(sandbox, prepay["paymentParams"])
    return prepay


async def _status(customer, order_id: int, wanted: str) -> None:
    async def reached() -> bool:
        got = await customer.api.ok("GET", f"/api/orders/{order_id}")
        return got["paymentStatus"] == wanted

    await until(reached, timeout=30, what=f"paymentStatus {wanted}")


async def test_deposit_then_balance(world, sandbox):
    await world.area(LAT, LNG, depositAmount=DEPOSIT)
    customer, provider = await world.customer(), await world.provider()
    sock = await world.socket(provider)
    assert (await sock.call("provider.online", {"lat": LAT, "lng": LNG}))["ok"]
    order = await world.order(
        customer, lat=LAT, lng=LNG, dispatchMode="direct", providerId=provider.provider_id
    )
    deposit = await _pay(customer, sandbox, order["id"], "deposit")
    assert deposit["amount"] == min(DEPOSIT, order["price"]["estimated"])
    await _status(customer, order["id"], "deposit_paid")
    for action in ("accept", "depart", "arrive"):
        await provider.api.ok("POST", f"/api/orders/{order['id']}/{action}")
    await provider.api.ok("POST", f"/api/orders/{order['id']}/quote", {"amount": 12000})
    await customer.api.ok("POST", f"/api/orders/{order['id']}/confirm-quote")
    await provider.api.ok("POST", f"/api/orders/{order['id']}/complete")
    balance = await _pay(customer, sandbox, order["id"], "balance")
    assert balance["amount"] == 12000 - deposit["amount"]
    await _status(customer, order["id"], "paid")
    assert (await sock.call("provider.offline"))["ok"]


async def test_a_cancel_before_departure_gives_the_deposit_back(world, sandbox):
    await world.area(LAT, LNG, depositAmount=DEPOSIT)
    customer = await world.customer()
    order = await world.order(customer, lat=LAT, lng=LNG)
    deposit = await _pay(customer, sandbox, order["id"], "deposit")
    await _status(customer, order["id"], "deposit_paid")
    await customer.api.ok("POST", f"/api/orders/{order['id']}/cancel", {"reason": "不需要了"})
    await _status(customer, order["id"], "refunded")
    refunds = await wechat_refunds(sandbox, deposit["outTradeNo"])
    assert [r["amount"]["refund"] for r in refunds] == [deposit["amount"]]
