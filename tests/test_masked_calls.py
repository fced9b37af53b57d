"""Masked calls (issue #16, CONTRACT §13): a virtual number bound through Alibaba Cloud's SDK
(BindAxb at the sandbox) when an order is accepted, released (UnbindSubscription) when it is
completed or cancelled; the pool never hands one number to two live pairs; an empty pool leaves
the order working, answers 409 no_number_available and alerts staff (console and SMS); a call
record pushed by the sandbox lands on the order's timeline."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from conftest import MYSQL_URL, REDIS_URL, Api, User
from test_sms import own_address
from waiting import arrival, until

from actors.contact import ContactBindings
from adapters.aliyun import access_key
from adapters.mysql import Database
from adapters.privacy_numbers import PrivacyNumbers
from adapters.redis import Keys
from adapters.redis import connect as redis_connect
from adapters.settings import Settings
from adapters.virtual_numbers import NumberStore
from hub.accounts import ensure_staff


def _mobile(prefix: str = "139") -> str:
    return f"{prefix}{random.randrange(10**8):08d}"


async def _sandbox(sandbox: str, method: str, path: str, **kw) -> dict:
    async with httpx.AsyncClient(base_url=sandbox, timeout=30) as http:
        r = await http.request(method, path, **kw)
        assert r.status_code == 200, r.text
        return r.json()


async def _bind_phone(user, sandbox: str) -> str:
    """The phone bound through the SMS code flow."""
    phone = _mobile()
    await own_address(user.api)
    await user.api.ok("POST", "/api/auth/sms-code", {"phone": phone, "purpose": "bind_phone"})
    sms = await _sandbox(sandbox, "GET", "/sandbox/sms", params={"phone": phone})
    code = sms["items"][-1]["templateParam"]["code"]
    await user.api.ok("POST", "/api/auth/bind-phone/sms", {"phone": phone, "smsCode": code})
    return phone


async def _stage(world, sandbox: str, pool: int):
    """An area of the test's own with `pool` numbers, a provider there with a phone, online."""
    lat, lng = round(random.uniform(30.0, 40.0), 3), round(random.uniform(100.0, 115.0), 3)
    area = await world.area(lat, lng)
    await world.policy(area["id"], reveal_ms=0)
    numbers = [_mobile("170") for _ in range(pool)]
    if numbers:
        body = {"areaId": area["id"], "numbers": numbers}
        await (await world.admin()).ok("POST", "/api/admin/virtual-numbers", body)
    provider, provider_phone, sock = await _online_provider(world, sandbox, (lat, lng))
    return area, numbers, provider, provider_phone, sock, (lat, lng)


async def _online_provider(world, sandbox: str, where: tuple) -> tuple:
    provider = await world.provider()
    provider_phone = await _bind_phone(provider, sandbox)
    sock = await world.socket(provider)
    assert (await sock.call("provider.online", {"lat": where[0] + 0.001, "lng": where[1]}))["ok"]
    return provider, provider_phone, sock


async def _dispatcher(world) -> User:
    name = f"disp-{uuid.uuid4().hex[:8]}"
    ensure_staff(MYSQL_URL, name, "disp-pw-1", "dispatcher")
    anon = Api(world.base)
    login = {"username": name, "password": "disp-pw-1", "deviceId": "desk-0001"}
    token = (await anon.ok("POST", "/api/auth/login", login))["token"]
    await anon.close()
    api = Api(world.base, token)
    world.clients.append(api)  # closed with the world
    return User(api, (await api.ok("GET", "/api/me"))["user"]["id"], "dispatcher")


async def _accepted(world, provider_sock, where) -> tuple:
    customer = await world.customer()
    phone = _mobile("137")
    order = await world.order(customer, lat=where[0], lng=where[1], contactPhone=phone)
    await provider_sock.wait_for("order.offer", orderId=order["id"])
    assert (await provider_sock.call("order.grab", {"orderId": order["id"]}))["ok"]
    return customer, order["id"], phone


async def _bindings(sandbox: str, oid: int) -> list[dict]:
    items = (await _sandbox(sandbox, "GET", "/sandbox/privacy-number/bindings"))["items"]
    return [b for b in items if b["outId"] == str(oid)]


