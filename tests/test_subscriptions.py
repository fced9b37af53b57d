"""Subscribe messages on the real stack (CONTRACT §13, docs/notifications.md): consent through
POST /api/me/subscriptions, messages on an order's progress sent by the order's host through
the WeChat sandbox, only to a customer with no live socket and a consent left."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from conftest import MYSQL_URL, REDIS_URL, World
from db import rows
from waiting import until

from actors.notify import Notifier
from adapters.clock import utcnow
from adapters.mysql import Database
from adapters.redis import Keys
from adapters.redis import connect as redis_connect
from adapters.settings import SANDBOX_TEMPLATES, Settings
from adapters.subscriptions import SubscriptionStore
from adapters.wechat import WeChatLogin

LAT, LNG = 20.052, 110.362  # away from the other tests' providers
ARRIVED = SANDBOX_TEMPLATES["order_arrived"]


@pytest.fixture
async def store():
    db = await Database.connect(MYSQL_URL, maxsize=2)
    yield SubscriptionStore(db)
    await db.close()


async def _sandbox(sandbox: str, method: str, path: str, **kw) -> dict:
    async with httpx.AsyncClient(base_url=sandbox, timeout=30) as http:
        r = await http.request(method, path, **kw)
    assert r.status_code == 200, r.text
    return r.json()


async def consent(sandbox: str, user, name: str, keys: list[str], hub: bool = True) -> dict:
    """What accepting wx.requestSubscribeMessage does: WeChat records it (the sandbox's consent
    page), and the mini program tells the hub (unless `hub` is False)."""
    for key in keys:
        body = {"code": f"sandbox-{name}", "templateId": SANDBOX_TEMPLATES[key]}
        await _sandbox(sandbox, "POST", "/sandbox/subscribe/consent", json=body)
    if hub:
        return await user.api.ok("POST", "/api/me/subscriptions", {"accepted": keys})
    return {}


async def delivered(sandbox: str, name: str, everything: bool = False) -> list[dict]:
    params = {"code": f"sandbox-{name}", **({"all": "1"} if everything else {})}
    return (await _sandbox(sandbox, "GET", "/sandbox/subscribe-messages", params=params))["items"]


async def outcome(store: SubscriptionStore, user_id: int, event: str) -> str:
    """The recorded result of the message about `event`, once it has one."""

    async def done():
        rows = {r["event_key"]: r["result"] for r in await store.of_user(user_id)}
        return rows.get(event) not in (None, "sending") and rows[event]

    return await until(done, f"the outcome of {event} for user {user_id}", 20, 0.1)


async def walk(world: World, customer, to: str = "arrived", provider=None) -> dict:
    """The customer's order grabbed by a (new) provider and walked to `to`."""
    provider = provider or await world.provider()
    sock = await world.socket(provider)
    assert (await sock.call("provider.online", {"lat": LAT, "lng": LNG}))["ok"]
    order = await world.order(customer, lat=LAT, lng=LNG)
    await sock.wait_for("order.offer", orderId=order["id"])
    assert (await sock.call("order.grab", {"orderId": order["id"]}))["ok"]
    steps = {"accepted": 0, "arrived": 2, "completed": 4}[to]
    for action in ["depart", "arrive", "start", "complete"][:steps]:
        order = await provider.api.ok("POST", f"/api/orders/{order['id']}/{action}")
    if to == "accepted":
        order = await provider.api.ok("GET", f"/api/orders/{order['id']}")
    assert order["status"] == to
    if to != "accepted":
        assert (await sock.call("provider.offline"))["ok"]
    return order


