"""The cashier: what the WeChat app does between wx.requestPayment and the payment's result.

`POST /sandbox/pay/cashier` takes exactly the paymentParams a mini program passes to
wx.requestPayment — {appId, timeStamp, nonceStr, package: "prepay_id=…", signType: "RSA",
paySign} — plus `outcome`: "success" (default), "cancel" or "fail", and answers what
wx.requestPayment's callbacks would get:

- success: 200 {"errMsg": "requestPayment:ok"}; the trade is SUCCESS (transaction_id,
  success_time) and TRANSACTION.SUCCESS goes to the prepay's notify_url;
- cancel: 200 {"errMsg": "requestPayment:fail cancel"}; the trade stays NOTPAY;
- fail: 200 {"errMsg": "requestPayment:fail 支付失败，余额不足"}; the trade is PAYERROR (also
  what "success" becomes under the pay_error fault);
- a paySign that does not verify (SHA256withRSA over `appId\\ntimeStamp\\nnonceStr\\npackage\\n`
  with the merchant's key), a malformed request, or a prepay that cannot be paid (unknown,
  replaced, expired, closed, already paid): 400 {"errMsg": "requestPayment:fail …", "error": …}.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.wechat_pay_keys import PayKeys
from sandbox.pay_crypto import verify_pay_sign
from sandbox.pay_faults import Faults
from sandbox.pay_ledger import STATE_DESC, Ledger, Refused, Trade

PARAMS = ("appId", "timeStamp", "nonceStr", "package", "signType", "paySign")
OUTCOMES = ("success", "cancel", "fail")


def _refusal(error: str, why: str | None = None) -> JSONResponse:
    return JSONResponse(
        {"errMsg": f"requestPayment:fail {why or error}", "error": error}, status_code=400
    )


class Cashier:
    def __init__(
        self, keys: PayKeys, ledger: Ledger, faults: Faults, paid: Callable[[Trade], None]
    ) -> None:
        self.keys = keys
        self.ledger = ledger
        self.faults = faults
        self.paid = paid

    @property
    def routes(self) -> list[Route]:
        return [Route("/sandbox/pay/cashier", self.endpoint, methods=["POST"])]

    async def endpoint(self, request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _refusal("the body is not JSON")
        if not isinstance(body, dict):
            return _refusal("the body is not a JSON object")
        missing = [name for name in PARAMS if not isinstance(body.get(name), str)]
        if missing:
            return _refusal(f"missing or not a string: {', '.join(missing)}")
        outcome = body.get("outcome", "success")
        if outcome not in OUTCOMES:
            return _refusal(f"outcome must be one of {', '.join(OUTCOMES)}")
        if body["signType"] != "RSA":
            return _refusal("signType must be RSA (WeChat Pay v3)")
        package = body["package"]
        if not package.startswith("prepay_id=") or len(package) == len("prepay_id="):
            return _refusal('package must be "prepay_id=<the prepay_id>"')
        signed = (body["appId"], body["timeStamp"], body["nonceStr"], package)
        if not verify_pay_sign(self.keys, *signed, body["paySign"]):
            return _refusal(
                "paySign does not verify: it must be Base64(SHA256withRSA) over "
                "appId\\ntimeStamp\\nnonceStr\\npackage\\n with the merchant's private key",
                "支付验证签名失败",
            )
        prepay_id = package.removeprefix("prepay_id=")
        if outcome == "success":
            trade = self.ledger.by_prepay(prepay_id)
            if trade and self.faults.get("pay_error", trade.out_trade_no) is not None:
                outcome = "fail"
        try:
            trade = self.ledger.pay(prepay_id, body["appId"], outcome, time.time())
        except Refused as refused:
            return _refusal(str(refused))
        if outcome == "cancel":
            return JSONResponse({"errMsg": "requestPayment:fail cancel"})
        if outcome == "fail":
            return JSONResponse({"errMsg": f"requestPayment:fail {STATE_DESC['PAYERROR']}"})
        self.paid(trade)
        return JSONResponse({"errMsg": "requestPayment:ok"})