async def _released(sandbox: str, oid: int) -> bool:
    found = await _bindings(sandbox, oid)
    return bool(found) and all(b["status"] == "released" for b in found)


async def test_bound_on_accept_released_on_completion(world, sandbox):
    _, numbers, provider, provider_phone, sock, where = await _stage(world, sandbox, 2)
    customer, oid, customer_phone = await _accepted(world, sock, where)

    contact = await customer.api.ok("GET", f"/api/orders/{oid}/contact")
    assert contact["virtualNumber"] in numbers and contact["expiresAt"].endswith("Z")
    assert await provider.api.ok("GET", f"/api/orders/{oid}/contact") == contact
    [bound] = await _bindings(sandbox, oid)
    assert (bound["phoneNoA"], bound["phoneNoB"]) == (customer_phone, provider_phone)
    assert bound["phoneNoX"] == contact["virtualNumber"] and bound["status"] == "live"
    for stranger in (await world.customer(), await world.admin_user()):
        r = await stranger.api.call("GET", f"/api/orders/{oid}/contact")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text

    for action in ("depart", "arrive", "start", "complete"):
        await provider.api.ok("POST", f"/api/orders/{oid}/{action}")
    await until(lambda: _released(sandbox, oid), "UnbindSubscription after completion")
    pool = (await (await world.admin()).ok("GET", "/api/admin/virtual-numbers"))["items"]
    assert {p["number"]: p["orderId"] for p in pool}[contact["virtualNumber"]] is None
    r = await customer.api.call("GET", f"/api/orders/{oid}/contact")
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_live"


async def test_released_on_cancel_and_the_number_serves_the_next_order(world, sandbox):
    _, numbers, _, _, sock, where = await _stage(world, sandbox, 1)
    customer, oid, _ = await _accepted(world, sock, where)
    first = await customer.api.ok("GET", f"/api/orders/{oid}/contact")
    await customer.api.ok("POST", f"/api/orders/{oid}/cancel", {"reason": "改天"})
    await until(lambda: _released(sandbox, oid), "UnbindSubscription after cancel")
    customer2, oid2, _ = await _accepted(world, sock, where)
    again = await customer2.api.ok("GET", f"/api/orders/{oid2}/contact")
    assert again["virtualNumber"] == first["virtualNumber"] == numbers[0]


async def test_an_empty_pool_alerts_staff_and_the_order_goes_on(world, sandbox):
    _, _, _, _, sock, where = await _stage(world, sandbox, 1)
    staff = await _dispatcher(world)
    staff_phone = await _bind_phone(staff, sandbox)
    await staff.api.ok("PUT", "/api/me/sms-alerts", {"enabled": True})
    staff_sock = await world.socket(staff)

    customer, oid, _ = await _accepted(world, sock, where)
    assert (await customer.api.ok("GET", f"/api/orders/{oid}/contact"))["virtualNumber"]
    other, _, other_sock = await _online_provider(world, sandbox, where)  # the first is busy
    customer2, oid2, _ = await _accepted(world, other_sock, where)  # the pool is empty now
    r = await customer2.api.call("GET", f"/api/orders/{oid2}/contact")
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_number_available", r.text
    alert = await arrival(staff_sock, "console.update", type="alert", kind="no_number_available")
    assert alert["orderId"] == oid2

    async def alert_sms():
        got = await _sandbox(sandbox, "GET", "/sandbox/sms", params={"phone": staff_phone})
        return [m for m in got["items"] if m["templateCode"] == "SMS_480100002"]

    [sms] = await until(alert_sms, "the staff alert by SMS")
    assert "隐私号不足" in sms["content"]
    await other.api.ok("POST", f"/api/orders/{oid2}/depart")  # the order still works


