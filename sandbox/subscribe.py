"""Mini-program subscribe messages: POST /cgi-bin/message/subscribe/send, as WeChat.

Speaks api.weixin.qq.com's protocol (errors as HTTP 200 with an errcode body) and checks what
WeChat checks: the access token (the login product's token store), the openid (one this
sandbox issued), the template id, the page (one of the mini program's, 41030), each data
field's value against its kind, and the user's consent. WeChat delivers one message per
accepted `wx.requestSubscribeMessage`; here the sandbox's own `POST /sandbox/subscribe/consent`
stands in for that acceptance. There is no consent-free mode: without a balance the answer is
43101.

Sandbox pages (not at WeChat): `POST /sandbox/subscribe/consent`, `GET
/sandbox/subscribe/consent?code=`, `GET /sandbox/subscribe-messages?code=[&all=1]`.
"""

from __future__ import annotations

import json
import re
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.login import LOGIN_CODE, LoginProduct, openid_for, wechat_error

# The sandbox's templates (at WeChat, the ids the mini program's admin gets when it picks a
# template from the library). The hub's WECHAT_TEMPLATE_PAYMENT_DUE defaults to the first.
PAYMENT_DUE = "OhPayDue-uPc3lzyYBJOPqyiQoLe48OcjgcVnzSmsJT"
ORDER_ACCEPTED = "OhAccept-MJrNwlsnyWB37ukDsl0XCmOCYwGri2XurU"
ORDER_COMPLETED = "OhDone-FFVontxsoSNWGIVqJwjIHIGQ4RItDAjmNO3Y"
ORDER_DEPARTED = "OhDepart-kiLNvpiPFFBBcF9vdh4O9BFQ6xOZLNRq4S"
ORDER_ARRIVED = "OhArrive-qjZ9SnbGTrv4xhsEkTUps8GPyF7e23jV2P"
JOB_REMINDER = "OhJobTmr-Gd55i0i28JuUniMiRGAsJooV2E2LyjTtiT"
WITHDRAWAL_RESULT = "OhWithdr-BWYijwvBB6EDKIUWCUqJQhfskzKQcCCOsx"


@dataclass(frozen=True)
class Template:
    title: str
    fields: dict[str, str]  # key (kind + number, e.g. thing2) → its label


TEMPLATES: dict[str, Template] = {
    PAYMENT_DUE: Template(
        "待支付提醒",
        {
            "character_string1": "订单编号",
            "thing2": "服务项目",
            "amount3": "待付金额",
            "time4": "完成时间",
            "thing5": "温馨提示",
        },
    ),
    ORDER_ACCEPTED: Template(
        "服务接单通知",
        {
            "character_string1": "订单编号",
            "thing2": "服务项目",
            "name3": "服务师傅",
            "time4": "预约时间",
        },
    ),
    ORDER_COMPLETED: Template(
        "服务完成通知",
        {
            "character_string1": "订单编号",
            "thing2": "服务项目",
            "time3": "完成时间",
            "phrase4": "订单状态",
        },
    ),
    ORDER_DEPARTED: Template(
        "师傅出发通知",
        {
            "character_string1": "订单编号",
            "thing2": "服务项目",
            "name3": "服务师傅",
            "time4": "出发时间",
            "thing5": "温馨提示",
        },
    ),
    ORDER_ARRIVED: Template(
        "师傅到达通知",
        {
            "character_string1": "订单编号",
            "thing2": "服务项目",
            "name3": "服务师傅",
            "time4": "到达时间",
            "thing5": "温馨提示",
        },
    ),
    JOB_REMINDER: Template(
        "服务预约提醒",
        {
            "character_string1": "订单编号",
            "thing2": "服务项目",
            "time3": "预约时间",
            "thing4": "服务区域",
            "thing5": "温馨提示",
        },
    ),
    WITHDRAWAL_RESULT: Template(
        "提现结果通知",
        {
            "character_string1": "提现单号",
            "amount2": "提现金额",
            "phrase3": "提现状态",
            "time4": "处理时间",
            "thing5": "备注",
        },
    ),
}

_HAN = r"\u3400-\u9fff"
_DATE = r"\d{4}(?:年\d{1,2}月\d{1,2}日|-\d{1,2}-\d{1,2}|/\d{1,2}/\d{1,2})"
_CLOCK = r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?"
_TIME_POINT = rf"(?:{_DATE}(?: ?{_CLOCK})?|{_CLOCK})"
_DATE_POINT = rf"{_DATE}(?: ?{_CLOCK})?"

