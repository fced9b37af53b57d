"""CONTRACT §12 at prepay: a refused coupon names why; one coupon raced through two prepays pays
once; it is locked while its payment is open, used when paid, usable again when the payment
fails, and back after a full refund when its template says so; the platform pays the
discount, so the provider earns on the whole price and the ledger still sums to 0."""

from __future__ import annotations

import asyncio

from db import rows
from test_coupons import counts, template, when
from test_payments import cashier
from test_refunds import ledger_of, ledger_total
from waiting import until

LAT, LNG = 20.09, 110.37  # away from the other tests' providers


async def completed_orders(world, n: int, service: dict) -> tuple:
    """One customer's `n` orders of `service`, each walked to `completed` by one provider."""
    customer, provider = await world.customer(), await world.provider()
    sock = await world.socket(provider)
    assert (await sock.call("provider.online", {"lat": LAT, "lng": LNG}))["ok"]
    orders = []
    for _ in range(n):
        order = await world.order(customer, lat=LAT, lng=LNG, serviceId=service["id"])
        await sock.wait_for("order.offer", orderId=order["id"])
        assert (await sock.call("order.grab", {"orderId": order["id"]}))["ok"]
        for action in ("depart", "arrive", "start", "complete"):
            order = await provider.api.ok("POST", f"/api/orders/{order['id']}/{action}")
        orders.append(order)
    assert (await sock.call("provider.offline"))["ok"]
    return customer, provider, orders


async def claimed(world, customer, **fields) -> dict:
    made = await template(world, **fields)
    got = await customer.api.ok("POST", f"/api/coupons/{made['id']}/claim", status=201)
    return {**got, "template": made}


async def pay(customer, sandbox, order_id: int, coupon_id=None, outcome="success") -> dict:
    body = {"orderId": order_id} | ({"couponId": coupon_id} if coupon_id else {})
    prepay = await customer.api.ok("POST", "/api/payments", body, status=201)
    await cashier(sandbox, prepay["paymentParams"], outcome)
    ended = "paid" if outcome == "success" else "failed"

    async def done():
        got = await customer.api.ok("GET", f"/api/payments/{prepay['paymentId']}")
        return got["status"] == ended and got

    await until(done, timeout=30, what=f"payment {prepay['paymentId']} {ended}")
    return prepay


async def coupon_status(customer, coupon_id: int) -> str:
    mine = await customer.api.ok("GET", "/api/me/coupons?limit=100")
    return next(c["status"] for c in mine["items"] if c["id"] == coupon_id)


def provider_net(payment_id: int) -> int:
    """What the provider's account got from a payment (its cash and its coupon postings)."""
    found = rows(
        "SELECT COALESCE(SUM(amount), 0) FROM ledger_entries"
        " WHERE payment_id = %s AND account = 'provider'",
        (payment_id,),
    )
    return int(found[0][0])