async def test_the_pool_never_hands_one_number_to_two_live_pairs():
    """40 orders take numbers from a pool of 10 at once: 10 get one each, all different; the
    rest get none; given back, a number is taken again."""
    db = await Database.connect(MYSQL_URL, maxsize=20)
    store = NumberStore(db)
    area_id = 10**15 + random.randrange(10**9)  # an area id of this test alone
    base = 10**12 + random.randrange(10**9)
    try:
        await store.add([_mobile("171") for _ in range(10)], area_id)
        taken = await asyncio.gather(*(store.take(base + n, area_id) for n in range(40)))
        got = [t for t in taken if t is not None]
        assert len(got) == 10 and len(set(got)) == 10
        pool = await store.pool(area_id)
        assert sorted(p["number"] for p in pool) == sorted(got)
        assert len({p["order_id"] for p in pool}) == 10
        holder = next(base + n for n, t in enumerate(taken) if t)
        await store.give_back(holder)
        assert await store.take(base + 99, area_id) is not None
        assert await store.take(base + 98, area_id) is None
    finally:
        await db.execute("DELETE FROM virtual_numbers WHERE area_id = %s", (area_id,))
        await db.close()


async def test_a_call_record_lands_on_the_timeline(world, hub, sandbox):
    _, _, provider, _, sock, where = await _stage(world, sandbox, 1)
    customer, oid, _ = await _accepted(world, sock, where)
    await customer.api.ok("GET", f"/api/orders/{oid}/contact")
    [bound] = await _bindings(sandbox, oid)
    staff_sock = await world.socket(await world.admin_user())
    url = f"{hub.url}/api/aliyun/pls/call-records"
    await _sandbox(sandbox, "PUT", "/sandbox/privacy-number/callback", json={"url": url})

    body = {"subsId": bound["subsId"], "from": "A", "durationS": 42}
    placed = await _sandbox(sandbox, "POST", "/sandbox/privacy-number/call", json=body)
    assert placed["callbackStatus"] == 200 and json.loads(placed["callback"])["code"] == 0
    update = await arrival(staff_sock, "console.update", type="order", where=_is_call(oid))
    timeline = (await (await world.admin()).ok("GET", f"/api/orders/{oid}/timeline"))["items"]
    [call] = [i for i in timeline if i["detail"]["action"] == "call"]
    assert call == update["event"]
    detail = call["detail"]
    assert detail["from"] == "customer" and detail["durationS"] == 42 and detail["answered"]
    assert "phone" not in str(detail) and bound["phoneNoA"] not in str(timeline)

    # the same record pushed again is written once; a forged push is refused
    raw = json.dumps([placed["record"]], ensure_ascii=False).encode()
    secret = access_key(Path(hub.env["ORDERHUB_STATE_DIR"]), None, None)[1]
    ts = str(int(time.time()))
    sig = hmac.new(secret.encode(), ts.encode() + b"\n" + raw, hashlib.sha256).hexdigest()
    async with httpx.AsyncClient() as http:
        headers = {"x-pls-timestamp": ts, "x-pls-signature": sig}
        again = await http.post(url, content=raw, headers=headers)
        assert again.status_code == 200 and again.json()["code"] == 0, again.text
        forged = await http.post(url, content=raw, headers={**headers, "x-pls-signature": "0" * 64})
        assert forged.status_code == 401, forged.text
    timeline = (await (await world.admin()).ok("GET", f"/api/orders/{oid}/timeline"))["items"]
    assert [i["detail"]["action"] for i in timeline].count("call") == 1
    await provider.api.ok("POST", f"/api/orders/{oid}/depart")


def _is_call(oid: int):
    def check(update: dict) -> bool:
        event = update.get("event") or {}
        return update["order"]["id"] == oid and event.get("detail", {}).get("action") == "call"

    return check