# WeChat's limits per kind ("订阅消息参数值内容限制说明"), as full-match patterns.
KINDS: dict[str, re.Pattern[str]] = {
    "thing": re.compile(r"(?s).{1,20}"),
    "number": re.compile(r"[-+]?\d+(?:\.\d+)?"),  # length checked below: ≤ 32
    "letter": re.compile(r"[A-Za-z]{1,32}"),
    "symbol": re.compile(r"[^A-Za-z0-9\s" + _HAN + r"]{1,5}"),
    "character_string": re.compile(r"[!-~]{1,32}"),  # printable ASCII, no spaces
    "time": re.compile(rf"{_TIME_POINT}(?: ?~ ?{_TIME_POINT})?"),
    "date": re.compile(rf"{_DATE_POINT}(?: ?~ ?{_DATE_POINT})?"),
    "amount": re.compile(r"[¥￥$€£]?\d{1,10}(?:\.\d{1,2})?元?"),
    "phone_number": re.compile(r"[0-9+\-() ]{1,17}"),
    "car_number": re.compile(rf"[{_HAN}A-Za-z0-9][A-Za-z0-9]{{0,6}}[{_HAN}A-Za-z0-9]?"),
    "name": re.compile(rf"[{_HAN}·]{{1,10}}|[A-Za-z .'\-]{{1,20}}"),
    "phrase": re.compile(rf"[{_HAN}]{{1,5}}"),
}
_KIND_OF = re.compile(r"([a-z_]+?)(\d+)")
STATES = ("developer", "trial", "formal")
LANGS = ("zh_CN", "en_US", "zh_HK", "zh_TW")
MAX_COUNT = 100  # a consent call may add this many at most
# WeChat only accepts a page of the mini program's released version (else 41030); the
# sandbox's "released version" is the one in this repository.
APP_JSON = Path(__file__).resolve().parents[1] / "miniprogram" / "app.json"
LOG_SIZE = 10_000


def valid_value(key: str, value: object) -> bool:
    """Whether `value` is acceptable for the field `key` (its kind is the key's prefix)."""
    match = _KIND_OF.fullmatch(key)
    pattern = KINDS.get(match.group(1)) if match else None
    if pattern is None or not isinstance(value, str) or not pattern.fullmatch(value):
        return False
    return not (match.group(1) == "number" and len(value) > 32)


