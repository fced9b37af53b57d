"""The WeChat Pay sandbox's faults, each doing what it says, and WeChat's retry schedule.

The receiver judges notifications as a careful merchant would (the real client verifies and
decrypts; then timestamp, appid, mchid and amount are checked) and answers 4xx to a bad one,
which WeChat retries."""

from __future__ import annotations

import itertools
import json
import time
from datetime import datetime

import httpx
import pytest
from conftest import free_port
from test_pay_sandbox_kit import APPID, PaySandbox, Received, pay_client, running_sandbox
from waiting import until

from sandbox.pay_faults import Faults, from_env
from sandbox.pay_ledger import CHINA
from sandbox.pay_notify import RETRY_SCHEDULE_S


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("pay-state")


@pytest.fixture(scope="module")
async def pay(state_dir):
    async with running_sandbox(state_dir) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
async def no_faults(pay: PaySandbox):
    yield
    await pay.http.delete(f"{pay.url}/sandbox/pay/faults")
    pay.receiver.judge = None


def careful(pay: PaySandbox, totals: dict[str, int]):
    """A merchant's notify handler: 200 only for a notification it can trust."""

    def judge(got: Received) -> int:
        verified = pay.callback(got)
        if verified is None or abs(int(got.headers["wechatpay-timestamp"]) - time.time()) > 300:
            return 401
        r = verified["resource"]
        if (r["appid"], r["mchid"]) != (APPID, pay.keys.mchid):
            return 400
        return 200 if r["amount"]["total"] == totals.get(r["out_trade_no"]) else 400

    return judge


async def _pay_with(pay: PaySandbox, faults: dict, total: int = 100) -> str:
    """Prepay, set `faults` for that trade, pay at the cashier: the out_trade_no."""
    out_trade_no, prepay_id = await pay.prepay(total)
    await pay.faults({"trades": {out_trade_no: faults}})
    answer = await pay.cashier(pay.pay_params(prepay_id))
    assert answer.status_code == 200, answer.text
    return out_trade_no


async def test_duplicate_notifications(pay: PaySandbox) -> None:
    out_trade_no = await _pay_with(pay, {"duplicate": {"copies": 2}})
    got = await pay.receiver.arrivals(f"/notify/{out_trade_no}", count=3)
    verified = [pay.callback(g) for g in got]
    assert all(verified) and len({v["id"] for v in verified}) == 1
    assert len({v["resource"]["transaction_id"] for v in verified}) == 1
    assert [n["duplicate"] for n in await pay.notifications(out_trade_no=out_trade_no)] == [
        False,
        True,
        True,
    ]


async def test_late_notification(pay: PaySandbox) -> None:
    paid_at = time.monotonic()
    out_trade_no = await _pay_with(pay, {"late": {"delay_s": 0.6}})
    assert (await pay.query(out_trade_no))[1]["trade_state"] == "SUCCESS"
    [got] = await pay.receiver.arrivals(f"/notify/{out_trade_no}")
    assert got.at - paid_at >= 0.6


async def test_lost_notification(pay: PaySandbox) -> None:
    out_trade_no = await _pay_with(pay, {"lost": True})
    [entry] = await until(
        lambda: pay.notifications(out_trade_no=out_trade_no), "the lost notification's entry"
    )
    assert entry["faults"] == ["lost"] and entry["status"] is None
    assert pay.receiver.at(f"/notify/{out_trade_no}") == []
    _, trade = await pay.query(out_trade_no)
    assert trade["trade_state"] == "SUCCESS" and trade["transaction_id"]


@pytest.mark.parametrize(
    ("fault", "refused_with"),
    [
        ({"forged_signature": True}, 401),
        ({"old_timestamp": {"age_s": 900}}, 401),
        ({"wrong_amount": True}, 400),
        ({"wrong_amount": {"amount": 1}}, 400),
        ({"wrong_appid": True}, 400),
        ({"wrong_mchid": {"mchid": "1230000109"}}, 400),
    ],
)
async def test_tampered_notification_then_the_genuine_retry(
    pay: PaySandbox, fault: dict, refused_with: int
) -> None:
    totals: dict[str, int] = {}
    pay.receiver.judge = careful(pay, totals)
    out_trade_no, prepay_id = await pay.prepay(777)
    totals[out_trade_no] = 777
    await pay.faults({"trades": {out_trade_no: fault}})
    await pay.cashier(pay.pay_params(prepay_id))
    bad, good = await pay.receiver.arrivals(f"/notify/{out_trade_no}", count=2)
    assert (bad.status, good.status) == (refused_with, 200)
    if "forged_signature" in fault:
        assert pay.callback(bad) is None
    elif "old_timestamp" in fault:  # the client's check passes: only the merchant's clock can tell
        assert pay.callback(bad) == pay.callback(good)
        age = int(good.headers["wechatpay-timestamp"]) - int(bad.headers["wechatpay-timestamp"])
        assert age >= 900
    else:  # genuinely signed and encrypted, but not what was paid
        assert pay.callback(bad)["resource"] != pay.callback(good)["resource"]
    log = await pay.notifications(out_trade_no=out_trade_no)
    assert [e["faults"] for e in log] == [list(fault), []]
    assert [e["status"] for e in log] == [refused_with, 200]


