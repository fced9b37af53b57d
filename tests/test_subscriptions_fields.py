"""Field values cut by the hub to their kind (actors/notify_fields.py), so WeChat (the sandbox's
checks, sandbox/subscribe.py) never refuses a message of the hub's: one test per kind, and
every template the hub sends, filled with values too long for it, delivered by the sandbox."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
from conftest import serve_asgi

from actors.notify import order_message, provider_title, withdrawal_message
from actors.notify_fields import fit, fit_all
from adapters.settings import SANDBOX_TEMPLATES
from adapters.wechat import WeChatError, WeChatLogin
from sandbox.app import create_app
from sandbox.subscribe import TEMPLATES, valid_value

APPID = "wx0sandbox0test0017"
SECRET = "test-secret-for-fields"
LONG_SERVICE = "家庭电路全面检修与安全隐患排查服务套餐（含开关插座更换）"


@contextlib.asynccontextmanager
async def _consenting_user(
    code: str, template: str
) -> AsyncIterator[tuple[WeChatLogin, httpx.AsyncClient, str]]:
    """A sandbox, a client of it and an HTTP client to it, and the openid of a user (signed in
    with `code`) who has consented to one message of `template`."""
    async with serve_asgi(create_app(APPID, SECRET)) as url:
        wechat = WeChatLogin(APPID, SECRET, url)
        try:
            openid = (await wechat.code_to_session(code))["openid"]
            async with httpx.AsyncClient(base_url=url) as http:
                body = {"code": code, "templateId": template}
                assert (await http.post("/sandbox/subscribe/consent", json=body)).status_code == 200
                yield wechat, http, openid
        finally:
            wechat.close()


@pytest.mark.parametrize(
    ("key", "value", "cut"),
    [
        ("thing2", LONG_SERVICE, LONG_SERVICE[:19] + "…"),
        (
            "character_string1",
            "OH2025060710345612345678901234567890",
            "OH202506071034561234567890123456",
        ),
        ("character_string1", "单号 OH-12 ab", "OH-12ab"),
        ("phrase4", "已经完成的订单", "已经完成的"),
        ("phrase3", "done 已完成", "已完成"),
        ("name3", "欧阳慕容司马诸葛东方师傅", "欧阳慕容司马诸葛东方"),
        ("name3", "Alexander Maximilian Montgomery", "Alexander Maximilian"),
        ("number1", "1" * 40 + ".5", "1" * 32),
        ("letter1", "abc" * 12, ("abc" * 12)[:32]),
        ("symbol1", "!@#$%^&*", "!@#$%"),
        ("phone_number1", "+86 (138) 0013-8000 ext 1234", "+86 (138) 0013-80"),
        ("car_number1", "琼A12345678", "琼A123456"),
        ("time4", "2025-06-07T10:34:56.123+08:00", "2025-06-07 10:34"),
        ("time3", datetime(2025, 6, 7, 2, 34, 56), "2025-06-07 10:34"),  # UTC → China time
        ("date2", "2025年6月7日 10:34:56（周六）", "2025-06-07 10:34"),
        ("amount3", "¥12345678901.505", "¥1234567890.50"),
        ("amount3", 12050, "¥120.50"),  # fen
    ],
)
def test_a_value_too_long_for_its_kind_is_cut(key: str, value: object, cut: str) -> None:
    assert not (isinstance(value, str) and valid_value(key, value))  # WeChat would refuse it
    assert fit(key, value) == cut
    assert valid_value(key, cut)


def test_every_kind_the_sandbox_checks_has_a_cut() -> None:
    from actors.notify_fields import FIT
    from sandbox.subscribe import KINDS

    assert set(KINDS) == set(FIT)


def test_the_hubs_template_ids_are_the_sandboxs() -> None:
    assert set(SANDBOX_TEMPLATES.values()) == set(TEMPLATES)


def test_the_provider_is_named_by_surname() -> None:
    assert provider_title("王建国") == "王师傅"
    assert provider_title("李师傅") == "李师傅"
    assert provider_title("") == "师傅"


def _long_facts() -> dict:
    at = datetime(2025, 6, 7, 2, 34, 56)
    return {
        "order_no": "OH20250607103456123456-with-a-long-suffix",
        "service": LONG_SERVICE,
        "provider_name": "欧阳慕容司马诸葛东方",
        "scheduled_at": at,
        "accepted_at": at,
        "created_at": at,
        "departed_at": at,
        "arrived_at": at,
        "completed_at": at,
        "area": "海口市美兰区白龙街道和平大道沿线片区",
        "district": "美兰区",
    }


def _messages() -> list[tuple[str, dict]]:
    keys = ["order_accepted", "order_departed", "order_arrived", "order_completed"]
    out = [(key, order_message(key, _long_facts())) for key in [*keys, "job_reminder"]]
    row = {
        "id": 7,
        "provider_id": 1,
        "amount": 123456789012,  # more digits than an amount takes
        "status": "approved",
        "decided_at": datetime(2025, 6, 7, 2, 34),
        "note": "提现已到账，请在微信零钱中查看明细，如有疑问请联系平台客服",
    }
    return [*out, ("withdrawal_result", withdrawal_message(row))]


@pytest.mark.parametrize(
    ("key", "data"), _messages(), ids=lambda v: v if isinstance(v, str) else ""
)
async def test_every_message_of_the_hub_is_delivered_not_refused(key: str, data: dict) -> None:
    template = SANDBOX_TEMPLATES[key]
    assert set(data) == set(TEMPLATES[template].fields)  # every field of the template, no more
    async with _consenting_user("sandbox-fields", template) as (wechat, http, openid):
        page = "pages/user/order-detail?id=7"
        assert await wechat.send_subscribe_message(openid, template, fit_all(data), page)
        items = (
            await http.get("/sandbox/subscribe-messages", params={"code": "sandbox-fields"})
        ).json()["items"]
    assert len(items) == 1
    values = {k: v["value"] for k, v in items[0]["data"].items()}
    assert all(valid_value(k, v) for k, v in values.items())
    if "thing2" in values:
        assert values["thing2"] == LONG_SERVICE[:19] + "…"


async def test_the_sandbox_refuses_what_wechat_refuses() -> None:
    """A page the mini program lacks (41030), a value too long for its kind (47003): refused,
    and neither spends the user's consent."""
    arrived = SANDBOX_TEMPLATES["order_arrived"]
    good = fit_all(order_message("order_arrived", _long_facts()))
    async with _consenting_user("sandbox-refusals", arrived) as (wechat, _, openid):
        for data, page, errcode in (
            (good, "pages/user/no-such-page?id=7", 41030),
            (good, "/pages/user/order-detail?id=7", 41030),
            ({**good, "thing2": LONG_SERVICE}, None, 47003),
            ({**good, "name3": "Wang 师傅"}, None, 47003),
        ):
            with pytest.raises(WeChatError) as info:
                await wechat.send_subscribe_message(openid, arrived, data, page)
            assert info.value.errcode == errcode, (data, page)
        assert await wechat.send_subscribe_message(openid, arrived, good, "pages/index/index")