def app_pages(app_json: Path = APP_JSON) -> frozenset[str] | None:
    """The mini program's pages (app.json's pages and subpackages'); None without one."""
    try:
        app = json.loads(app_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    pages = set(app.get("pages", []))
    for package in app.get("subpackages", app.get("subPackages", [])):
        root = package.get("root", "").strip("/")
        pages.update(f"{root}/{page}" for page in package.get("pages", []))
    return frozenset(pages)


def _argument_invalid(what: str) -> JSONResponse:
    return wechat_error(47003, f"argument invalid! {what}")


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SubscribeProduct:
    def __init__(self, login: LoginProduct, pages: frozenset[str] | None = None) -> None:
        self.login = login
        self.pages = app_pages() if pages is None else pages  # what a message may open
        self.issued: set[str] = set()  # openids this sandbox gave out
        self.balances: dict[tuple[str, str], int] = {}  # (openid, template id) → messages left
        self.log: deque[dict] = deque(maxlen=LOG_SIZE)  # every send that named a template
        self._msgid = int(time.time() * 1000)
        _remember_openids(login, self.issued)

    @property
    def routes(self) -> list[Route]:
        return [
            Route("/cgi-bin/message/subscribe/send", self.send, methods=["POST"]),
            Route("/sandbox/subscribe/consent", self.consent, methods=["POST", "GET"]),
            Route("/sandbox/subscribe-messages", self.messages, methods=["GET"]),
        ]

    def openid_of(self, code: str) -> str:
        """`sandbox-<name>` → that user's openid; anything else is taken as an openid."""
        match = LOGIN_CODE.fullmatch(code)
        return openid_for(self.login.appid, match.group(1)) if match else code

    # --- WeChat's API ---------------------------------------------------------------------------

    async def send(self, request: Request) -> JSONResponse:
        if error := self.login._check_token(request.query_params.get("access_token")):
            return error
        try:
            body = json.loads(await request.body())
        except ValueError:
            return wechat_error(47001, "data format error")
        if not isinstance(body, dict):
            return wechat_error(47001, "data format error")
        touser, template_id = body.get("touser"), body.get("template_id")
        if not isinstance(touser, str) or touser not in self.issued:
            return wechat_error(40003, "invalid openid")
        if not isinstance(template_id, str) or template_id not in TEMPLATES:
            return wechat_error(40037, "invalid template_id")
        answer = self._check(body, TEMPLATES[template_id])
        if answer is None:
            key = (touser, template_id)
            if self.balances.get(key, 0) <= 0:
                answer = wechat_error(43101, "user refuse to accept the msg")
            else:
                self.balances[key] -= 1
                self._msgid += 1
                answer = JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": self._msgid})
        self._record(body, answer)
        return answer

    def _check(self, body: dict, template: Template) -> JSONResponse | None:
        page = body.get("page")
        if page is not None and (not isinstance(page, str) or len(page) > 1024):
            return _argument_invalid("page")
        if page and self.pages is not None and page.split("?", 1)[0] not in self.pages:
            return wechat_error(41030, "invalid page rid: sandbox")
        if body.get("miniprogram_state", "formal") not in STATES:
            return _argument_invalid("miniprogram_state")
        if body.get("lang", "zh_CN") not in LANGS:
            return _argument_invalid("lang")
        data = body.get("data")
        if not isinstance(data, dict):
            return _argument_invalid("data is empty")
        # Keys the template does not have are ignored, as at WeChat; each of its own is needed.
        for key in template.fields:
            field = data.get(key)
            value = field.get("value") if isinstance(field, dict) else None
            if value is None or value == "":
                return _argument_invalid(f"data.{key}.value is empty")
            if not valid_value(key, value):
                return _argument_invalid(f"data.{key}.value invalid")
        return None

    def _record(self, body: dict, answer: JSONResponse) -> None:
        result = json.loads(answer.body)
        self.log.append(
            {
                "openid": body["touser"],
                "templateId": body["template_id"],
                "page": body.get("page"),
                "data": body.get("data"),
                "at": _now_iso(),
                "errcode": result["errcode"],
                "errmsg": result["errmsg"],
            }
        )

    # --- the sandbox's own pages --------------------------------------------------------------

    async def consent(self, request: Request) -> Response:
        """POST: what accepting wx.requestSubscribeMessage does at WeChat (`count` times);
        GET ?code=: the balances left."""
        if request.method == "GET":
            openid = self.openid_of(request.query_params.get("code", ""))
            left = {t: n for (o, t), n in self.balances.items() if o == openid}
            return JSONResponse({"openid": openid, "balances": left})
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return JSONResponse({"error": "a JSON object is expected"}, status_code=400)
        code, template_id, count = body.get("code"), body.get("templateId"), body.get("count", 1)
        if not isinstance(code, str) or not code:
            return JSONResponse({"error": "code: sandbox-<name> or an openid"}, status_code=400)
        if template_id not in TEMPLATES:
            return JSONResponse({"error": f"unknown templateId {template_id!r}"}, status_code=400)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
            return JSONResponse({"error": f"count: 1..{MAX_COUNT}"}, status_code=400)
        openid = self.openid_of(code)
        if LOGIN_CODE.fullmatch(code):
            self.issued.add(openid)  # the mini program asks right after wx.login()
        elif openid not in self.issued:
            return JSONResponse({"error": "an openid this sandbox never issued"}, status_code=400)
        key = (openid, template_id)
        self.balances[key] = self.balances.get(key, 0) + count
        return JSONResponse(
            {"openid": openid, "templateId": template_id, "balance": self.balances[key]}
        )

    async def messages(self, request: Request) -> JSONResponse:
        """Delivered messages of one user, oldest first (CONTRACT §13); with all=1 every send
        that got as far as a known template, refusals included, with WeChat's errcode."""
        q = request.query_params
        code = q.get("code")
        if not code:
            return JSONResponse({"error": "code: sandbox-<name> or an openid"}, status_code=400)
        openid = self.openid_of(code)
        everything = q.get("all") in ("1", "true")
        items = []
        for entry in self.log:
            if entry["openid"] != openid or not (everything or entry["errcode"] == 0):
                continue
            item = {k: entry[k] for k in ("templateId", "page", "data", "at")}
            if everything:
                item.update(errcode=entry["errcode"], errmsg=entry["errmsg"])
            items.append(item)
        return JSONResponse({"items": items})


def _remember_openids(login: LoginProduct, issued: set[str]) -> None:
    """Note every openid jscode2session answers: WeChat knows the users of its app."""
    inner = login.jscode2session

    async def jscode2session(request: Request) -> JSONResponse:
        answer = await inner(request)
        openid = json.loads(answer.body).get("openid")
        if isinstance(openid, str):
            issued.add(openid)
        return answer

    login.jscode2session = jscode2session  # type: ignore[method-assign]
