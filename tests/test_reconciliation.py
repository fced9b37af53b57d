"""The daily reconciliation: WeChat Pay's trade bill parsed (a bill written by hand in the layout
WeChat documents), compared with the hub's books, and end to end against the sandbox: orders
paid through WeChat Pay, the bill told to leave one out, change one and add one the hub never
had; each is listed, the clean one is not."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from waiting import until

from adapters.clock import utcnow
from adapters.reconciliation import Bill, BillError, BillLine, china_day, compare, fen, parse_bill
from hub.app import ROUTERS
from hub.routes import reconciliation

HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
    "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
    "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
    "费率备注"
)
PAY_1 = (
    "`2025-01-31 09:15:02,`wx5a4d0c0ffee0hub1,`1900000109,`0,`,`4200001234202501311234567890,"
    "`OH12FA1B2C3D4E5F6,`o-abc,`JSAPI,`SUCCESS,`OTHERS,`CNY,`128.00,`0.00,`0,`0,`0.00,`0.00,"
    "`,`,`上门服务 OH2025013100001,`,`0.76800,`0.60%,`128.00,`0.00,`"
)
PAY_2 = (  # a comma in the product name, and a cent
    "`2025-01-31 23:59:59,`wx5a4d0c0ffee0hub1,`1900000109,`0,`,`4200001234202501319999999999,"
    "`OH13BFFFF00001111,`o-def,`JSAPI,`SUCCESS,`OTHERS,`CNY,`0.01,`0.00,`0,`0,`0.00,`0.00,"
    "`,`,`空调维修, 加氟,`,`0.00006,`0.60%,`0.01,`0.00,`"
)
REFUND = (
    "`2025-01-31 12:00:00,`wx5a4d0c0ffee0hub1,`1900000109,`0,`,`4200001234202501301111111111,"
    "`OH9FAAAA00002222,`o-ghi,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`50300001234202501311,"
    "`RF9A1,`30.50,`0.00,`ORIGINAL,`SUCCESS,`上门服务 OH2025013000009,`,`-0.18300,`0.60%,"
    "`0.00,`30.50,`"
)
SUMMARY = (
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
)
TOTALS = "`3,`128.01,`30.50,`0.00,`0.58506,`128.01,`30.50"


def bill_text(*rows: str, totals: str = TOTALS) -> str:
    return "\r\n".join([HEADER, *rows, SUMMARY, totals]) + "\r\n"


def test_a_bill_in_wechats_layout_is_read():
    raw = ("\ufeff" + bill_text(PAY_1, REFUND, PAY_2)).encode()
    bill = parse_bill(raw)
    assert bill.lines == [
        BillLine("payment", "OH12FA1B2C3D4E5F6", 12800, None, "SUCCESS", "2025-01-31 09:15:02"),
        BillLine("refund", "OH9FAAAA00002222", 3050, "RF9A1", "REFUND", "2025-01-31 12:00:00"),
        BillLine("payment", "OH13BFFFF00001111", 1, None, "SUCCESS", "2025-01-31 23:59:59"),
    ]
    assert bill.summary["总交易单数"] == "3" and bill.summary["退款总金额"] == "30.50"
    assert parse_bill(bill_text(PAY_1, REFUND, PAY_2).replace("\r\n", "\n")).lines == bill.lines
    assert parse_bill(bill_text(PAY_1, REFUND, PAY_2).encode("gb18030")).lines == bill.lines


def test_an_empty_or_broken_bill():
    assert parse_bill(b"") == Bill() and parse_bill("\r\n\r\n") == Bill()
    assert parse_bill(bill_text(totals="`0,`0.00,`0.00,`0.00,`0.00000,`0.00,`0.00")) == Bill(
        [],
        dict(zip(SUMMARY.split(","), ["0", *["0.00"] * 3, "0.00000", "0.00", "0.00"], strict=True)),
    )
    broken = {
        "cut short": "\r\n".join([HEADER, PAY_1]),
        "a line lost": bill_text(PAY_1, PAY_2),
        "no header": "\r\n".join([PAY_1, SUMMARY, TOTALS]),
        "no backticks": bill_text(PAY_1.replace("`", "")),
        "a field missing": bill_text(PAY_1.rsplit(",", 1)[0], REFUND, PAY_2),
        "a bad amount": bill_text(PAY_1.replace("`128.00", "`12x.00"), REFUND, PAY_2),
        "summary without line": "\r\n".join([HEADER, PAY_1, SUMMARY]),
    }
    for what, text in broken.items():
        with pytest.raises(BillError):
            parse_bill(text)
            pytest.fail(f"{what} was read")


def test_amounts_and_days():
    assert [fen(t) for t in ("0.01", "128.00", "1,024.50", "¥5", "", "-0.50")] == [
        1, 12800, 102450, 500, 0, -50
    ]  # fmt: skip
    with pytest.raises(BillError):
        fen("0.001")
    assert china_day("2025-01-31") == (datetime(2025, 1, 30, 16), datetime(2025, 1, 31, 16))
    with pytest.raises(ValueError):
        china_day("2025-02-30")


def test_compare_lists_every_difference():
    bill = parse_bill(bill_text(PAY_1, REFUND, PAY_2))
    payments = [
        {"out_trade_no": "OH12FA1B2C3D4E5F6", "amount": 12800},
        {"out_trade_no": "OH13BFFFF00001111", "amount": 1},
    ]
    refunds = [{"out_refund_no": "RF9A1", "out_trade_no": "OH9FAAAA00002222", "amount": 3050}]
    clean = compare("2025-01-31", payments, refunds, bill)
    assert clean == {
        "date": "2025-01-31",
        "wechatBill": True,
        "hubCount": 2,
        "wechatCount": 2,
        "hubTotal": 12801,
        "wechatTotal": 12801,
        "hubRefundCount": 1,
        "wechatRefundCount": 1,
        "hubRefundTotal": 3050,
        "wechatRefundTotal": 3050,
        "mismatches": [],
    }
    hub_only = {"out_trade_no": "OHHUBONLY", "amount": 5}
    changed = {"out_trade_no": "OH13BFFFF00001111", "amount": 2}
    report = compare("2025-01-31", [payments[0], changed, hub_only], [], bill)
    assert report["mismatches"] == [
        {"type": "payment", "outTradeNo": "OH13BFFFF00001111", "outRefundNo": None,
         "kind": "amount_differs", "hub": 2, "wechat": 1},
        {"type": "payment", "outTradeNo": "OHHUBONLY", "outRefundNo": None,
         "kind": "missing_in_wechat", "hub": 5, "wechat": None},
        {"type": "refund", "outTradeNo": "OH9FAAAA00002222", "outRefundNo": "RF9A1",
         "kind": "missing_in_hub", "hub": None, "wechat": 3050},
    ]  # fmt: skip
    twice = compare(
        "2025-01-31",
        payments,
        refunds,
        parse_bill(
            bill_text(
                PAY_1,
                PAY_1,
                REFUND,
                PAY_2,
                totals="`4,`256.01,`30.50,`0.00,`1.35306,`256.01,`30.50",
            )
        ),
    )
    assert [(m["outTradeNo"], m["kind"], m["hub"], m["wechat"]) for m in twice["mismatches"]] == [
        ("OH12FA1B2C3D4E5F6", "amount_differs", 12800, 25600)
    ]


# --- end to end, against the WeChat Pay sandbox ----------------------------------------------

SANDBOX_PAY = Path(__file__).resolve().parents[1] / "sandbox" / "pay.py"
LAT, LNG = 20.14, 110.24  # far from the other tests' providers
e2e = pytest.mark.skipif(not SANDBOX_PAY.exists(), reason="the sandbox has no WeChat Pay yet")
mounted = pytest.mark.skipif(
    reconciliation.router not in ROUTERS,
    reason="hub/routes/reconciliation.py is not mounted yet (hub/app.py ROUTERS)",
)


async def _pay_orders(world, sandbox, faults: list[dict | None]) -> list[dict]:
    """One order per entry, done by one provider and paid through the sandbox's cashier, the
    bill faults of each entry set on its trade first; the payments, once the hub has them."""
    provider = await world.provider()
    sock = await world.socket(provider)
    assert (await sock.call("provider.online", {"lat": LAT, "lng": LNG}))["ok"]
    paid = []
    async with httpx.AsyncClient(base_url=sandbox, timeout=30) as wechat:
        for fault in faults:
            customer = await world.customer()
            oid = (await world.order(customer, lat=LAT, lng=LNG))["id"]
            await sock.wait_for("order.offer", orderId=oid)
            assert (await sock.call("order.grab", {"orderId": oid}))["ok"]
            for step in ("depart", "arrive", "start", "complete"):
                await provider.api.ok("POST", f"/api/orders/{oid}/{step}")
            pay = await customer.api.ok("POST", "/api/payments", {"orderId": oid}, status=201)
            if fault:
                spec = {"trades": {pay["outTradeNo"]: fault}}
                assert (await wechat.post("/sandbox/pay/faults", json=spec)).status_code < 300
            await wechat.post(
                "/sandbox/pay/cashier", json={**pay["paymentParams"], "outcome": "success"}
            )
            url = f"/api/payments/{pay['paymentId']}"

            async def settled(api=customer.api, url=url):
                got = await api.ok("GET", url)
                return got if got["status"] == "paid" else None

            paid.append(await until(settled, timeout=60, what=f"{url} paid"))
    assert (await sock.call("provider.offline"))["ok"]
    return paid


@e2e
@mounted
async def test_a_days_mismatches_are_listed(world, sandbox):
    clean, omitted, changed = await _pay_orders(
        world, sandbox, [None, {"bill_omit": True}, {"bill_amount": {"amount": 1}}]
    )
    paid_at = datetime.fromisoformat(clean["paidAt"].replace("Z", "+00:00"))
    date = (paid_at + timedelta(hours=8)).strftime("%Y-%m-%d")
    admin = await world.admin()
    refund = {"amount": 100, "reason": "a part of the work was not done"}
    await admin.ok("POST", f"/api/orders/{clean['orderId']}/refund", refund, status=201)
    ghost = f"GHOST{uuid.uuid4().hex[:12].upper()}"
    async with httpx.AsyncClient(base_url=sandbox, timeout=30) as wechat:
        spec = {"bill_extra": [{"out_trade_no": ghost, "amount": 777, "date": date}]}
        assert (await wechat.post("/sandbox/pay/faults", json=spec)).status_code < 300
    report = await admin.ok("GET", f"/api/admin/reconciliation?date={date}")
    mine = {
        m["outTradeNo"]: (m["kind"], m["hub"], m["wechat"])
        for m in report["mismatches"]
        if m["outTradeNo"]
        in (clean["outTradeNo"], omitted["outTradeNo"], changed["outTradeNo"], ghost)
    }
    assert mine == {
        omitted["outTradeNo"]: ("missing_in_wechat", omitted["amount"], None),
        changed["outTradeNo"]: ("amount_differs", changed["amount"], 1),
        ghost: ("missing_in_hub", None, 777),
    }
    assert report["wechatBill"] and report["date"] == date
    assert report["hubCount"] >= 3 and report["wechatCount"] >= 3
    assert report["hubRefundCount"] >= 1 and report["wechatRefundCount"] >= 1


@e2e
@mounted
async def test_a_day_without_a_bill_and_bad_days(world):
    admin = await world.admin()
    quiet = await admin.ok("GET", "/api/admin/reconciliation?date=2001-01-01")
    assert quiet["wechatBill"] is False and quiet["mismatches"] == []
    assert quiet["hubCount"] == quiet["wechatCount"] == 0
    later = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%d")
    for date in ("2025-02-30", "20250131", later, ""):
        r = await admin.call("GET", f"/api/admin/reconciliation?date={date}")
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", date
    provider = await world.provider()
    r = await provider.api.call("GET", "/api/admin/reconciliation?date=2001-01-01")
    assert r.status_code == 403