async def test_a_release_that_failed_is_retried_by_the_next_host(world, hub, sandbox):
    """The release is written to MySQL before it is made: a host that could not reach Alibaba
    Cloud leaves it due, and the host that starts next (revive) makes it."""
    *_, sock, where = await _stage(world, sandbox, 1)
    customer, oid, _ = await _accepted(world, sock, where)
    number = (await customer.api.ok("GET", f"/api/orders/{oid}/contact"))["virtualNumber"]
    state = Path(hub.env["ORDERHUB_STATE_DIR"])
    settings = Settings(state_dir=state, mysql_url=MYSQL_URL, aliyun_pls_base=sandbox)
    db = await Database.connect(MYSQL_URL)
    redis = redis_connect(REDIS_URL)
    keys = Keys.for_database(MYSQL_URL)
    store = NumberStore(db)
    try:
        # a second binding of the same order, made here and never released by the hub: as if
        # the host died between the order's end and its UnbindSubscription
        await customer.api.ok("POST", f"/api/orders/{oid}/cancel", {"reason": "测试"})
        await until(lambda: _released(sandbox, oid), "the hub's own release")
        pls = PrivacyNumbers(settings)
        a, b = _mobile("136"), _mobile("135")
        expires = datetime.now(UTC) + timedelta(hours=1)
        subs_id = await pls.bind_axb(a, b, number, expires, str(oid))
        await db.execute(
            "UPDATE virtual_numbers SET order_id = %s WHERE number = %s", (oid, number)
        )
        await store.set_state(oid, "releasing", number=number, subs_id=subs_id)

        unreachable = replace(settings, aliyun_pls_base="http://127.0.0.1:9")  # nothing there
        dead = ContactBindings(unreachable, db, None, redis, keys)
        await dead.revive(lambda o: o == oid)
        await asyncio.sleep(0.5)
        assert (await store.binding(oid))["state"] == "releasing"  # still due
        dead.stop()

        revived = ContactBindings(settings, db, None, redis, keys)
        await revived.revive(lambda o: o == oid)
        await until(
            lambda: _state_is(store, oid, "released"), "the binding released by the next host"
        )
        assert (await pls.detail(subs_id, number))["status"] == 0
        assert {p["number"]: p["order_id"] for p in await store.pool()}[number] is None
        revived.stop()
    finally:
        await redis.aclose()
        await db.close()


async def _state_is(store: NumberStore, oid: int, state: str) -> bool:
    row = await store.binding(oid)
    return row is not None and row["state"] == state


async def test_a_provider_without_a_phone_takes_no_number(world, sandbox):
    _, numbers, _, _, _, where = await _stage(world, sandbox, 1)
    bare = await world.provider()  # no phone bound
    sock = await world.socket(bare)
    assert (await sock.call("provider.online", {"lat": where[0] - 0.001, "lng": where[1]}))["ok"]
    customer, oid, _ = await _accepted(world, sock, where)
    r = await customer.api.call("GET", f"/api/orders/{oid}/contact")
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_phone", r.text
    pool = (await (await world.admin()).ok("GET", "/api/admin/virtual-numbers"))["items"]
    assert {p["number"]: p["orderId"] for p in pool}[numbers[0]] is None  # still free


async def test_a_number_alibaba_cloud_refuses_is_passed_over(world, hub, sandbox):
    """A binding left at Alibaba Cloud (a host died before writing its SubsId) holds X for the
    same customer: BindAxb refuses X for them, and the host binds the next number."""
    _, numbers, _, _, sock, where = await _stage(world, sandbox, 2)
    settings = Settings(state_dir=Path(hub.env["ORDERHUB_STATE_DIR"]), aliyun_pls_base=sandbox)
    customer_phone = _mobile("137")
    expires = datetime.now(UTC) + timedelta(hours=1)
    left = await PrivacyNumbers(settings).bind_axb(
        customer_phone, _mobile("135"), numbers[0], expires, "left-over"
    )
    customer = await world.customer()
    order = await world.order(customer, lat=where[0], lng=where[1], contactPhone=customer_phone)
    await sock.wait_for("order.offer", orderId=order["id"])
    assert (await sock.call("order.grab", {"orderId": order["id"]}))["ok"]
    contact = await customer.api.ok("GET", f"/api/orders/{order['id']}/contact")
    assert contact["virtualNumber"] == numbers[1]
    pool = (await (await world.admin()).ok("GET", "/api/admin/virtual-numbers"))["items"]
    assert {p["number"]: p["orderId"] for p in pool}[numbers[0]] is None  # given back
    await PrivacyNumbers(settings).unbind(left, numbers[0])