async def test_refund_notification_faults_by_out_refund_no(pay: PaySandbox) -> None:
    out_trade_no = await pay.paid(total=500)
    out_refund_no = f"{out_trade_no}-R"
    await pay.faults({"trades": {out_refund_no: {"duplicate": True, "forged_signature": True}}})
    path = f"/refund/{out_refund_no}"
    pay.receiver.judge = lambda got: 200 if pay.callback(got) else 401
    status, _ = await pay.client.refund(
        out_refund_no=out_refund_no,
        amount={"refund": 500, "total": 500, "currency": "CNY"},
        out_trade_no=out_trade_no,
        notify_url=pay.receiver_url + path,
    )
    assert status == 200
    forged, genuine, again = await pay.receiver.arrivals(path, count=3)
    assert [g.status for g in (forged, genuine, again)] == [401, 200, 200]
    assert pay.callback(genuine)["event_type"] == "REFUND.SUCCESS"
    assert pay.callback(genuine)["id"] == pay.callback(again)["id"]
    # the payment's own notification was left alone
    assert len(pay.receiver.at(f"/notify/{out_trade_no}")) == 1


async def test_pay_error_at_the_cashier(pay: PaySandbox) -> None:
    out_trade_no, prepay_id = await pay.prepay()
    await pay.faults({"trades": {out_trade_no: {"pay_error": True}}})
    answer = await pay.cashier(pay.pay_params(prepay_id))
    assert answer.json()["errMsg"].startswith("requestPayment:fail")
    _, trade = await pay.query(out_trade_no)
    assert trade["trade_state"] == "PAYERROR" and trade["trade_state_desc"]
    assert await pay.notifications(out_trade_no=out_trade_no) == []


async def test_query_5xx_then_answers(pay: PaySandbox) -> None:
    out_trade_no = await pay.paid()
    await pay.faults({"trades": {out_trade_no: {"query_5xx": {"times": 2, "status": 503}}}})
    statuses = [(await pay.query(out_trade_no))[0] for _ in range(3)]
    assert statuses == [503, 503, 200]
    await pay.faults({"trades": {out_trade_no: {"query_5xx": True}}})
    status, body = await pay.query(out_trade_no)
    assert (status, body["code"]) == (500, "SYSTEM_ERROR")


async def test_query_timeout(pay: PaySandbox) -> None:
    out_trade_no = await pay.paid()
    await pay.faults({"trades": {out_trade_no: {"query_timeout": {"delay_s": 1.0}}}})
    async with pay_client(pay.keys, pay.url, timeout=(1, 0.3)) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await impatient.query(out_trade_no=out_trade_no)
        status, _ = await impatient.query(out_trade_no=out_trade_no)
    assert status == 200


async def test_bill_faults(pay: PaySandbox) -> None:
    omitted, changed, kept = [await pay.paid(total) for total in (101, 202, 303)]
    await pay.faults(
        {
            "trades": {omitted: {"bill_omit": True}, changed: {"bill_amount": {"amount": 200}}},
            "bill_extra": [{"out_trade_no": "GHOST-000001", "amount": 999}],
        }
    )
    day = datetime.now(CHINA).strftime("%Y-%m-%d")
    status, text = await pay.client._core.request(f"/v3/bill/tradebill?bill_date={day}")
    assert status == 200, text
    status, data = await pay.client.download_bill(json.loads(text)["download_url"])
    bill = data.decode()
    assert omitted not in bill
    assert f"`{changed}," in bill and "`2.00," in bill.split(changed)[1].split("\r\n")[0]
    assert "`3.03," in bill.split(kept)[1].split("\r\n")[0]
    assert "`GHOST-000001," in bill and "`9.99," in bill


