"""CONTRACT §6 refunds: staff give money back; asked twice, WeChat refunds once; never more
than was paid; the refund's end (notification or query) moves the order's paymentStatus."""

from __future__ import annotations

import asyncio

import httpx
from db import rows
from test_payments import cashier, completed_order
from waiting import until


async def paid_order(world, sandbox) -> tuple:
    customer, _, order = await completed_order(world)
    prepay = await customer.api.ok("POST", "/api/payments", {"orderId": order["id"]}, status=201)
    await cashier(sandbox, prepay["paymentParams"])

    async def paid() -> bool:
        got = await customer.api.ok("GET", f"/api/payments/{prepay['paymentId']}")
        return got["status"] == "paid"

    await until(paid, timeout=30, what="the payment paid")
    return customer, order, prepay


async def wechat_refunds(sandbox: str, out_trade_no: str) -> list[dict]:
    async with httpx.AsyncClient(base_url=sandbox, timeout=30) as http:
        r = await http.get("/sandbox/pay/trades", params={"out_trade_no": out_trade_no})
    return r.json()["trades"][0]["refunds"]


async def test_a_refund_asked_twice_refunds_once(world, sandbox):
    customer, order, prepay = await paid_order(world, sandbox)
    admin = await world.admin()
    path = f"/api/orders/{order['id']}/refund"
    first, second = await asyncio.gather(
        admin.call("POST", path, {"reason": "客户投诉"}),
        admin.call("POST", path, {"reason": "客户投诉"}),
    )
    assert sorted([first.status_code, second.status_code])[0] in (200, 201), first.text
    refunded = {r.json()["refund"]["outRefundNo"] for r in (first, second) if r.status_code < 300}
    assert len(refunded) == 1, [first.text, second.text]
    for r in (first, second):
        if r.status_code >= 300:  # the one that lost the race: nothing left to refund
            assert r.json()["error"]["code"] in ("above_refundable", "not_refundable"), r.text

    async def refunded_in_hub() -> bool:
        got = await customer.api.ok("GET", f"/api/orders/{order['id']}")
        return got["paymentStatus"] == "refunded"

    await until(refunded_in_hub, timeout=30, what="the order refunded")
    at_wechat = await wechat_refunds(sandbox, prepay["outTradeNo"])
    assert len(at_wechat) == 1 and at_wechat[0]["amount"]["refund"] == prepay["amount"]
    payment = await customer.api.ok("GET", f"/api/payments/{prepay['paymentId']}")
    assert payment["status"] == "refunded" and payment["refundedAmount"] == prepay["amount"]
    assert [r["status"] for r in payment["refunds"]] == ["success"]
    r = await admin.call("POST", path, {"reason": "again"})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "already_refunded")
    timeline = await customer.api.ok("GET", f"/api/orders/{order['id']}/timeline")
    actions = [e["detail"]["action"] for e in timeline["items"]]
    assert actions.count("refund_requested") == 1 and actions.count("refunded") == 1
    entries = ledger_of(prepay["paymentId"])
    assert sum(entries.values()) == 0 and entries["wechat_clearing"] == 0, entries
    assert ledger_total() == 0


async def test_partial_refunds_never_exceed_the_payment(world, sandbox):
    customer, order, prepay = await paid_order(world, sandbox)
    admin = await world.admin()
    path = f"/api/orders/{order['id']}/refund"
    part = prepay["amount"] // 2
    await admin.ok("POST", path, {"reason": "部分退款", "amount": part}, status=201)
    r = await admin.call("POST", path, {"reason": "too much", "amount": prepay["amount"]})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "above_refundable")

    async def one_done() -> bool:
        got = await customer.api.ok("GET", f"/api/payments/{prepay['paymentId']}")
        return [x["status"] for x in got["refunds"]] == ["success"] and got

    payment = await until(one_done, timeout=30, what="the partial refund done")
    assert payment["status"] == "paid" and payment["refundedAmount"] == part
    assert (await customer.api.ok("GET", f"/api/orders/{order['id']}"))["paymentStatus"] == "paid"
    r = await customer.api.call("POST", path, {"reason": "mine"})
    assert r.status_code == 403
    entries = ledger_of(prepay["paymentId"])  # paid in, half given back
    assert entries["wechat_clearing"] == -(prepay["amount"] - part), entries
    assert ledger_total() == 0


def ledger_of(payment_id: int) -> dict[str, int]:
    """account → the sum of this payment's ledger entries (payment, refunds)."""
    found = rows(
        "SELECT account, SUM(amount) FROM ledger_entries WHERE payment_id = %s GROUP BY account",
        (payment_id,),
    )
    return {account: int(total) for account, total in found}


def ledger_total() -> int:
    return int(rows("SELECT COALESCE(SUM(amount), 0) FROM ledger_entries")[0][0])
