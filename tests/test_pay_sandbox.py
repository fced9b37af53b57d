"""The WeChat Pay sandbox end to end with the real `AsyncWeChatPay` client (public-key mode):
prepay, paySign, the cashier, the encrypted notification, query, close, refunds and the bill."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest
from test_pay_sandbox_kit import APPID, PaySandbox, pay_client, running_sandbox

from adapters.wechat_pay_keys import load_or_make

CHINA = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
async def pay(tmp_path_factory):
    async with running_sandbox(tmp_path_factory.mktemp("pay-state")) as sandbox:
        yield sandbox


def _today() -> str:
    return datetime.now(CHINA).strftime("%Y-%m-%d")


async def test_pay_end_to_end(pay: PaySandbox) -> None:
    out_trade_no, prepay_id = await pay.prepay(total=12800)
    assert prepay_id.startswith("wx")
    status, before = await pay.query(out_trade_no)
    assert status == 200 and before["trade_state"] == "NOTPAY"
    assert "transaction_id" not in before

    answer = await pay.cashier(pay.pay_params(prepay_id))
    assert answer.status_code == 200 and answer.json() == {"errMsg": "requestPayment:ok"}

    [note] = await pay.receiver.arrivals(f"/notify/{out_trade_no}")
    verified = pay.callback(note)
    assert verified is not None, "the real client refused the notification"
    assert verified["event_type"] == "TRANSACTION.SUCCESS"
    assert verified["resource_type"] == "encrypt-resource"
    assert verified["summary"] and verified["id"] and verified["create_time"]
    assert json.loads(note.body)["resource"]["original_type"] == "transaction"
    resource = verified["resource"]

    status, after = await pay.query(out_trade_no)
    assert status == 200
    assert resource == after, "the notification carries the transaction the query returns"
    assert after["trade_state"] == "SUCCESS" and after["trade_state_desc"]
    assert after["appid"] == APPID and after["mchid"] == pay.keys.mchid
    assert after["trade_type"] == "JSAPI" and after["bank_type"]
    assert after["transaction_id"].startswith("42") and len(after["transaction_id"]) == 28
    assert after["amount"] == {
        "total": 12800,
        "payer_total": 12800,
        "currency": "CNY",
        "payer_currency": "CNY",
    }
    assert after["payer"] == {"openid": "o-sandbox-payer-0000000000001"}
    assert datetime.fromisoformat(after["success_time"]).utcoffset() == timedelta(hours=8)

    # by transaction id too
    status, text = await pay.client.query(transaction_id=after["transaction_id"])
    assert status == 200 and json.loads(text) == after
    # and the sandbox's own record of the delivery
    [sent] = await pay.notifications(out_trade_no=out_trade_no)
    assert sent["status"] == 200 and sent["attempt"] == 1 and sent["url"].endswith(out_trade_no)


async def test_prepay_is_idempotent_per_out_trade_no(pay: PaySandbox) -> None:
    out_trade_no, prepay_id = await pay.prepay(total=500)
    again, same = await pay.prepay(total=500, out_trade_no=out_trade_no)
    assert (again, same) == (out_trade_no, prepay_id)
    status, body = await pay.prepay_call(501, out_trade_no)
    assert status == 400 and body["code"] == "INVALID_REQUEST"


async def test_paid_and_closed_trades_refuse_a_prepay(pay: PaySandbox) -> None:
    paid = await pay.paid(total=300)
    status, body = await pay.prepay_call(300, paid)
    assert status == 400 and body["code"] == "ORDERPAID"
    closed, _ = await pay.prepay(total=300)
    assert (await pay.client.close(out_trade_no=closed))[0] == 204
    status, body = await pay.prepay_call(300, closed)
    assert status == 400 and body["code"] == "ORDER_CLOSED"


async def test_close(pay: PaySandbox) -> None:
    out_trade_no, prepay_id = await pay.prepay()
    status, text = await pay.client.close(out_trade_no=out_trade_no)
    assert (status, text) == (204, b"")
    assert (await pay.query(out_trade_no))[1]["trade_state"] == "CLOSED"
    refused = await pay.cashier(pay.pay_params(prepay_id))
    assert refused.status_code == 400 and "requestPayment:fail" in refused.json()["errMsg"]
    paid = await pay.paid()
    status, text = await pay.client.close(out_trade_no=paid)
    assert status == 400 and json.loads(text)["code"] == "ORDERPAID"


async def test_unknown_trade_is_404(pay: PaySandbox) -> None:
    status, body = await pay.query("NO-SUCH-TRADE-1")
    assert status == 404 and body["code"] == "ORDER_NOT_EXIST" and body["message"]


async def test_cashier_cancel_and_fail(pay: PaySandbox) -> None:
    out_trade_no, prepay_id = await pay.prepay()
    params = pay.pay_params(prepay_id)
    cancel = await pay.cashier(params, "cancel")
    assert cancel.status_code == 200 and cancel.json() == {"errMsg": "requestPayment:fail cancel"}
    assert (await pay.query(out_trade_no))[1]["trade_state"] == "NOTPAY"
    fail = await pay.cashier(params, "fail")
    assert fail.json()["errMsg"].startswith("requestPayment:fail ")
    _, failed = await pay.query(out_trade_no)
    assert failed["trade_state"] == "PAYERROR" and "余额不足" in failed["trade_state_desc"]
    # the payer tops up and pays with the same prepay
    assert (await pay.cashier(params)).json() == {"errMsg": "requestPayment:ok"}
    assert (await pay.query(out_trade_no))[1]["trade_state"] == "SUCCESS"
    assert len(await pay.receiver.arrivals(f"/notify/{out_trade_no}")) == 1


async def test_forged_pay_sign_is_refused(pay: PaySandbox, tmp_path) -> None:
    out_trade_no, prepay_id = await pay.prepay()
    params = pay.pay_params(prepay_id)
    other = pay_client(load_or_make(tmp_path), pay.url)  # another merchant's key
    signed = [APPID, params["timeStamp"], params["nonceStr"], params["package"]]
    forged = {**params, "paySign": other.sign(signed)}
    tampered = {**params, "package": f"prepay_id={prepay_id}x"}
    for bad in (forged, tampered, {**params, "paySign": "bm90IGEgc2lnbmF0dXJl"}):
        answer = await pay.cashier(bad)
        assert answer.status_code == 400, answer.text
        assert answer.json()["errMsg"] == "requestPayment:fail 支付验证签名失败"
        assert "paySign" in answer.json()["error"]
    assert (await pay.cashier({**params, "signType": "MD5"})).status_code == 400
    assert (await pay.query(out_trade_no))[1]["trade_state"] == "NOTPAY"


async def test_prepay_expires(pay: PaySandbox) -> None:
    soon = (datetime.now(CHINA) + timedelta(seconds=1)).replace(microsecond=0)
    out_trade_no, prepay_id = await pay.prepay(time_expire=soon.isoformat())
    params = pay.pay_params(prepay_id)
    await asyncio.sleep(max(0.0, soon.timestamp() - datetime.now(CHINA).timestamp()) + 0.05)
    answer = await pay.cashier(params)
    assert answer.status_code == 400 and "过期" in answer.json()["errMsg"]
    assert (await pay.query(out_trade_no))[1]["trade_state"] == "NOTPAY"


async def test_refunds(pay: PaySandbox) -> None:
    out_trade_no = await pay.paid(total=1000)
    path = f"/refund/{out_trade_no}"
    url = pay.receiver_url + path

    async def refund(no: str, amount: int, **kw):
        status, text = await pay.client.refund(
            out_refund_no=no,
            amount={"refund": amount, "total": 1000, "currency": "CNY"},
            out_trade_no=out_trade_no,
            notify_url=url,
            **kw,
        )
        return status, json.loads(text)

    status, first = await refund(f"{out_trade_no}-R1", 600, reason="少做一项")
    assert status == 200 and first["status"] == "PROCESSING"
    assert first["out_trade_no"] == out_trade_no and first["refund_id"].startswith("50")
    assert first["amount"]["refund"] == 600 and first["amount"]["total"] == 1000
    # the same out_refund_no again: the same refund, no second one
    assert (await refund(f"{out_trade_no}-R1", 600))[1]["refund_id"] == first["refund_id"]
    status, again = await refund(f"{out_trade_no}-R1", 500)
    assert status == 400 and again["code"] == "INVALID_REQUEST"
    # never more than was paid
    status, over = await refund(f"{out_trade_no}-R2", 401)
    assert status == 400 and over["code"] == "INVALID_REQUEST"

    [note] = await pay.receiver.arrivals(path)
    verified = pay.callback(note)
    assert verified["event_type"] == "REFUND.SUCCESS"
    assert json.loads(note.body)["resource"]["original_type"] == "refund"
    assert verified["resource"]["refund_status"] == "SUCCESS"
    assert verified["resource"]["out_refund_no"] == f"{out_trade_no}-R1"
    assert verified["resource"]["amount"]["refund"] == 600

    status, text = await pay.client.query_refund(out_refund_no=f"{out_trade_no}-R1")
    done = json.loads(text)
    assert status == 200 and done["status"] == "SUCCESS" and done["success_time"]
    _, trade = await pay.query(out_trade_no)
    assert trade["trade_state"] == "REFUND"

    # by transaction_id, the rest exactly
    status, rest = await pay.client.refund(
        out_refund_no=f"{out_trade_no}-R3",
        amount={"refund": 400, "total": 1000, "currency": "CNY"},
        transaction_id=trade["transaction_id"],
    )
    assert status == 200, rest
    status, full = await refund(f"{out_trade_no}-R4", 1)
    assert status == 400 and full["code"] == "INVALID_REQUEST"
    status, text = await pay.client.query_refund(out_refund_no="NO-SUCH-REFUND")
    assert status == 404 and json.loads(text)["code"] == "RESOURCE_NOT_EXISTS"


async def test_refund_of_an_unpaid_trade(pay: PaySandbox) -> None:
    out_trade_no, _ = await pay.prepay()
    status, text = await pay.client.refund(
        out_refund_no=f"{out_trade_no}-R",
        amount={"refund": 1, "total": 100, "currency": "CNY"},
        out_trade_no=out_trade_no,
    )
    assert status == 404 and json.loads(text)["code"] == "RESOURCE_NOT_EXISTS"


async def test_concurrent_refunds_never_exceed_the_total(pay: PaySandbox) -> None:
    out_trade_no = await pay.paid(total=1000)
    results = await asyncio.gather(
        *(
            pay.client.refund(
                out_refund_no=f"{out_trade_no}-C{i}",
                amount={"refund": 300, "total": 1000, "currency": "CNY"},
                out_trade_no=out_trade_no,
            )
            for i in range(8)
        )
    )
    assert sorted(status for status, _ in results) == [200] * 3 + [400] * 5


def _parse_bill(text: str) -> tuple[list[str], list[list[str]], list[str], list[str]]:
    """WeChat's layout: not quite CSV, every data field starts with a backtick (",`" separates
    them, so a comma inside a product name does not)."""
    assert text.endswith("\r\n")
    header, *rows, summary_header, summary = text.removesuffix("\r\n").split("\r\n")
    assert all(line.startswith("`") for line in [*rows, summary])
    fields = [line[1:].split(",`") for line in rows]
    return header.split(","), fields, summary_header.split(","), summary[1:].split(",`")


async def test_trade_bill(pay: PaySandbox) -> None:
    paid = await pay.paid(total=2345)
    status, text = await pay.client.trade_bill(bill_date=_today())
    assert status == 200, text
    applied = json.loads(text)
    assert applied["hash_type"] == "SHA1" and applied["download_url"].startswith(pay.url)
    status, data = await pay.client.download_bill(applied["download_url"])
    assert status == 200
    raw = gzip.decompress(data)  # the client asks tar_type=GZIP by default
    assert hashlib.sha1(raw).hexdigest() == applied["hash_value"]
    header, rows, summary_header, summary = _parse_bill(raw.decode())
    assert header[:3] == ["交易时间", "公众账号ID", "商户号"] and "商户订单号" in header
    assert all(len(row) == len(header) for row in rows)
    by_no = {row[header.index("商户订单号")]: row for row in rows}
    mine = by_no[paid]
    assert mine[header.index("应结订单金额")] == "23.45"
    assert mine[header.index("交易状态")] == "SUCCESS"
    assert summary_header[0] == "总交易单数" and int(summary[0]) == len(rows)

    # plain text without tar_type, through a signed request like any other
    status, text = await pay.client._core.request(
        f"/v3/bill/tradebill?bill_date={_today()}&bill_type=SUCCESS"
    )
    plain = json.loads(text)
    status, data = await pay.client.download_bill(plain["download_url"])
    assert hashlib.sha1(data).hexdigest() == plain["hash_value"]
    assert paid in data.decode()


async def test_trade_bill_refusals(pay: PaySandbox) -> None:
    for query, code in (
        ("bill_date=2024-13-01", "PARAM_ERROR"),
        ("bill_date=2999-01-01", "INVALID_REQUEST"),
        ("bill_date=2001-01-01", "NO_STATEMENT_EXIST"),
        (f"bill_date={_today()}&bill_type=EVERYTHING", "PARAM_ERROR"),
    ):
        status, text = await pay.client._core.request(f"/v3/bill/tradebill?{query}")
        assert status == 400 and json.loads(text)["code"] == code, (query, text)
    answer = await pay.http.get(f"{pay.url}/v3/billdownload/file?token=stolen")
    assert answer.status_code == 401  # unsigned
    status, text = await pay.client.download_bill(f"{pay.url}/v3/billdownload/file?token=nope")
    assert status == 400
