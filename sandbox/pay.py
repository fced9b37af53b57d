"""WeChat Pay API v3 product (direct merchant, JSAPI / mini program): api.mch.weixin.qq.com's
paths, JSON shapes, error codes, request signatures and signed answers.

- POST /v3/pay/transactions/jsapi                      prepay → {prepay_id}
- GET  /v3/pay/transactions/out-trade-no/{no}?mchid=    query (also /v3/pay/transactions/id/{id})
- POST /v3/pay/transactions/out-trade-no/{no}/close     close → 204
- POST /v3/refund/domestic/refunds                      refund (PROCESSING, then SUCCESS)
- GET  /v3/refund/domestic/refunds/{out_refund_no}      refund query
- GET  /v3/bill/tradebill?bill_date=&bill_type=         trade bill → {hash_type, hash_value,
                                                        download_url} (GET /v3/billdownload/file)

Every request must carry a valid Authorization (401 SIGN_ERROR otherwise); every answer carries
Wechatpay-Signature/-Timestamp/-Nonce/-Serial/-Signature-Type, except the bill file (as at
WeChat). The cashier (cashier.py) stands in for the WeChat app; the sandbox's own pages are
/sandbox/pay/trades, /sandbox/pay/notifications and /sandbox/pay/faults.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.wechat_pay_keys import PayKeys
from sandbox.cashier import Cashier
from sandbox.pay_bill import Bills
from sandbox.pay_crypto import PayError, Signer, check_authorization, param_error
from sandbox.pay_faults import Faults
from sandbox.pay_ledger import Ledger, Refund, Trade
from sandbox.pay_notify import Notifier, Outgoing

REFUND_DELAY_S = 5.0  # PROCESSING -> SUCCESS, times the time factor
OUT_TRADE_NO = re.compile(r"[0-9A-Za-z_\-*|]{6,32}")
OUT_REFUND_NO = re.compile(r"[0-9A-Za-z_\-|*@]{1,64}")

Handler = Callable[[Request, dict | None, str], Awaitable[tuple[int, object]]]


def _json_body(raw: bytes) -> dict:
    try:
        body = json.loads(raw)
    except ValueError:
        raise PayError(400, "PARAM_ERROR", "请求体不是有效的JSON") from None
    if not isinstance(body, dict):
        raise PayError(400, "PARAM_ERROR", "请求体应为JSON对象")
    return body


def _text(body: dict, name: str, limit: int, required: bool = True) -> None:
    value = body.get(name)
    if value is None and not required:
        return
    if not isinstance(value, str) or not value:
        raise param_error(name, "缺少必填字段或不是字符串")
    if len(value) > limit:
        raise param_error(name, f"长度超过 {limit}")


def _amount(body: dict, fields: tuple[str, ...]) -> None:
    amount = body.get("amount")
    if not isinstance(amount, dict):
        raise param_error("amount", "缺少必填字段")
    for key in fields:
        value = amount.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise param_error(f"amount.{key}", "应为正整数（单位：分）")
    if amount.get("currency", "CNY") != "CNY":
        raise param_error("amount.currency", "仅支持 CNY")


def _time_expire(value: object) -> float | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None or "T" not in value:
        raise param_error("time_expire", "应为 rfc3339 格式，如 2018-06-08T10:34:56+08:00")
    return parsed.timestamp()


def _same_mchid(given: object, mchid: str, location: str) -> None:
    if given != mchid:
        raise param_error("mchid", "与 Authorization 中的商户号不一致", location)


class PayProduct:
    def __init__(
        self, appid: str, keys: PayKeys, faults: Faults | None = None, time_factor: float = 1.0
    ) -> None:
        self.appid = appid
        self.keys = keys
        self.faults = faults or Faults()
        self.time_factor = time_factor
        self.ledger = Ledger(appid, keys.mchid)
        self.signer = Signer(keys)
        self.notifier = Notifier(keys, self.signer, self.faults, time_factor)
        self.bills = Bills(self.ledger, self.faults)
        self.cashier = Cashier(keys, self.ledger, self.faults, self.paid)

    @property
    def routes(self) -> list[Route]:
        api = [
            ("POST", "/v3/pay/transactions/jsapi", self.prepay),
            ("GET", "/v3/pay/transactions/out-trade-no/{out_trade_no}", self.query),
            ("GET", "/v3/pay/transactions/id/{transaction_id}", self.query_by_id),
            ("POST", "/v3/pay/transactions/out-trade-no/{out_trade_no}/close", self.close),
            ("POST", "/v3/refund/domestic/refunds", self.refund),
            ("GET", "/v3/refund/domestic/refunds/{out_refund_no}", self.query_refund),
            ("GET", "/v3/bill/tradebill", self.trade_bill),
        ]
        return [
            *(Route(path, self._signed(handler), methods=[m]) for m, path, handler in api),
            Route("/v3/billdownload/file", self.download_bill, methods=["GET"]),
            Route("/sandbox/pay/trades", self.trades, methods=["GET"]),
            *self.cashier.routes,
            *self.faults.routes,
            *self.notifier.routes,
        ]

    async def close_tasks(self) -> None:
        """Stops pending notifications and refunds (tests call it; a process just exits)."""
        await self.notifier.close()

    # --- the protocol: signed requests in, signed answers out ----------------------------------

    async def _authorized(self, request: Request) -> tuple[bytes, str]:
        raw = await request.body()
        url = request.scope["raw_path"].decode()
        if request.scope["query_string"]:
            url += "?" + request.scope["query_string"].decode()
        mchid = check_authorization(
            self.keys,
            request.method,
            url,
            raw.decode("utf-8", "replace"),
            request.headers.get("authorization"),
            time.time(),
        )
        return raw, mchid

    def _signed(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                raw, mchid = await self._authorized(request)
                body = _json_body(raw) if request.method == "POST" else None
                status, answer = await handler(request, body, mchid)
            except PayError as error:
                status, answer = error.status, error.body()
            if answer is None:
                return self.signer.answer(status)
            data = json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()
            return self.signer.answer(status, data)

        return endpoint

    # --- payments ------------------------------------------------------------------------------

    async def prepay(self, request: Request, body: dict, mchid: str) -> tuple[int, object]:
        for name, limit in (("appid", 32), ("mchid", 32), ("description", 127)):
            _text(body, name, limit)
        _text(body, "notify_url", 255)
        _text(body, "attach", 128, required=False)
        if not OUT_TRADE_NO.fullmatch(str(body.get("out_trade_no", ""))):
            raise param_error("out_trade_no", "应为 6-32 位数字、大小写字母或 _-*|")
        if not re.match(r"https?://[^?#]+$", body["notify_url"]):
            raise param_error("notify_url", "应为 http(s) 地址，且不能携带参数")
        _amount(body, ("total",))
        payer = body.get("payer")
        if not isinstance(payer, dict) or not isinstance(payer.get("openid"), str):
            raise param_error("payer.openid", "缺少必填字段")
        _same_mchid(body["mchid"], mchid, "body")
        if body["appid"] != self.appid:
            raise PayError(400, "APPID_MCHID_NOT_MATCH", "appid和mchid不匹配，请检查后再试")
        trade = self.ledger.prepay(body, _time_expire(body.get("time_expire")), time.time())
        return 200, {"prepay_id": trade.prepay_id}

    async def _query_faults(self, out_trade_no: str) -> None:
        slow = self.faults.get("query_timeout", out_trade_no)
        if slow is not None:
            await asyncio.sleep(float(slow["delay_s"]))
        failing = self.faults.get("query_5xx", out_trade_no)
        if failing is not None:
            raise PayError(int(failing["status"]), "SYSTEM_ERROR", "系统错误，请稍后重试")

    async def query(self, request: Request, body: None, mchid: str) -> tuple[int, object]:
        _same_mchid(request.query_params.get("mchid"), mchid, "query")
        out_trade_no = request.path_params["out_trade_no"]
        await self._query_faults(out_trade_no)
        return 200, self.ledger.trade(out_trade_no).json()

    async def query_by_id(self, request: Request, body: None, mchid: str) -> tuple[int, object]:
        _same_mchid(request.query_params.get("mchid"), mchid, "query")
        trade = self.ledger.trade_by_transaction(request.path_params["transaction_id"])
        await self._query_faults(trade.out_trade_no)
        return 200, trade.json()

    async def close(self, request: Request, body: dict, mchid: str) -> tuple[int, object]:
        _same_mchid(body.get("mchid"), mchid, "body")
        self.ledger.close(request.path_params["out_trade_no"])
        return 204, None

    def paid(self, trade: Trade) -> None:
        """The cashier took the money: tell the merchant at the prepay's notify_url."""
        self.notifier.send(Outgoing(trade.notify_url, "transaction", trade.json()))

    # --- refunds -------------------------------------------------------------------------------

    async def refund(self, request: Request, body: dict, mchid: str) -> tuple[int, object]:
        if not OUT_REFUND_NO.fullmatch(str(body.get("out_refund_no", ""))):
            raise param_error("out_refund_no", "应为 1-64 位数字、大小写字母或 _-|*@")
        if not (body.get("out_trade_no") or body.get("transaction_id")):
            raise param_error("out_trade_no", "out_trade_no 与 transaction_id 需二选一")
        _text(body, "reason", 80, required=False)
        _text(body, "notify_url", 256, required=False)
        _amount(body, ("refund", "total"))
        refund, made = self.ledger.refund(body, time.time())
        if made:
            self.notifier.background(self._finish_refund(refund))
        return 200, refund.json()

    async def _finish_refund(self, refund: Refund) -> None:
        await asyncio.sleep(REFUND_DELAY_S * self.time_factor)
        self.ledger.finish_refund(refund.out_refund_no, time.time())
        if refund.notify_url:
            resource = refund.notification(self.keys.mchid)
            self.notifier.send(Outgoing(refund.notify_url, "refund", resource))

    async def query_refund(self, request: Request, body: None, mchid: str) -> tuple[int, object]:
        return 200, self.ledger.refund_by_no(request.path_params["out_refund_no"]).json()

    # --- the trade bill ------------------------------------------------------------------------

    async def trade_bill(self, request: Request, body: None, mchid: str) -> tuple[int, object]:
        return 200, self.bills.apply(request.query_params, str(request.base_url))

    async def download_bill(self, request: Request) -> Response:
        """The bill file: a signed request like any other, an unsigned answer (as at WeChat)."""
        try:
            await self._authorized(request)
            data = self.bills.download(request.query_params.get("token", ""))
        except PayError as error:
            return self.signer.answer(
                error.status, json.dumps(error.body(), ensure_ascii=False).encode()
            )
        return Response(data, media_type="application/octet-stream")

    # --- the sandbox's own page ----------------------------------------------------------------

    async def trades(self, request: Request) -> JSONResponse:
        """Every trade with its refunds (?out_trade_no= for one): for tests and demos."""
        wanted = request.query_params.get("out_trade_no")
        rows = [t for t in self.ledger.overview() if wanted in (None, t["out_trade_no"])]
        return JSONResponse({"trades": rows})
