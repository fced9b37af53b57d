"""The sandbox's subscribe messages (sandbox/subscribe.py), served in process and driven with
the hub's wechatpy-based adapter (adapters/wechat.py) and, for what a client would never send,
with raw HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import httpx
import pytest
from conftest import serve_asgi

from actors.reminders import message_data
from adapters.settings import SANDBOX_TEMPLATE_PAYMENT_DUE, Settings
from adapters.wechat import WeChatError, WeChatLogin
from sandbox.app import create_app
from sandbox.login import openid_for
from sandbox.subscribe import ORDER_COMPLETED, PAYMENT_DUE, valid_value

APPID = "wx0sandbox0test0002"
SECRET = "test-secret-for-subscribe"
SEND = "/cgi-bin/message/subscribe/send"
GOOD = {
    "character_string1": "OH20250607103456123456",
    "thing2": "电路维修",
    "amount3": "¥120.50",
    "time4": "2025-06-07 10:34",
    "thing5": "服务已完成，请及时支付",
}


@dataclass
class Box:
    url: str
    http: httpx.AsyncClient
    wechat: WeChatLogin

    async def user(self, name: str, consents: int = 0) -> str:
        """A user who logged in (so WeChat knows the openid), with `consents` to the template."""
        session = await self.wechat.code_to_session(f"sandbox-{name}")
        if consents:
            await self.consent(f"sandbox-{name}", consents)
        return session["openid"]

    async def consent(self, code: str, count: int = 1, template: str = PAYMENT_DUE) -> dict:
        r = await self.http.post(
            "/sandbox/subscribe/consent",
            json={"code": code, "templateId": template, "count": count},
        )
        assert r.status_code == 200, r.text
        return r.json()

    async def messages(self, name: str, everything: bool = False) -> list[dict]:
        params = {"code": f"sandbox-{name}", **({"all": "1"} if everything else {})}
        return (await self.http.get("/sandbox/subscribe-messages", params=params)).json()["items"]

    async def token(self) -> str:
        r = await self.http.get(
            "/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": APPID, "secret": SECRET},
        )
        return r.json()["access_token"]


@pytest.fixture
async def box() -> AsyncIterator[Box]:
    async with serve_asgi(create_app(APPID, SECRET)) as url:
        wechat = WeChatLogin(APPID, SECRET, url)
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            yield Box(url, http, wechat)
        wechat.close()


async def _errcode(call) -> int:
    with pytest.raises(WeChatError) as info:
        await call
    return info.value.errcode


def test_the_hub_uses_the_sandboxs_template() -> None:
    assert Settings().wechat_template_payment_due == SANDBOX_TEMPLATE_PAYMENT_DUE == PAYMENT_DUE


async def test_a_message_with_consent_is_delivered_once_per_consent(box: Box) -> None:
    openid = await box.user("alice", consents=2)
    page = "pages/user/payment?id=7"
    assert await box.wechat.send_subscribe_message(openid, PAYMENT_DUE, GOOD, page=page)
    assert await box.wechat.send_subscribe_message(openid, PAYMENT_DUE, GOOD)
    assert await _errcode(box.wechat.send_subscribe_message(openid, PAYMENT_DUE, GOOD)) == 43101
    items = await box.messages("alice")
    assert [set(item) for item in items] == [{"templateId", "page", "data", "at"}] * 2
    assert items[0]["templateId"] == PAYMENT_DUE and items[0]["page"] == page
    assert items[0]["data"] == {key: {"value": value} for key, value in GOOD.items()}
    everything = await box.messages("alice", everything=True)
    assert [item["errcode"] for item in everything] == [0, 0, 43101]
    left = await box.http.get("/sandbox/subscribe/consent", params={"code": "sandbox-alice"})
    assert left.json()["balances"] == {PAYMENT_DUE: 0}


async def test_without_consent_nothing_is_delivered(box: Box) -> None:
    openid = await box.user("bob")
    assert await _errcode(box.wechat.send_subscribe_message(openid, PAYMENT_DUE, GOOD)) == 43101
    await box.consent("sandbox-bob", template=ORDER_COMPLETED)  # consent to another template
    assert await _errcode(box.wechat.send_subscribe_message(openid, PAYMENT_DUE, GOOD)) == 43101
    assert await box.messages("bob") == []
    assert len(await box.messages("bob", everything=True)) == 2


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("thing2", "一" * 21),  # thing: at most 20 characters
        ("amount3", "一百二十元"),
        ("amount3", "¥12.5.0"),
        ("amount3", "$12345678901"),  # at most 10 digits
        ("character_string1", "有中文"),
        ("character_string1", "A" * 33),
        ("time4", "yesterday"),
        ("time4", "25:00"),
        ("thing5", ""),
    ],
)
async def test_a_bad_field_is_47003_and_spends_no_consent(box: Box, key: str, value: str) -> None:
    openid = await box.user("carol", consents=1)
    bad = {**GOOD, key: value}
    assert await _errcode(box.wechat.send_subscribe_message(openid, PAYMENT_DUE, bad)) == 47003
    assert await box.wechat.send_subscribe_message(openid, PAYMENT_DUE, GOOD)  # still there


async def test_a_missing_field_is_47003(box: Box) -> None:
    openid = await box.user("dan", consents=1)
    short = {k: v for k, v in GOOD.items() if k != "time4"}
    assert await _errcode(box.wechat.send_subscribe_message(openid, PAYMENT_DUE, short)) == 47003


async def test_unknown_template_and_openid(box: Box) -> None:
    openid = await box.user("erin", consents=1)
    assert await _errcode(box.wechat.send_subscribe_message(openid, "no-such", GOOD)) == 40037
    stranger = openid_for(APPID, "never-logged-in")
    assert await _errcode(box.wechat.send_subscribe_message(stranger, PAYMENT_DUE, GOOD)) == 40003
    r = await box.http.post(
        "/sandbox/subscribe/consent", json={"code": stranger, "templateId": PAYMENT_DUE}
    )
    assert r.status_code == 400  # consent by openid: only one WeChat gave out
    r = await box.http.post(
        "/sandbox/subscribe/consent", json={"code": openid, "templateId": PAYMENT_DUE}
    )
    assert r.json()["balance"] == 2


async def test_bad_and_expired_tokens(box: Box) -> None:
    openid = await box.user("fay", consents=2)
    body = {"touser": openid, "template_id": PAYMENT_DUE, "data": {}}
    r = await box.http.post(SEND, params={"access_token": "bogus"}, json=body)
    assert r.json()["errcode"] == 40001
    token = await box.token()
    await box.http.post("/sandbox/login/expire-tokens")
    r = await box.http.post(SEND, params={"access_token": token}, json=body)
    assert r.json()["errcode"] == 42001
    # wechatpy fetches a new token on 40001/42001 and sends again: delivered once.
    assert await box.wechat.send_subscribe_message(openid, PAYMENT_DUE, GOOD)
    assert len(await box.messages("fay")) == 1


async def test_raw_requests_wechat_refuses(box: Box) -> None:
    openid = await box.user("gus", consents=1)
    token = await box.token()
    data = {k: {"value": v} for k, v in GOOD.items()}
    r = await box.http.post(SEND, params={"access_token": token}, content=b"{not json")
    assert r.json()["errcode"] == 47001
    for extra in ({"miniprogram_state": "beta"}, {"lang": "fr_FR"}, {"page": 5}):
        body = {"touser": openid, "template_id": PAYMENT_DUE, "data": data, **extra}
        r = await box.http.post(SEND, params={"access_token": token}, json=body)
        assert r.json()["errcode"] == 47003, extra
    body = {"touser": openid, "template_id": PAYMENT_DUE, "data": data, "lang": "en_US"}
    r = await box.http.post(SEND, params={"access_token": token}, json=body)
    assert r.json()["errcode"] == 0 and isinstance(r.json()["msgid"], int)


@pytest.mark.parametrize(
    ("key", "value", "ok"),
    [
        ("phrase4", "已完成", True),
        ("phrase4", "完成了的订单", False),  # more than 5
        ("phrase4", "done", False),
        ("amount3", "12.50元", True),
        ("amount3", "￥8", True),
        ("time3", "2019年10月1日 15:01", True),
        ("time3", "15:01~17:30", True),
        ("name3", "王师傅", True),
        ("name3", "王" * 11, False),
        ("number1", "3.14", True),
        ("character_string1", "OH-2025_06", True),
    ],
)
def test_field_kinds(key: str, value: str, ok: bool) -> None:
    assert valid_value(key, value) is ok


def test_the_hubs_reminder_passes_the_checks() -> None:
    row = {
        "order_no": "OH20250607103456123456",
        "service": "家庭电路全面检修与安全隐患排查服务套餐",  # longer than a thing allows
        "owed": 12050,
        "completed_at": datetime(2025, 6, 7, 2, 34),
    }
    for n in (1, 2, 3):
        data = message_data(row, n, 3)
        assert all(valid_value(k, v) for k, v in data.items()), data
    assert data["amount3"] == "¥120.50" and data["time4"] == "2025-06-07 10:34"