async def test_coupons_at_prepay(world, sandbox):
    services = await world.ensure_catalog()
    service, other = services[0], services[1]
    admin = await world.admin()
    customer, _, (first, second, third) = await completed_orders(world, 3, service)
    price = first["price"]["final"]
    assert price > 2000 and second["price"]["final"] == price

    # Refused, each with its own code; nothing is opened.
    expired = await claimed(world, customer, validTo=when(4), validDays=None)
    paused = await claimed(world, customer)
    wrong = await claimed(world, customer, serviceIds=[other["id"]])
    high = await claimed(world, customer, threshold=price + 1)
    await admin.ok("PATCH", f"/api/admin/coupons/{paused['templateId']}", {"status": "paused"})
    await until(lambda: _expired(customer, expired["id"]), timeout=15, what="a coupon expired")
    for coupon, code in (
        (expired, "coupon_expired"),
        (paused, "coupon_paused"),
        (wrong, "coupon_not_applicable"),
        (high, "below_threshold"),
    ):
        r = await customer.api.call(
            "POST", "/api/payments", {"orderId": first["id"], "couponId": coupon["id"]}
        )
        assert (r.status_code, r.json()["error"]["code"]) == (409, code), r.text
    stranger = await world.customer()
    r = await stranger.api.call(
        "POST", "/api/payments", {"orderId": first["id"], "couponId": high["id"]}
    )
    assert r.status_code == 404
    assert rows("SELECT COUNT(*) FROM payments WHERE order_id = %s", (first["id"],))[0][0] == 0

    # The best usable coupon is suggested: 30 yuan off beats 10 yuan off.
    small = await claimed(world, customer, amountOff=1000, threshold=price)
    big = await claimed(world, customer, amountOff=3000, returnOnRefund=True)
    offer = await customer.api.ok("GET", f"/api/orders/{first['id']}/coupons")
    assert (offer["kind"], offer["amount"], offer["payable"]) == ("full", price, True)
    assert offer["suggested"] == {"couponId": big["id"], "discount": 3000, "amount": price - 3000}
    usable = {i["coupon"]["id"] for i in offer["items"] if i["usable"]}
    assert {small["id"], big["id"]} <= usable and wrong["id"] not in usable

    # One coupon, two prepays at once for two orders: one payment has it.
    body = [{"orderId": o["id"], "couponId": big["id"]} for o in (first, second)]
    answers = await asyncio.gather(*(customer.api.call("POST", "/api/payments", b) for b in body))
    won = [r.json() for r in answers if r.status_code == 201]
    lost = [r.json()["error"]["code"] for r in answers if r.status_code != 201]
    assert len(won) == 1 and lost == ["coupon_in_use"], [r.text for r in answers]
    winner = won[0]
    assert winner["discount"] == 3000 and winner["amount"] == price - 3000
    assert await coupon_status(customer, big["id"]) == "locked"
    won_order = winner_order(first, second, winner)
    loser_order = second if won_order is first else first
    await cashier(sandbox, winner["paymentParams"])

    async def used():
        return await coupon_status(customer, big["id"]) == "used"

    await until(used, timeout=30, what="the coupon used once its payment is paid")
    assert (
        rows(
            "SELECT COUNT(*) FROM user_coupons WHERE payment_id IS NOT NULL AND id = %s",
            (big["id"],),
        )[0][0]
        == 1
    )
    # The loser pays: a failed payment gives its coupon back, then it pays in full.
    failed = await pay(customer, sandbox, loser_order["id"], small["id"], outcome="fail")
    assert failed["discount"] == 1000
    assert await coupon_status(customer, small["id"]) == "usable"
    plain = await pay(customer, sandbox, loser_order["id"])
    assert plain["amount"] == price

    # Who pays: the provider earns on the whole price, the platform the discount.
    fee_rate = rows("SELECT fee_rate_bp FROM services WHERE id = %s", (service["id"],))[0][0]
    earned = price - (price * fee_rate + 5000) // 10000
    await until(
        lambda: provider_net(winner["paymentId"]) == earned,
        timeout=10,
        what="the discount posted",
    )
    assert provider_net(plain["paymentId"]) == earned
    entries = ledger_of(winner["paymentId"])
    assert entries["platform_coupons"] == -3000 and entries["wechat_clearing"] == -(price - 3000)
    assert ledger_total() == 0
    stats = await counts(world, big["templateId"])
    assert (stats["used"], stats["cost"]) == (1, 3000)

    # A full refund gives the coupon back (the template says so) and undoes the discount.
    refund = {"reason": "客户投诉"}
    await admin.ok("POST", f"/api/orders/{won_order['id']}/refund", refund, status=201)

    async def back():
        return await coupon_status(customer, big["id"]) == "usable"

    await until(back, timeout=30, what="the coupon back after the refund")
    assert provider_net(winner["paymentId"]) == 0
    assert ledger_of(winner["paymentId"]).get("platform_coupons") == 0
    assert ledger_total() == 0
    assert (await counts(world, big["templateId"]))["cost"] == 0

    # A template that keeps its coupons: 20 % off (at most 25 yuan), refunded, still used.
    kept = await claimed(
        world,
        customer,
        kind="discount",
        amountOff=None,
        percentOff=20,
        maxOff=2500,
        returnOnRefund=False,
    )
    off = min(price * 20 // 100, 2500)
    paid = await pay(customer, sandbox, third["id"], kept["id"])
    assert (paid["discount"], paid["amount"]) == (off, price - off)
    await until(used_of(customer, kept["id"]), timeout=30, what="the kept coupon used")
    await admin.ok("POST", f"/api/orders/{third['id']}/refund", refund, status=201)

    async def refunded():
        got = await customer.api.ok("GET", f"/api/payments/{paid['paymentId']}")
        return got["status"] == "refunded"

    await until(refunded, timeout=30, what="the third order refunded")
    await until(lambda: provider_net(paid["paymentId"]) == 0, timeout=10, what="reversed")
    assert await coupon_status(customer, kept["id"]) == "used"
    assert ledger_total() == 0
    assert (await counts(world, kept["templateId"]))["cost"] == 0  # refunded: no cost


def used_of(customer, coupon_id: int):
    async def check() -> bool:
        return await coupon_status(customer, coupon_id) == "used"

    return check


async def _expired(customer, coupon_id: int) -> bool:
    return await coupon_status(customer, coupon_id) == "expired"


def winner_order(first: dict, second: dict, winner: dict) -> dict:
    found = rows("SELECT order_id FROM payments WHERE id = %s", (winner["paymentId"],))
    return first if found[0][0] == first["id"] else second
