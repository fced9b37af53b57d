"""CONTRACT §3: WeChat login through the sandbox, staff passwords that lock after three
failures, tokens that expire, masked phones, and sockets that refuse bad tokens."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import jwt
import pytest
import socketio
from conftest import MYSQL_URL, Api

from hub.accounts import ensure_staff


def _secret(hub) -> str:
    return (Path(hub.env["ORDERHUB_STATE_DIR"]) / "hub-secret").read_text().strip()


def _token(secret: str, user_id: int, role: str = "customer", **claims) -> str:
    now = int(time.time())
    body = {"sub": str(user_id), "role": role, "iat": now, "exp": now + 600, **claims}
    return jwt.encode(body, secret, algorithm="HS256")


def _error(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["message"], err
    return err


async def test_wechat_login_is_one_user_per_code(hub):
    anon = Api(hub.url)
    code = f"sandbox-auth-{uuid.uuid4().hex[:10]}"
    first = await anon.ok("POST", "/api/auth/wechat-login", {"code": code})
    assert first["isNewUser"] is True and first["token"]
    assert first["user"]["role"] == "customer" and first["user"]["nickname"]
    assert "sessionKey" not in first and "session_key" not in str(first)
    again = await anon.ok("POST", "/api/auth/wechat-login", {"code": code})
    assert again["isNewUser"] is False and again["user"]["id"] == first["user"]["id"]

    r = await anon.call("POST", "/api/auth/wechat-login", {"code": "bad-code"})
    err = _error(r, 401, "invalid_code")
    assert "code" in err["message"]
    await anon.close()


async def test_staff_account_locks_after_three_bad_passwords(hub):
    name, other = f"disp-{uuid.uuid4().hex[:8]}", f"disp-{uuid.uuid4().hex[:8]}"
    assert ensure_staff(MYSQL_URL, name, "right-pw-1", "dispatcher")
    assert ensure_staff(MYSQL_URL, other, "right-pw-2", "dispatcher")
    anon = Api(hub.url)

    ok = await anon.ok("POST", "/api/auth/login", {"username": name, "password": "right-pw-1"})
    assert ok["user"]["role"] == "dispatcher" and ok["token"]
    for _ in range(3):
        r = await anon.call("POST", "/api/auth/login", {"username": name, "password": "wrong"})
        _error(r, 401, "bad_credentials")
    r = await anon.call("POST", "/api/auth/login", {"username": name, "password": "right-pw-1"})
    err = _error(r, 429, "account_locked")
    assert "locked" in err["message"]

    # Another account is unaffected, and an unknown name looks like a wrong password.
    await anon.ok("POST", "/api/auth/login", {"username": other, "password": "right-pw-2"})
    r = await anon.call("POST", "/api/auth/login", {"username": "nobody-x", "password": "pw"})
    _error(r, 401, "bad_credentials")
    await anon.close()


async def test_tokens_expired_garbage_or_missing_are_401(hub, world):
    user = await world.customer()
    secret = _secret(hub)
    now = int(time.time())

    # Control: a token made with the hub's secret is accepted, so the 401s below are real.
    fresh = Api(hub.url, _token(secret, user.user_id))
    assert (await fresh.ok("GET", "/api/me"))["user"]["id"] == user.user_id

    expired = Api(hub.url, _token(secret, user.user_id, iat=now - 7200, exp=now - 60))
    _error(await expired.call("GET", "/api/me"), 401, "token_expired")
    cases = {
        "garbage": Api(hub.url, "not.a.jwt"),
        "wrong secret": Api(hub.url, _token("x" * 64, user.user_id)),
        "unknown role": Api(hub.url, _token(secret, user.user_id, role="root")),
        "alg none": Api(
            hub.url,
            jwt.encode({"sub": str(user.user_id), "role": "admin", "exp": now + 60}, None, "none"),
        ),
    }
    for what, api in cases.items():
        r = await api.call("GET", "/api/me")
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token", (what, r.text)
    anon = Api(hub.url)
    _error(await anon.call("GET", "/api/me"), 401, "missing_token")
    r = await anon.call("GET", "/api/me", headers={"Authorization": f"Basic {user.token}"})
    _error(r, 401, "missing_token")
    for api in [fresh, expired, anon, *cases.values()]:
        await api.close()


async def test_me_and_bind_phone_show_a_masked_phone(world):
    user = await world.customer()
    me = await user.api.ok("GET", "/api/me")
    assert me["user"]["id"] == user.user_id and me["user"]["role"] == "customer"
    assert me["user"]["phone"] is None and me["provider"] is None

    bound = await user.api.ok(
        "POST", "/api/auth/bind-phone", {"phoneCode": "sandbox-phone-13800138000"}
    )
    assert bound["user"]["phone"] == "138****8000"
    assert (await user.api.ok("GET", "/api/me"))["user"]["phone"] == "138****8000"
    r = await user.api.call("POST", "/api/auth/bind-phone", {"phoneCode": "bad-code"})
    _error(r, 400, "invalid_code")


async def _refused(hub, auth) -> dict:
    """Connect with `auth`; the connection must fail. Returns the hub's refusal data."""
    sio = socketio.AsyncClient(reconnection=False)
    refusals: list = []
    sio.on("connect_error", refusals.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(hub.url, auth=auth, transports=["websocket"], wait_timeout=10)
    assert not sio.connected
    await sio.disconnect()
    assert refusals, "no connect_error event"
    return refusals[0]


@pytest.mark.parametrize(
    ("auth", "code"),
    [
        (None, "missing_token"),
        ({}, "missing_token"),
        ({"token": "garbage"}, "invalid_token"),
        ({"token": 42}, "invalid_token"),
        ("token", "missing_token"),
    ],
)
async def test_socket_with_a_bad_token_is_refused(hub, auth, code):
    refusal = await _refused(hub, auth)
    assert code in str(refusal), refusal


@pytest.mark.parametrize(
    ("auth", "code"), [({"token": "garbage"}, "invalid_token"), ({}, "missing_token")]
)
async def test_socket_refusal_carries_a_structured_error(hub, auth, code):
    refusal = await _refused(hub, auth)
    data = refusal.get("data") if isinstance(refusal, dict) else None
    assert isinstance(data, dict) and data.get("code") == code, refusal
    assert isinstance(refusal.get("message"), str) and "{'" not in refusal["message"]


async def test_socket_with_an_expired_token_is_refused(hub, world):
    user = await world.customer()
    now = int(time.time())
    token = _token(_secret(hub), user.user_id, iat=now - 7200, exp=now - 60)
    refusal = await _refused(hub, {"token": token})
    assert "token_expired" in str(refusal), refusal