async def test_rates_with_a_seed_are_reproducible() -> None:
    spec = {"seed": 42, "rates": {"lost": 0.5, "query_5xx": {"rate": 0.5, "status": 502}}}
    first, second = Faults(spec), Faults(json.loads(json.dumps(spec)))
    keys = [f"T{i:08d}" for i in range(40)]
    lost = [first.get("lost", k) is not None for k in keys]
    assert lost == [second.get("lost", k) is not None for k in keys]
    assert 5 < sum(lost) < 35
    # decided once per payment, the same each time it is asked
    assert lost == [first.get("lost", k) is not None for k in keys]
    # counted faults roll per query: reproducible sequences
    runs = [[f.get("query_5xx", "T1") for _ in range(20)] for f in (first, second)]
    assert runs[0] == runs[1] and {r["status"] for r in runs[0] if r} == {502}


async def test_rate_one_hits_every_payment(pay: PaySandbox) -> None:
    await pay.faults({"rates": {"duplicate": 1.0}})
    out_trade_no, prepay_id = await pay.prepay()
    await pay.cashier(pay.pay_params(prepay_id))
    assert len(await pay.receiver.arrivals(f"/notify/{out_trade_no}", count=2)) == 2


async def test_the_faults_page(pay: PaySandbox) -> None:
    url = f"{pay.url}/sandbox/pay/faults"
    bad = await pay.http.post(url, json={"trades": {"T1": {"lightning": True}}})
    assert bad.status_code == 400 and "lightning" in bad.json()["error"]
    assert "duplicate" in bad.json()["faults"]
    for spec in (
        {"rates": {"lost": 2}},
        {"trades": {"T1": {"late": {"delay": 1}}}},
        {"bill_extra": [{"out_trade_no": "X", "amount": -1}]},
        {"weather": 1},
    ):
        assert (await pay.http.post(url, json=spec)).status_code == 400, spec
    assert (await pay.http.get(url)).json()["trades"] == {}  # nothing half-applied
    set_ = await pay.faults({"seed": 7, "trades": {"T1": {"lost": True}}})
    merged = await pay.faults({"trades": {"T1": {"late": {"delay_s": 2}}}})
    assert set_["seed"] == merged["seed"] == 7
    assert merged["trades"]["T1"] == {"lost": {}, "late": {"delay_s": 2}}
    cleared = (await pay.http.delete(url)).json()
    assert cleared == {"seed": None, "trades": {}, "rates": {}, "bill_extra": []}


def test_faults_from_the_environment() -> None:
    assert from_env('{"rates": {"lost": 0.1}}').rates == {"lost": {"rate": 0.1}}
    assert from_env("").json()["trades"] == {}
    with pytest.raises(SystemExit, match="WECHAT_SANDBOX_PAY_FAULTS"):
        from_env('{"rates": {"lost": "often"}}')


async def test_retries_follow_wechats_schedule_until_200(state_dir) -> None:
    factor = 0.001
    async with running_sandbox(state_dir, time_factor=factor) as pay:
        out_trade_no, prepay_id = await pay.prepay()
        path = f"/notify/{out_trade_no}"
        pay.receiver.script[path] = [500, 404, 503, 401, 500]
        await pay.cashier(pay.pay_params(prepay_id))
        got = await pay.receiver.arrivals(path, count=6)
        gaps = [b.at - a.at for a, b in itertools.pairwise(got)]
        for gap, wait in zip(gaps, RETRY_SCHEDULE_S, strict=False):
            assert wait * factor * 0.9 <= gap < wait * factor + 0.2, (gaps, wait)
        assert [g.status for g in got] == [500, 404, 503, 401, 500, 200]
        assert len({json.loads(g.body)["id"] for g in got}) == 1
        await until(lambda: not pay.product.notifier._tasks, "the delivery to end")
        assert len(pay.receiver.at(path)) == 6


async def test_retries_end_after_the_last_one(state_dir) -> None:
    assert sum(RETRY_SCHEDULE_S) == 86_400 + 240 and len(RETRY_SCHEDULE_S) == 15
    async with running_sandbox(state_dir, time_factor=0.000005) as pay:
        out_trade_no, prepay_id = await pay.prepay()
        nowhere = f"http://127.0.0.1:{free_port()}/notify"
        pay.product.ledger.trades[out_trade_no].notify_url = nowhere  # a merchant that is down
        await pay.cashier(pay.pay_params(prepay_id))
        await until(lambda: not pay.product.notifier._tasks, "the deliveries to end")
        log = await pay.notifications(out_trade_no=out_trade_no)
        assert [e["attempt"] for e in log] == list(range(1, 17))
        assert all(e["status"] is None and "Connect" in e["error"] for e in log)
