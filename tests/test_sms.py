"""SMS (issue #16): verification codes through Alibaba Cloud's SDK against the sandbox, which
checks the request signature, the sign name and the template; the limits per phone and per IP;
a code that is wrong, reused or guessed at is refused; staff sign in from a new device with a
code; staff ask for alerts by SMS."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from conftest import MYSQL_URL, REDIS_URL, Api

from adapters import accounts
from adapters.aliyun import AliyunError, access_key
from adapters.mysql import Database
from adapters.phones import PhoneVault
from adapters.redis import Keys
from adapters.redis import connect as redis_connect
from adapters.settings import Settings
from adapters.sms import SmsGateway
from adapters.sms_codes import SmsCodes
from hub.accounts import ensure_staff
from hub.secret_files import phone_key


async def own_address(api: Api) -> Api:
    """`api` sending from an address of its own in 127.0.0.0/8: the SMS limit per client
    address is shared with everything else in the suite that calls from 127.0.0.1."""
    ip = f"127.{random.randrange(1, 250)}.{random.randrange(1, 250)}.{random.randrange(2, 250)}"
    transport = httpx.AsyncHTTPTransport(local_address=ip)
    old, api.http = (
        api.http,
        httpx.AsyncClient(
            base_url=api.base, headers=api.http.headers, timeout=60, transport=transport
        ),
    )
    await old.aclose()
    return api


def _phone() -> str:
    return f"139{random.randrange(10**8):08d}"


async def _received(sandbox: str, phone: str) -> list[dict]:
    async with httpx.AsyncClient(base_url=sandbox) as http:
        return (await http.get("/sandbox/sms", params={"phone": phone})).json()["items"]


async def _code(sandbox: str, phone: str) -> str:
    return (await _received(sandbox, phone))[-1]["templateParam"]["code"]


def _error(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.text
    return r.json()["error"]


async def test_a_code_binds_a_phone_once(world, sandbox):
    customer = await world.customer()
    await own_address(customer.api)
    phone = _phone()
    body = {"phone": phone, "purpose": "bind_phone"}
    sent = await customer.api.ok("POST", "/api/auth/sms-code", body, status=202)
    assert sent == {"phone": phone[:3] + "****" + phone[-4:], "expiresIn": 300, "retryAfter": 60}
    [sms] = await _received(sandbox, phone)
    assert sms["signName"] == "到家服务" and sms["templateCode"] == "SMS_480100001"
    code = sms["templateParam"]["code"]
    assert len(code) == 6 and f"验证码为：{code}" in sms["content"]

    # one a minute per phone, whoever asks
    other = await world.customer()
    await own_address(other.api)
    err = _error(await other.api.call("POST", "/api/auth/sms-code", body), 429, "rate_limited")
    assert 0 < err["retryAfter"] <= 60

    wrong = f"{(int(code) + 1) % 10**6:06d}"
    bind = {"phone": phone, "smsCode": wrong}
    _error(await customer.api.call("POST", "/api/auth/bind-phone/sms", bind), 400, "invalid_code")
    right = {"phone": phone, "smsCode": code}
    me = await customer.api.ok("POST", "/api/auth/bind-phone/sms", right)
    assert me["user"]["phone"] == phone[:3] + "****" + phone[-4:]
    again = {"phone": phone, "smsCode": code}  # used: refused, for anyone
    _error(await other.api.call("POST", "/api/auth/bind-phone/sms", again), 400, "invalid_code")


async def test_guessing_voids_the_code(world, sandbox):
    customer = await world.customer()
    await own_address(customer.api)
    phone = _phone()
    body = {"phone": phone, "purpose": "bind_phone"}
    await customer.api.ok("POST", "/api/auth/sms-code", body, status=202)
    code = await _code(sandbox, phone)
    for n in range(5):
        guess = {"phone": phone, "smsCode": f"{(int(code) + 1 + n) % 10**6:06d}"}
        r = await customer.api.call("POST", "/api/auth/bind-phone/sms", guess)
        _error(r, 400, "invalid_code")
    right = {"phone": phone, "smsCode": code}
    _error(await customer.api.call("POST", "/api/auth/bind-phone/sms", right), 400, "invalid_code")


async def test_codes_per_ip_are_limited(world, hub):
    """20 codes an hour from one address (HUB_SMS_PER_IP_HOUR), whatever the phones: the
    client connects from an address of its own in 127.0.0.0/8."""
    customer = await world.customer()
    ip = f"127.{random.randrange(1, 250)}.{random.randrange(1, 250)}.{random.randrange(2, 250)}"
    transport = httpx.AsyncHTTPTransport(local_address=ip)
    headers = {"Authorization": f"Bearer {customer.token}"}
    async with httpx.AsyncClient(base_url=hub.url, transport=transport, headers=headers) as http:
        for _ in range(20):
            body = {"phone": _phone(), "purpose": "bind_phone"}
            r = await http.post("/api/auth/sms-code", json=body)
            assert r.status_code == 202, r.text
        r = await http.post("/api/auth/sms-code", json={"phone": _phone(), "purpose": "bind_phone"})
        _error(r, 429, "rate_limited")


async def test_ten_a_day_hashed_five_minutes():
    """The store itself: ten codes a day per phone; nothing in Redis holds the phone or the
    code in clear; a code lives 5 minutes."""
    redis = redis_connect(REDIS_URL)
    ns = f"{Keys.for_database(MYSQL_URL).ns}-t{uuid.uuid4().hex[:6]}"
    codes = SmsCodes(redis, ns, b"k" * 32, cooldown_s=0)
    phone = _phone()
    try:
        for _ in range(10):
            assert await codes.may_send("bind_phone", phone) is None
        refusal = await codes.may_send("bind_phone", phone)
        assert refusal is not None and refusal.code == "too_many_today"
        code = await codes.issue("bind_phone", phone)
        keys = [k async for k in redis.scan_iter(f"{ns}:*")]
        stored = [str(await (redis.hgetall if ":code:" in k else redis.get)(k)) for k in keys]
        pairs = zip(keys, stored, strict=True)
        assert keys and not any(phone in k or phone in v or code in v for k, v in pairs)
        [code_key] = [k for k in keys if ":code:" in k]
        assert 290 < await redis.ttl(code_key) <= 300
        assert await codes.check("bind_phone", phone, code) is True
        assert await codes.check("bind_phone", phone, code) is False
    finally:
        async for k in redis.scan_iter(f"{ns}:*"):
            await redis.delete(k)
        await redis.aclose()


async def test_the_sandbox_checks_signature_sign_name_and_template(hub, sandbox):
    state = Path(hub.env["ORDERHUB_STATE_DIR"])
    settings = Settings(state_dir=state, aliyun_sms_base=sandbox)
    key_id, _ = access_key(state, None, None)
    forged = SmsGateway(
        replace(settings, aliyun_access_key_id=key_id, aliyun_access_key_secret="not-the-secret")
    )
    with pytest.raises(AliyunError) as refused:
        await forged.send_code(_phone(), "123456", "test")
    assert refused.value.code == "SignatureDoesNotMatch"
    with pytest.raises(AliyunError) as refused:
        await SmsGateway(replace(settings, sms_sign_name="别家")).send_code(_phone(), "1234", "t")
    assert refused.value.code == "isv.SMS_SIGNATURE_ILLEGAL"
    with pytest.raises(AliyunError) as refused:
        await SmsGateway(settings).send(_phone(), "SMS_000", {"code": "1234"}, "t")
    assert refused.value.code == "isv.SMS_TEMPLATE_ILLEGAL"
    with pytest.raises(AliyunError) as refused:
        await SmsGateway(settings).send(_phone(), "SMS_480100001", {"code": "12ab"}, "t")
    assert refused.value.code == "isv.TEMPLATE_PARAMS_ILLEGAL"
    phone = _phone()
    assert await SmsGateway(settings).send_code(phone, "654321", "test")
    assert (await _received(sandbox, phone))[-1]["templateParam"] == {"code": "654321"}


async def test_staff_sign_in_from_a_new_device_needs_a_code(hub, sandbox):
    name = f"disp-{uuid.uuid4().hex[:8]}"
    ensure_staff(MYSQL_URL, name, "disp-pw-1", "dispatcher")
    anon = await own_address(Api(hub.url))
    login = {"username": name, "password": "disp-pw-1", "deviceId": "laptop-0001"}
    staff = Api(hub.url, (await anon.ok("POST", "/api/auth/login", login))["token"])  # no phone
    _error(await staff.call("PUT", "/api/me/sms-alerts", {"enabled": True}), 409, "no_phone")
    phone = await _bind_directly(hub, (await staff.ok("GET", "/api/me"))["user"]["id"])
    alerts = await staff.ok("PUT", "/api/me/sms-alerts", {"enabled": True})
    assert alerts == {"enabled": True, "phone": phone[:3] + "****" + phone[-4:]}

    err = _error(await anon.call("POST", "/api/auth/login", login), 401, "sms_code_required")
    assert err["phone"] == phone[:3] + "****" + phone[-4:]
    [sms] = await _received(sandbox, phone)
    code = sms["templateParam"]["code"]
    assert sms["outId"] == "staff_login"
    wrong = {**login, "smsCode": f"{(int(code) + 1) % 10**6:06d}"}
    _error(await anon.call("POST", "/api/auth/login", wrong), 401, "invalid_code")
    assert (await anon.ok("POST", "/api/auth/login", {**login, "smsCode": code}))["token"]
    assert (await anon.ok("POST", "/api/auth/login", login))["token"]  # a known device now
    phone_again = {**login, "deviceId": "phone-0002"}
    _error(await anon.call("POST", "/api/auth/login", phone_again), 401, "sms_code_required")
    used = {**phone_again, "smsCode": code}
    _error(await anon.call("POST", "/api/auth/login", used), 401, "invalid_code")
    await anon.close()
    await staff.close()


async def _bind_directly(hub, user_id: int) -> str:
    """A phone bound as the hub binds one (sealed with the state dir's phone key), without
    the SMS that would start this phone's one-minute wait."""
    phone = _phone()
    vault = PhoneVault(phone_key(Path(hub.env["ORDERHUB_STATE_DIR"])))
    db = await Database.connect(MYSQL_URL)
    try:
        await accounts.bind_phone(db, user_id, *vault.seal(phone))
    finally:
        await db.close()
    return phone
