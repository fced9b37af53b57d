"""Alibaba Cloud SMS (Dysmsapi 2017-05-25): SendSms, as dysmsapi.aliyuncs.com answers it.

Reached through the signed RPC gateway (sandbox/aliyun_sign.py). Checks what the service
checks: the sign name (签名) is one approved for the account, the template code is known, the
template's variables are all given (a JSON object, each value a string of at most 35
characters, a verification code's digits only), each phone a mainland mobile number, and its
flow control (one message a minute per number and template). Failures are HTTP 200 with
`Code` other than "OK", as at Alibaba Cloud.

Every message is recorded: `GET /sandbox/sms?phone=` lists what each phone received (sandbox
only, for tests and demos).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

# The sandbox's approved sign name and templates (at Alibaba Cloud, what the console approved).
# The hub's defaults (adapters/settings.py) are the same.
SIGN_NAME = "到家服务"
VERIFY_CODE = "SMS_480100001"
STAFF_ALERT = "SMS_480100002"
MOBILE = re.compile(r"^(\+?86)?1[3-9]\d{9}$")
VAR_MAX = 35
KEPT = 10_000


@dataclass(frozen=True)
class SmsTemplate:
    text: str
    variables: tuple[str, ...]
    digits: tuple[str, ...] = ()  # variables that must be 4–8 digits (验证码 templates)


TEMPLATES = {
    VERIFY_CODE: SmsTemplate(
        "您的验证码为：${code}，5分钟内有效，请勿泄露给他人。", ("code",), ("code",)
    ),
    STAFF_ALERT: SmsTemplate(
        "调度告警：${kind}，订单${order}，请尽快在控制台处理。", ("kind", "order")
    ),
}


def _fail(code: str, message: str) -> tuple[int, dict]:
    return 200, {"Code": code, "Message": message}


class SmsProduct:
    def __init__(self, sign_names: tuple[str, ...] = (SIGN_NAME,)):
        self.sign_names = sign_names
        self.sent: deque[dict] = deque(maxlen=KEPT)
        self._last: dict[tuple[str, str], float] = {}  # (phone, template) → last send

    @property
    def actions(self) -> dict:
        return {"SendSms": self.send_sms}

    @property
    def routes(self) -> list[Route]:
        return [Route("/sandbox/sms", self.listing, methods=["GET"])]

    async def send_sms(self, p: dict[str, str]) -> tuple[int, dict]:
        phones = [n.strip() for n in p.get("PhoneNumbers", "").split(",") if n.strip()]
        if not phones or len(phones) > 1000 or not all(MOBILE.match(n) for n in phones):
            return _fail("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        if p.get("SignName") not in self.sign_names:
            return _fail("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        template = TEMPLATES.get(p.get("TemplateCode", ""))
        if template is None:
            return _fail("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        try:
            values = json.loads(p.get("TemplateParam") or "{}")
        except ValueError:
            return _fail("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            return _fail("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        if missing := [v for v in template.variables if not values.get(v)]:
            return _fail("isv.TEMPLATE_MISSING_PARAMETERS", f"模版缺少变量: {missing[0]}")
        for name in template.variables:
            value = values[name]
            bad_digits = name in template.digits and not re.fullmatch(r"\d{4,8}", value)
            if len(value) > VAR_MAX or bad_digits:
                return _fail("isv.TEMPLATE_PARAMS_ILLEGAL", f"模版变量里包含非法关键字: {name}")
        now = time.time()
        code = p["TemplateCode"]
        if any(now - self._last.get((n[-11:], code), 0) < 60 for n in phones):
            return _fail("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")
        content = f"【{p['SignName']}】" + re.sub(
            r"\$\{(\w+)\}", lambda m: values.get(m.group(1), ""), template.text
        )
        biz_id = f"{int(now * 1000)}^{uuid.uuid4().hex[:10]}"
        for phone in phones:
            self._last[(phone[-11:], code)] = now
            self.sent.append(
                {
                    "phone": phone[-11:],
                    "signName": p["SignName"],
                    "templateCode": code,
                    "templateParam": values,
                    "content": content,
                    "outId": p.get("OutId"),
                    "bizId": biz_id,
                    "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                }
            )
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id}

    async def listing(self, request: Request) -> JSONResponse:
        phone = request.query_params.get("phone")
        items = [m for m in self.sent if phone is None or m["phone"] == phone]
        return JSONResponse({"items": items})