def _when(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


async def named(world: World) -> tuple[str, object]:
    name = f"sub-{uuid.uuid4().hex[:10]}"
    return name, await world.customer(name)


async def test_consent_adds_to_the_balances(world):
    _, customer = await named(world)
    empty = await customer.api.ok("GET", "/api/me/subscriptions")
    assert empty == {"balances": dict.fromkeys(SANDBOX_TEMPLATES, 0)}
    body = {"accepted": ["order_arrived", "payment_due"], "rejected": ["order_departed"]}
    await customer.api.ok("POST", "/api/me/subscriptions", body)
    after = await customer.api.ok("POST", "/api/me/subscriptions", {"accepted": ["order_arrived"]})
    assert after["balances"]["order_arrived"] == 2 and after["balances"]["payment_due"] == 1
    assert after["balances"]["order_departed"] == 0
    provider = await world.provider()
    mine = await provider.api.ok("POST", "/api/me/subscriptions", {"accepted": ["job_reminder"]})
    assert mine["balances"]["job_reminder"] == 1 and mine["balances"]["order_arrived"] == 0
    for bad in (
        {"accepted": ["order_teleported"]},
        {"accepted": "order_arrived"},
        {"accepted": ["order_arrived", "order_arrived"]},
        {"accepted": ["order_arrived"], "rejected": ["order_arrived"]},
        {},
    ):
        r = await customer.api.call("POST", "/api/me/subscriptions", bad)
        assert r.status_code == 422 and r.json()["error"]["code"], bad
    staff = await world.admin()
    r = await staff.call("GET", "/api/me/subscriptions")
    assert r.status_code == 403
    anon = await httpx.AsyncClient(base_url=world.base).get("/api/me/subscriptions")
    assert anon.status_code == 401


async def test_away_with_consent_for_arrived_gets_exactly_one_message(
    world, sandbox, store, notifier
):
    name, customer = await named(world)
    await consent(sandbox, customer, name, ["order_arrived"])
    order = await walk(world, customer, "arrived")
    oid = order["id"]
    assert await outcome(store, customer.user_id, f"order:{oid}:arrived") == "sent"
    # accepted and departed: no consent, so nothing was sent, and nothing failed
    assert await outcome(store, customer.user_id, f"order:{oid}:accepted") == "no_consent"
    assert await outcome(store, customer.user_id, f"order:{oid}:departed") == "no_consent"
    items = await delivered(sandbox, name, everything=True)
    assert [(i["templateId"], i["errcode"]) for i in items] == [(ARRIVED, 0)]
    item = items[0]
    lag = _when(item["at"]) - _when(order["updatedAt"])
    print(f"\n[subscribe] arrived written → message at the sandbox: {lag * 1000:.0f} ms")
    assert item["page"] == f"pages/user/order-detail?id={oid}"
    values = {k: v["value"] for k, v in item["data"].items()}
    assert values["character_string1"] == order["orderNo"] and values["name3"].endswith("师傅")
    text = json.dumps(item, ensure_ascii=False)
    assert "13800138000" not in text and "人民大道" not in text and "¥" not in text
    balances = await customer.api.ok("GET", "/api/me/subscriptions")
    assert balances["balances"]["order_arrived"] == 0
    # the status was seen: told again (another host, a restart), nothing more goes out
    assert await notifier.order_status(oid, "arrived") == "seen"
    assert len(await delivered(sandbox, name, everything=True)) == 1


async def test_with_a_socket_open_nothing_is_sent(world, sandbox, store):
    name, customer = await named(world)
    await consent(sandbox, customer, name, ["order_accepted", "order_arrived"])
    await world.socket(customer)  # in the app: it hears order.status instead
    order = await walk(world, customer, "arrived")
    for status in ("accepted", "arrived"):
        event = f"order:{order['id']}:{status}"
        assert await outcome(store, customer.user_id, event) == "online"
    assert await delivered(sandbox, name, everything=True) == []
    balances = (await customer.api.ok("GET", "/api/me/subscriptions"))["balances"]
    assert balances["order_accepted"] == 1 and balances["order_arrived"] == 1


async def test_without_consent_nothing_is_sent_and_the_order_goes_on(world, sandbox, store):
    name, customer = await named(world)
    order = await walk(world, customer, "completed")
    assert order["status"] == "completed"
    for status in ("accepted", "departed", "arrived", "completed"):
        event = f"order:{order['id']}:{status}"
        assert await outcome(store, customer.user_id, event) == "no_consent"
    assert await delivered(sandbox, name, everything=True) == []


async def test_consent_used_up_at_wechat_zeroes_the_balance(world, sandbox, store):
    """The hub believes it may send but WeChat has no consent (43101): the balance goes to 0."""
    name, customer = await named(world)
    await customer.api.ok("POST", "/api/me/subscriptions", {"accepted": ["order_arrived"]})
    order = await walk(world, customer, "arrived")
    event = f"order:{order['id']}:arrived"
    assert await outcome(store, customer.user_id, event) == "refused:43101"
    balances = (await customer.api.ok("GET", "/api/me/subscriptions"))["balances"]
    assert balances["order_arrived"] == 0
    assert [i["errcode"] for i in await delivered(sandbox, name, everything=True)] == [43101]


async def test_a_withdrawal_result_reaches_the_provider(world, sandbox, notifier):
    name = f"sub-p-{uuid.uuid4().hex[:8]}"
    provider = await world.provider(name)
    await consent(sandbox, provider, name, ["withdrawal_result"])
    row = {
        "id": 10**9 + provider.provider_id,
        "provider_id": provider.provider_id,
        "amount": 123456,
        "status": "rejected",
        "decided_at": utcnow(),
        "note": "银行卡信息有误，请核对开户行名称与账号后重新提交申请",  # too long for a thing
    }
    assert await notifier.withdrawal_result(row) == "sent"
    assert await notifier.withdrawal_result(row) == "seen"
    (item,) = await delivered(sandbox, name)
    assert item["page"] == "pages/electrician/profile"  # where the provider sees withdrawals
    values = {k: v["value"] for k, v in item["data"].items()}
    assert values["amount2"] == "¥1234.56" and values["phrase3"] == "提现失败"
    assert len(values["thing5"]) == 20 and values["thing5"].endswith("…")


@pytest.fixture
async def notifier(store, sandbox):
    """A second sender in the test process (as another host would be), on the session's
    stores and sandbox, sharing the hub's access token."""
    settings = Settings(mysql_url=MYSQL_URL, redis_url=REDIS_URL, wechat_api_base=sandbox)
    redis = redis_connect(REDIS_URL, 4)
    wechat = WeChatLogin.for_settings(settings)
    yield Notifier(settings, store, redis, Keys.for_database(MYSQL_URL), wechat)
    wechat.close()
    await redis.aclose()


async def test_a_provider_hears_of_tomorrows_job_even_in_the_app(world, sandbox, store):
    name = f"sub-j-{uuid.uuid4().hex[:8]}"
    provider = await world.provider(name)
    await consent(sandbox, provider, name, ["job_reminder"])
    order = await walk(world, await world.customer(), "accepted", provider)
    oid = order["id"]
    # The slot moved to tomorrow (how a scheduled order is dispatched is not tested here);
    # the host's pass reads slots from MySQL, and the provider's socket is open.
    slot = (utcnow() + timedelta(hours=20)).replace(microsecond=0)
    rows("UPDATE orders SET scheduled_at = %s WHERE id = %s", (slot, oid))
    assert await outcome(store, provider.user_id, f"job:{oid}:{slot:%Y%m%d%H%M}") == "sent"
    (item,) = await delivered(sandbox, name)
    assert item["templateId"] == SANDBOX_TEMPLATES["job_reminder"]
    assert item["page"] == f"pages/electrician/order-detail?id={oid}"
    assert "人民大道" not in json.dumps(item, ensure_ascii=False)


async def test_a_claim_its_sender_never_finished_is_recorded_interrupted(world, store, notifier):
    """A host that stopped between the claim and WeChat's answer: after STALE_CLAIM the claim
    is recorded as interrupted by any host's sweep, and the event is still never sent again."""
    _, customer = await named(world)
    event = f"order:{10**9 + customer.user_id}:arrived"
    long_ago = utcnow() - timedelta(minutes=6)
    assert await store.claim(customer.user_id, "order_arrived", event, long_ago)
    await notifier.sweep()
    rows_of = {r["event_key"]: r["result"] for r in await store.of_user(customer.user_id)}
    assert rows_of[event] == "failed:interrupted"
    data = {"character_string1": "OH1", "thing2": "x", "name3": "王", "time4": long_ago}
    assert await notifier.send(customer.user_id, "order_arrived", event, data) == "seen"
