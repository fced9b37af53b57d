"""WeChat Pay on a bad day (issue #9's "Must show"): 100 payments with lost, duplicate, late
(beyond 60 s) and failed notifications and payers who cancel; every payment WeChat recorded as
successful is paid in the hub and seen by staff within 60 s, each credited once. And forged,
mismatched or stale notifications are refused and change nothing."""

from __future__ import annotations

import asyncio
import time

import httpx
import orjson
from db import rows
from test_payments import cashier, completed_order
from waiting import until

from adapters.wechat_pay_keys import load_or_make
from sandbox.pay_crypto import Signer, encrypt_resource, nonce

LAT, LNG = 20.08, 110.36
WORKERS, EACH = 5, 20  # 100 orders, walked by 5 providers at once


async def _walk(world, n: int) -> list[tuple]:
    """`n` completed orders of one customer, done by one provider (direct dispatch)."""
    customer, provider = await world.customer(), await world.provider()
    sock = await world.socket(provider)
    assert (await sock.call("provider.online", {"lat": LAT, "lng": LNG}))["ok"]
    done = []
    for _ in range(n):
        order = await world.order(
            customer, lat=LAT, lng=LNG, dispatchMode="direct", providerId=provider.provider_id
        )
        for action in ("accept", "depart", "arrive", "start", "complete"):
            order = await provider.api.ok("POST", f"/api/orders/{order['id']}/{action}")
        done.append((customer, order))
    assert (await sock.call("provider.offline"))["ok"]
    return done


def _paid_details() -> list[dict]:
    return [
        orjson.loads(detail)
        for (detail,) in rows("SELECT detail FROM order_events WHERE action = 'paid'")
    ]


def _paid_via() -> dict[int, str]:
    """paymentId → how the hub learnt it was paid (detail.via of its `paid` event)."""
    return {d["paymentId"]: d.get("via", "") for d in _paid_details()}


def _paid_events() -> dict[int, int]:
    """paymentId → how many `paid` order events name it (straight from MySQL)."""
    counts: dict[int, int] = {}
    for d in _paid_details():
        counts[d["paymentId"]] = counts.get(d["paymentId"], 0) + 1
    return counts


async def test_a_hundred_payments_on_a_bad_day(world, sandbox):
    staff = await world.socket(await world.admin_user())
    walked = await asyncio.gather(*[_walk(world, EACH) for _ in range(WORKERS)])
    orders = [pair for batch in walked for pair in batch]
    prepays = [
        await customer.api.ok("POST", "/api/payments", {"orderId": order["id"]}, status=201)
        for customer, order in orders
    ]
    faults = {
        "seed": 9,
        "rates": {
            "lost": 0.10,
            "duplicate": 0.10,
            "late": {"rate": 0.05, "delay_s": 70},
            "pay_error": 0.02,
        },
    }
    async with httpx.AsyncClient(base_url=sandbox, timeout=30) as http:
        assert (await http.post("/sandbox/pay/faults", json=faults)).status_code == 200
    paid_at: dict[int, float] = {}
    try:
        for i, prepay in enumerate(prepays):
            outcome = "cancel" if i % 33 == 5 else "success"  # 3 payers change their mind
            await cashier(sandbox, prepay["paymentParams"], outcome)
            if outcome == "success":
                paid_at[prepay["paymentId"]] = time.monotonic()
        async with httpx.AsyncClient(base_url=sandbox, timeout=30) as http:
            trades = (await http.get("/sandbox/pay/trades")).json()["trades"]
    finally:
        async with httpx.AsyncClient(base_url=sandbox, timeout=30) as http:
            await http.delete("/sandbox/pay/faults")
    by_no = {p["outTradeNo"]: p["paymentId"] for p in prepays}
    states = {
        by_no[t["out_trade_no"]]: t["trade_state"] for t in trades if t["out_trade_no"] in by_no
    }
    succeeded = {p for p, state in states.items() if state == "SUCCESS"}
    assert len(succeeded) + sum(s == "PAYERROR" for s in states.values()) == 97

    first_seen: dict[int, float] = {}

    def all_seen() -> bool:
        for event, data in staff.events:
            if event == "console.update" and data.get("type") == "payment":
                if data["payment"]["status"] == "paid":
                    first_seen.setdefault(data["payment"]["id"], time.monotonic())
        return succeeded <= set(first_seen)

    await until(all_seen, timeout=60, interval=0.05, what="every successful payment on the console")
    slow = {
        p: round(first_seen[p] - paid_at[p], 1)
        for p in succeeded
        if first_seen[p] - paid_at[p] > 60
    }
    assert not slow, f"seen paid more than 60 s after the payer paid: {slow}"
    counts = _paid_events()
    assert {p: counts.get(p, 0) for p in succeeded} == dict.fromkeys(succeeded, 1)
    assert not set(counts) & (set(by_no.values()) - succeeded)  # nothing else credited
    async with httpx.AsyncClient(base_url=sandbox, timeout=30) as http:
        sent = (await http.get("/sandbox/pay/notifications")).json()["notifications"]
    duplicates = [
        n
        for n in sent
        if n["out_trade_no"] in by_no and n["duplicate"] and n["status"] in (200, 204)
    ]
    assert duplicates, "the run was meant to deliver duplicates, and they were answered 2xx"
    via = _paid_via()
    by_query = [p for p in succeeded if via[p].startswith("query")]
    assert by_query, "lost and late notifications were meant to be made up by the hub's queries"


