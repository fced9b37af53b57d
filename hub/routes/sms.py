"""SMS (issue #16, docs/api.md "SMS"): verification codes for binding a phone outside WeChat
and for staff signing in from a new device, and staff alerts by SMS where staff ask for them.

Codes go out through Alibaba Cloud SMS (adapters/sms.py) and live hashed in Redis
(adapters/sms_codes.py): one a minute and ten a day per phone, a limit per IP, five minutes,
one use. Phone numbers are logged masked only.
"""

from __future__ import annotations

import hashlib
import os
from typing import Annotated, Literal

from pydantic import Field

from adapters import accounts, staff_sms
from adapters.aliyun import AliyunError
from adapters.phones import mask
from hub.auth import ROLES, STAFF
from hub.errors import ApiError, BadRequest, Conflict, TooMany, Unauthorized, Unavailable
from hub.models import In, MeOut, Out, Phone, StrictBool
from hub.ratelimit import client_ip
from hub.router import Call, Router
from hub.routes.auth import me

router = Router("sms")

PER_IP_HOUR = int(os.environ.get("HUB_SMS_PER_IP_HOUR", 20))
Code = Annotated[str, Field(pattern=r"^\d{6}$", description="the 6 digits the SMS carried")]
DeviceId = Annotated[str, Field(min_length=8, max_length=128)]


class SmsCodeIn(In):
    phone: Phone
    purpose: Literal["bind_phone"]


class SmsSent(Out):
    phone: str = Field(description="masked")
    expires_in: int
    retry_after: int


class BindPhoneSms(In):
    phone: Phone
    sms_code: Code


class SmsAlertsIn(In):
    enabled: StrictBool


class SmsAlertsOut(Out):
    enabled: bool
    phone: str | None = Field(None, description="masked; alerts need a bound phone")


async def send_code(call: Call, purpose: str, phone: str) -> dict:
    """Limits (IP, then the phone's minute and day), a fresh code, the SMS. A code whose SMS
    was refused is void at once."""
    hub = call.hub
    await hub.limiter.hit(f"sms-ip:{client_ip(call.request.scope)}", PER_IP_HOUR, 3600)
    refusal = await hub.sms_codes.may_send(purpose, phone)
    if refusal is not None:
        raise TooMany(
            f"an SMS code was sent to this phone too recently; retry in {refusal.retry_after} s",
            refusal.code,
            retryAfter=refusal.retry_after,
        )
    code = await hub.sms_codes.issue(purpose, phone)
    try:
        await hub.sms.send_code(phone, code, purpose)
    except AliyunError as exc:
        await hub.sms_codes.forget(purpose, phone)
        if exc.code == "isv.MOBILE_NUMBER_ILLEGAL":
            raise BadRequest("this phone number cannot receive SMS", "invalid_phone") from None
        if exc.code == "isv.BUSINESS_LIMIT_CONTROL":
            raise TooMany("the SMS service is limiting this phone", "rate_limited") from None
        raise Unavailable("the SMS service failed; retry later", "sms_unavailable") from None
    return {"phone": mask(phone), "expiresIn": 300, "retryAfter": 60}


@router.route(
    "POST", "/api/auth/sms-code", roles=ROLES, body=SmsCodeIn, response=SmsSent, status=202
)
async def sms_code(call: Call):
    """Send a verification code by SMS (to bind that phone outside WeChat)."""
    return await send_code(call, call.body.purpose, call.body.phone)


@router.route("POST", "/api/auth/bind-phone/sms", roles=ROLES, body=BindPhoneSms, response=MeOut)
async def bind_phone_sms(call: Call):
    """Bind the phone a code was sent to: the right code, within 5 minutes, once."""
    hub, body = call.hub, call.body
    if not await hub.sms_codes.check("bind_phone", body.phone, body.sms_code):
        raise BadRequest("the code is wrong, expired or already used", "invalid_code")
    enc, lookup, masked = hub.vault.seal(body.phone)
    await accounts.bind_phone(hub.db, call.me.user_id, enc, lookup, masked)
    return await me(call)


def _device_hash(device_id: str) -> bytes:
    return hashlib.sha256(device_id.encode()).digest()


async def staff_second_factor(call: Call, user: dict, device_id: str | None, code: str | None):
    """A staff account with a phone signs in from a new device (or without a device id) only
    with the SMS code this sends to that phone. An account without a phone signs in with its
    password alone (it binds one first; the bootstrap admin has none)."""
    hub = call.hub
    if not user.get("phone_enc"):
        return
    if device_id and await staff_sms.known_device(hub.db, user["id"], _device_hash(device_id)):
        return
    phone = hub.vault.decrypt(user["phone_enc"])
    if code:
        if not await hub.sms_codes.check("staff_login", phone, code):
            raise Unauthorized("the SMS code is wrong, expired or used", "invalid_code")
        if device_id:
            await staff_sms.remember_device(hub.db, user["id"], _device_hash(device_id))
        return
    retry_after = 60
    try:
        retry_after = (await send_code(call, "staff_login", phone))["retryAfter"]
    except ApiError as exc:
        if exc.code != "rate_limited":  # a code sent under a minute ago is still good
            raise
    raise Unauthorized(
        "a new device: enter the code sent by SMS",
        "sms_code_required",
        phone=mask(phone),
        retryAfter=retry_after,
    )


@router.route("GET", "/api/me/sms-alerts", roles=STAFF, response=SmsAlertsOut)
async def get_sms_alerts(call: Call):
    """Whether staff alerts reach this staff member by SMS as well."""
    user = await accounts.user(call.hub.db, call.me.user_id)
    enabled = await staff_sms.alerts_enabled(call.hub.db, call.me.user_id)
    return {"enabled": enabled, "phone": user and user["phone_masked"]}


@router.route("PUT", "/api/me/sms-alerts", roles=STAFF, body=SmsAlertsIn, response=SmsAlertsOut)
async def put_sms_alerts(call: Call):
    """Ask for staff alerts by SMS (needs a bound phone), or stop them."""
    user = await accounts.user(call.hub.db, call.me.user_id)
    if call.body.enabled and not (user and user["phone_enc"]):
        raise Conflict("bind a phone first (POST /api/auth/sms-code)", "no_phone")
    await staff_sms.set_alerts(call.hub.db, call.me.user_id, call.body.enabled)
    return await get_sms_alerts(call)
