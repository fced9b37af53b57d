"""The WeChat Pay sandbox's protocol: requests must be signed by the merchant (401 SIGN_ERROR
otherwise), answers are signed by the platform key, and bad parameters get WeChat's codes."""

from __future__ import annotations

import dataclasses
import json
import time

import httpx
import pytest
from test_pay_sandbox_kit import APPID, PaySandbox, pay_client, running_sandbox
from wechatpayv3.async_.type import RequestType
from wechatpayv3.utils import (
    build_authorization,
    load_private_key,
    load_public_key,
    rsa_sign,
    rsa_verify,
)

from adapters.wechat_pay_keys import PayKeys, load_or_make

QUERY = "/v3/pay/transactions/out-trade-no/NO-SUCH-TRADE-1?mchid={mchid}"


@pytest.fixture(scope="module")
async def pay(tmp_path_factory):
    async with running_sandbox(tmp_path_factory.mktemp("pay-state")) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def stranger(tmp_path_factory) -> PayKeys:
    """Another merchant's (and another platform's) keys."""
    return load_or_make(tmp_path_factory.mktemp("stranger"))


def _authorization(pay: PaySandbox, path: str, method: str = "GET", body: str = "", **change):
    """A header signed as wechatpayv3 signs, with `change` (mchid, serial_no, timestamp,
    private_key) applied before signing."""
    key = load_private_key(change.pop("private_key", pay.keys.merchant_private_key))
    mchid = change.pop("mchid", pay.keys.mchid)
    serial = change.pop("serial_no", pay.keys.merchant_serial_no)
    timestamp = change.pop("timestamp", int(time.time()))
    nonce = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
    message = f"{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n"
    return (
        f'WECHATPAY2-SHA256-RSA2048 mchid="{mchid}",nonce_str="{nonce}",'
        f'signature="{rsa_sign(key, message)}",timestamp="{timestamp}",serial_no="{serial}"'
    )


async def _get(pay: PaySandbox, path: str, authorization: str | None) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization else {}
    return await pay.http.get(pay.url + path, headers=headers)


def _is_signed_by_the_platform(pay: PaySandbox, answer: httpx.Response) -> bool:
    h = answer.headers
    assert h["Wechatpay-Serial"] == pay.keys.platform_public_key_id
    assert h["Wechatpay-Signature-Type"] == "WECHATPAY2-SHA256-RSA2048"
    assert abs(int(h["Wechatpay-Timestamp"]) - time.time()) < 60
    key = load_public_key(pay.keys.platform_public_key)
    return rsa_verify(
        h["Wechatpay-Timestamp"], h["Wechatpay-Nonce"], answer.text, h["Wechatpay-Signature"], key
    )


async def test_a_well_signed_request_gets_a_signed_answer(pay: PaySandbox) -> None:
    path = QUERY.format(mchid=pay.keys.mchid)
    answer = await _get(pay, path, _authorization(pay, path))
    assert answer.status_code == 404 and answer.json()["code"] == "ORDER_NOT_EXIST"
    assert _is_signed_by_the_platform(pay, answer)
    # the same one the real client builds
    built = build_authorization(
        path,
        "GET",
        pay.keys.mchid,
        pay.keys.merchant_serial_no,
        load_private_key(pay.keys.merchant_private_key),
    )
    assert (await _get(pay, path, built)).status_code == 404


@pytest.mark.parametrize(
    "case",
    ["missing", "not_the_scheme", "other_key", "wrong_mchid", "wrong_serial", "stale", "future"],
)
async def test_bad_authorization_is_401_sign_error(
    pay: PaySandbox, case: str, stranger: PayKeys
) -> None:
    path = QUERY.format(mchid=pay.keys.mchid)
    now = int(time.time())
    headers = {
        "missing": lambda: None,
        "not_the_scheme": lambda: "Bearer abc",
        "other_key": lambda: _authorization(pay, path, private_key=stranger.merchant_private_key),
        "wrong_mchid": lambda: _authorization(pay, path, mchid="1900000999"),
        "wrong_serial": lambda: _authorization(pay, path, serial_no="0" * 40),
        "stale": lambda: _authorization(pay, path, timestamp=now - 310),
        "future": lambda: _authorization(pay, path, timestamp=now + 310),
    }
    answer = await _get(pay, path, headers[case]())
    assert answer.status_code == 401, answer.text
    body = answer.json()
    assert body["code"] == "SIGN_ERROR" and body["message"]
    assert _is_signed_by_the_platform(pay, answer)


async def test_a_request_signed_over_another_body_is_401(pay: PaySandbox) -> None:
    path = "/v3/pay/transactions/out-trade-no/T-CLOSE-ME-1/close"
    signed = json.dumps({"mchid": pay.keys.mchid})
    authorization = _authorization(pay, path, "POST", signed)
    answer = await pay.http.post(
        pay.url + path,
        content=json.dumps({"mchid": pay.keys.mchid, "x": 1}),
        headers={"Authorization": authorization, "Content-Type": "application/json"},
    )
    assert answer.status_code == 401 and answer.json()["code"] == "SIGN_ERROR"
    assert answer.json()["detail"]["detail"]["issue"] == "sign not match"


async def test_the_real_client_with_a_wrong_mchid_gets_401(pay: PaySandbox) -> None:
    async with pay_client(pay.keys, pay.url, mchid="1900000999") as client:
        status, text = await client.query(out_trade_no="NO-SUCH-TRADE-1")
    assert status == 401 and json.loads(text)["code"] == "SIGN_ERROR"


async def test_the_real_client_checks_the_answers(pay: PaySandbox, stranger: PayKeys) -> None:
    # A client that expects another platform key refuses the sandbox's (valid) answers.
    keys = dataclasses.replace(pay.keys, platform_public_key=stranger.platform_public_key)
    out_trade_no, _ = await pay.prepay()
    async with pay_client(keys, pay.url) as client:
        with pytest.raises(Exception, match="failed to verify the signature"):
            await client.query(out_trade_no=out_trade_no)


async def test_query_mchid_must_be_the_callers(pay: PaySandbox) -> None:
    status, text = await pay.client.query(out_trade_no="NO-SUCH-TRADE-1", mchid="1900000999")
    assert status == 400 and json.loads(text)["code"] == "PARAM_ERROR"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"payer": None}, "PARAM_ERROR"),
        ({"amount": {"total": 0, "currency": "CNY"}}, "PARAM_ERROR"),
        ({"amount": {"total": 100, "currency": "USD"}}, "PARAM_ERROR"),
        ({"out_trade_no": "short"}, "PARAM_ERROR"),
        ({"notify_url": "https://merchant.example/notify?order=1"}, "PARAM_ERROR"),
        ({"time_expire": "tomorrow"}, "PARAM_ERROR"),
        ({"appid": "wx0000000000000000"}, "APPID_MCHID_NOT_MATCH"),
        ({"mchid": "1900000999"}, "PARAM_ERROR"),
    ],
)
async def test_prepay_parameters(pay: PaySandbox, change: dict, code: str) -> None:
    body = {
        "appid": APPID,
        "mchid": pay.keys.mchid,
        "description": "上门电工",
        "out_trade_no": "T-PARAMS-000001",
        "notify_url": "https://merchant.example/notify",
        "amount": {"total": 100, "currency": "CNY"},
        "payer": {"openid": "o-sandbox-payer-0000000000001"},
        **change,
    }
    body = {k: v for k, v in body.items() if v is not None}
    status, text = await pay.client._core.request(
        "/v3/pay/transactions/jsapi", method=RequestType.POST, data=body
    )
    assert status == 400 and json.loads(text)["code"] == code, text