async def _open_payment(world):
    """An open payment (prepaid, not paid at WeChat) of a completed order."""
    customer, _, order = await completed_order(world)
    prepay = await customer.api.ok("POST", "/api/payments", {"orderId": order["id"]}, status=201)
    return customer, order, prepay


def _notification(keys, trade: dict, stamp: int | None = None, forged: bool = False):
    """A TRANSACTION.SUCCESS notification as WeChat Pay sends it: (headers, body)."""
    resource = encrypt_resource(keys.apiv3_key, orjson.dumps(trade).decode(), "transaction")
    body = orjson.dumps(
        {
            "id": nonce(),
            "create_time": "2026-11-29T12:00:00+08:00",
            "event_type": "TRANSACTION.SUCCESS",
            "resource_type": "encrypt-resource",
            "summary": "支付成功",
            "resource": resource,
        }
    )
    return Signer(keys).headers(body, timestamp=stamp, forged=forged), body


async def test_forged_mismatched_and_stale_notifications_change_nothing(world, hub):
    keys = load_or_make(hub.env["ORDERHUB_STATE_DIR"])
    customer, order, prepay = await _open_payment(world)
    genuine = {
        "appid": hub.env.get("WECHAT_APPID", "wx5a4d0c0ffee0hub1"),
        "mchid": keys.mchid,
        "out_trade_no": prepay["outTradeNo"],
        "transaction_id": "4200000000" + nonce(10),
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "success_time": "2026-11-29T12:00:00+08:00",
        "amount": {"total": prepay["amount"], "payer_total": prepay["amount"], "currency": "CNY"},
        "payer": {"openid": "o-someone"},
    }
    cases = {
        "forged signature": _notification(keys, genuine, forged=True),
        "wrong amount": _notification(keys, {**genuine, "amount": {"total": prepay["amount"] + 1}}),
        "wrong mchid": _notification(keys, {**genuine, "mchid": "1900000999"}),
        "wrong appid": _notification(keys, {**genuine, "appid": "wx00000000000000ff"}),
        "stale timestamp": _notification(keys, genuine, stamp=int(time.time()) - 600),
    }
    async with httpx.AsyncClient(base_url=hub.url, timeout=30) as http:
        for what, (headers, body) in cases.items():
            r = await http.post("/api/payments/wechat/notify", content=body, headers=headers)
            assert 400 <= r.status_code < 500 and r.json()["code"] == "FAIL", (what, r.text)
    got = await customer.api.ok("GET", f"/api/orders/{order['id']}")
    assert got["paymentStatus"] == "paying"
    assert _paid_events().get(prepay["paymentId"]) is None
