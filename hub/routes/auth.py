"""CONTRACT §3: WeChat login for customers and providers, password login for staff."""

from __future__ import annotations

import asyncio
from datetime import UTC

from adapters import accounts, providers
from adapters.wechat import WeChatError
from hub.auth import ROLES, check_password
from hub.errors import ApiError, BadRequest, Unauthorized, Unavailable
from hub.models import BindPhone, LoginOut, MeOut, StaffLogin, WechatLogin
from hub.ratelimit import client_ip
from hub.router import Call, Router
from hub.routes import coupons
from hub.routes.providers import provider_json

router = Router("auth")

LOCK_AFTER = 3
LOCK_HOURS = 1
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
    user, is_new = await accounts.wechat_user(
        hub.db, session["openid"], session.get("unionid"), body.role, "微信用户"
    )
    if user["status"] != "active":
        raise Unauthorized("this account is disabled", "account_disabled")
    await accounts.record_wechat_login(hub.db, user["id"])
    if is_new and user["role"] == "customer":
        await coupons.welcome(hub, user["id"])  # new-customer coupons (CONTRACT §12)
    token = hub.tokens.issue(user["id"], user["role"])
    return {"token": token, "user": user_json(user), "isNewUser": is_new}


@router.route("POST", "/api/auth/login", body=StaffLogin, response=LoginOut)
async def staff_login(call: Call):
    """Console staff log in with a password; 3 failures lock the account for an hour."""
    hub, body = call.hub, call.body
    await hub.limiter.hit(f"login:{client_ip(call.request.scope)}", hub.limits.login_per_min)
    user = await accounts.staff_by_username(hub.db, body.username)
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
            await accounts.record_failed_login(hub.db, user["id"], LOCK_AFTER, LOCK_HOURS)
        raise Unauthorized("wrong username or password", "bad_credentials")
    if user["status"] != "active":
        raise Unauthorized("this account is disabled", "account_disabled")
    from hub.routes.sms import staff_second_factor  # here: hub.routes.sms imports this module

    await staff_second_factor(call, user, body.device_id, body.sms_code)
    await accounts.record_staff_login(hub.db, user["id"])
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
    await accounts.bind_phone(hub.db, call.me.user_id, enc, lookup, masked)
    return await me(call)


@router.route("GET", "/api/me", roles=ROLES, response=MeOut)
async def me(call: Call):
    """The caller's account, and their provider profile if they have one."""
    user = await accounts.user(call.hub.db, call.me.user_id)
    if user is None:
        raise Unauthorized("this account no longer exists", "invalid_token")
    provider = await providers.for_user(call.hub.db, user["id"])
    return {
        "user": user_json(user),
        "provider": provider_json(provider, private=True) if provider else None,
    }
