"""CONTRACT §3: WeChat login for customers and providers, password login for staff."""

from __future__ import annotations

import asyncio
from datetime import UTC

from adapters.mysql import is_duplicate
from adapters.wechat import WeChatError
from hub.auth import ROLES, check_password
from hub.errors import ApiError, BadRequest, Unauthorized, Unavailable
from hub.models import BindPhone, LoginOut, MeOut, StaffLogin, WechatLogin
from hub.ratelimit import client_ip
from hub.router import Call, Router
from hub.routes.providers import provider_json

router = Router("auth")

LOCK_AFTER = 3
LOCK_FOR = "INTERVAL 1 HOUR"
# WeChat's own codes that mean "the user sent a bad code" rather than "WeChat is down".
_BAD_CODE = {40029, 40163, 40226}


def user_json(row: dict) -> dict:
    return {
        "id": row["id"],
        "role": row["role"],
        "nickname": row["nickname"],
        "phone": row.get("phone_masked"),
    }


@router.route("POST", "/api/auth/wechat-login", body=WechatLogin, response=LoginOut)
async def wechat_login(call: Call):
    """Exchange a mini program login code for a token (the session_key stays in the hub)."""
    hub, body = call.hub, call.body
    await hub.limiter.hit(f"wxlogin:{client_ip(call.request.scope)}", hub.limits.login_per_min)
    try:
        session = await hub.wechat.code_to_session(body.code)
    except WeChatError as exc:
        if exc.errcode in _BAD_CODE:
            raise Unauthorized(
                f"WeChat rejected the login code ({exc.errcode}: {exc.errmsg})", "invalid_code"
            ) from None
        if exc.errcode == 45011:
            raise ApiError(
                "WeChat is rate limiting logins; retry in a minute", "rate_limited", 429
            ) from None
        raise Unavailable(
            f"WeChat login failed ({exc.errcode}: {exc.errmsg})", "wechat_unavailable"
        ) from None
    openid = session["openid"]
    user = await hub.db.fetch_one("SELECT * FROM users WHERE openid = %s", (openid,))
    is_new = user is None
    if is_new:
        try:
            await hub.db.execute(
                "INSERT INTO users (role, openid, unionid, nickname) VALUES (%s, %s, %s, %s)",
                (body.role, openid, session.get("unionid"), "微信用户"),
            )
        except Exception as exc:
            if not is_duplicate(exc):  # a concurrent first login of the same user won
                raise
            is_new = False
        user = await hub.db.fetch_one("SELECT * FROM users WHERE openid = %s", (openid,))
    if user["status"] != "active":
        raise Unauthorized("this account is disabled", "account_disabled")
    await hub.db.execute(
        "UPDATE users SET last_login_at = UTC_TIMESTAMP(3) WHERE id = %s", (user["id"],)
    )
    token = hub.tokens.issue(user["id"], user["role"])
    return {"token": token, "user": user_json(user), "isNewUser": is_new}


@router.route("POST", "/api/auth/login", body=StaffLogin, response=LoginOut)
async def staff_login(call: Call):
    """Console staff log in with a password; 3 failures lock the account for an hour."""
    hub, body = call.hub, call.body
    await hub.limiter.hit(f"login:{client_ip(call.request.scope)}", hub.limits.login_per_min)
    user = await hub.db.fetch_one(
        "SELECT *, locked_until > UTC_TIMESTAMP(3) AS locked FROM users"
        " WHERE username = %s AND role IN ('dispatcher', 'admin')",
        (body.username,),
    )
    if user and user["locked"]:
        until = user["locked_until"].replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
        raise ApiError(
            f"account locked after {LOCK_AFTER} failed logins until {until}",
            "account_locked",
            429,
            lockedUntil=until,
        )
    ok = await asyncio.to_thread(
        check_password, body.password, user["password_hash"] if user else None
    )
    if not user or not ok:
        if user:
            # locked_until first: MySQL assigns left to right, so it sees the old count.
            await hub.db.execute(
                f"UPDATE users SET locked_until = IF(failed_logins + 1 >= {LOCK_AFTER},"
                f" UTC_TIMESTAMP(3) + {LOCK_FOR}, locked_until),"
                " failed_logins = IF(failed_logins + 1 >= %s, 0, failed_logins + 1)"
                " WHERE id = %s",
                (LOCK_AFTER, user["id"]),
            )
        raise Unauthorized("wrong username or password", "bad_credentials")
    if user["status"] != "active":
        raise Unauthorized("this account is disabled", "account_disabled")
    await hub.db.execute(
        "UPDATE users SET failed_logins = 0, locked_until = NULL,"
        " last_login_at = UTC_TIMESTAMP(3) WHERE id = %s",
        (user["id"],),
    )
    return {"token": hub.tokens.issue(user["id"], user["role"]), "user": user_json(user)}


@router.route("POST", "/api/auth/bind-phone", roles=ROLES, body=BindPhone, response=MeOut)
async def bind_phone(call: Call):
    """Bind the caller's phone from a WeChat phone code; stored encrypted, shown masked."""
    hub = call.hub
    await hub.limiter.hit(f"bindphone:{call.me.user_id}", 10)
    try:
        phone = await hub.wechat.phone_number(call.body.phone_code)
    except WeChatError as exc:
        if exc.errcode in _BAD_CODE:
            raise BadRequest(
                f"WeChat rejected the phone code ({exc.errcode})", "invalid_code"
            ) from None
        raise Unavailable(
            f"WeChat failed ({exc.errcode}: {exc.errmsg})", "wechat_unavailable"
        ) from None
    enc, lookup, masked = hub.vault.seal(phone)
    await hub.db.execute(
        "UPDATE users SET phone_enc = %s, phone_hash = %s, phone_masked = %s WHERE id = %s",
        (enc, lookup, masked, call.me.user_id),
    )
    return await me(call)


@router.route("GET", "/api/me", roles=ROLES, response=MeOut)
async def me(call: Call):
    """The caller's account, and their provider profile if they have one."""
    user = await call.hub.db.fetch_one("SELECT * FROM users WHERE id = %s", (call.me.user_id,))
    if user is None:
        raise Unauthorized("this account no longer exists", "invalid_token")
    provider = await call.hub.db.fetch_one(
        "SELECT * FROM providers WHERE user_id = %s", (user["id"],)
    )
    return {
        "user": user_json(user),
        "provider": provider_json(provider, private=True) if provider else None,
    }
