"""What the WeChat Pay sandbox tests share (no tests here): the real sandbox app served in
process, a notification receiver, and the real `AsyncWeChatPay` client in public-key mode
pointed at the sandbox exactly as the hub points it.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from conftest import serve_asgi
from waiting import until

# The async client has its own WeChatPayType: wechatpayv3.WeChatPayType does not match it.
from wechatpayv3.async_ import AsyncWeChatPay, WeChatPayType

from adapters.wechat_pay_keys import PayKeys, load_or_make
from sandbox.app import create_app
from sandbox.pay import PayProduct
from sandbox.pay_faults import Faults

APPID = "wx0sandbox0pay00001"
SECRET = "test-secret-for-the-pay-sandbox"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    status: int


class Receiver:
    """A tiny ASGI app standing in for the merchant's notify URLs: records every POST and
    answers what `script[path]` says next, else what `judge` says, else 200."""

    def __init__(self) -> None:
        self.got: list[Received] = []
        self.script: dict[str, list[int]] = {}
        # When set (and no script applies): the answer, as a merchant that checks would give.
        self.judge: Callable[[Received], int] | None = None

    async def __call__(self, scope, receive, send) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path = scope["path"]
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        got = Received(path, headers, body, time.monotonic(), 200)
        queued = self.script.get(path) or []
        if queued:
            got.status = queued.pop(0)
        elif self.judge is not None:
            got.status = self.judge(got)
        status = got.status
        self.got.append(got)
        answer = b"" if status in (200, 204) else b'{"code":"FAIL","message":"refused"}'
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": answer})

    def at(self, path: str) -> list[Received]:
        return [r for r in self.got if r.path == path]

    async def arrivals(self, path: str, count: int = 1, timeout: float = 10) -> list[Received]:
        return await until(
            lambda: self.at(path) if len(self.at(path)) >= count else None,
            f"{count} notification(s) at {path}",
            timeout,
            interval=0.01,
        )


@dataclass
class PaySandbox:
    url: str
    product: PayProduct
    keys: PayKeys
    client: AsyncWeChatPay
    receiver: Receiver
    receiver_url: str
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=30))

    def notify_url(self, out_trade_no: str) -> str:
        return f"{self.receiver_url}/notify/{out_trade_no}"

    async def prepay_call(self, total: int, out_trade_no: str, **extra) -> tuple[int, dict]:
        """A JSAPI prepay through the real client: (status, answer)."""
        status, text = await self.client.pay(
            description="上门电工 · 跳闸检修",
            out_trade_no=out_trade_no,
            amount={"total": total, "currency": "CNY"},
            payer={"openid": "o-sandbox-payer-0000000000001"},
            notify_url=self.notify_url(out_trade_no),
            **extra,
        )
        return status, json.loads(text)

    async def prepay(self, total: int = 100, out_trade_no: str | None = None, **extra):
        """(out_trade_no, prepay_id) of a JSAPI prepay that must succeed."""
        out_trade_no = out_trade_no or "T" + uuid.uuid4().hex[:20]
        status, body = await self.prepay_call(total, out_trade_no, **extra)
        assert status == 200, body
        return out_trade_no, body["prepay_id"]

    def pay_params(self, prepay_id: str) -> dict:
        """What the hub hands the mini program for wx.requestPayment."""
        signed = dict(
            appId=APPID,
            timeStamp=str(int(time.time())),
            nonceStr=secrets.token_hex(16),
            package=f"prepay_id={prepay_id}",
        )
        return {**signed, "signType": "RSA", "paySign": self.client.sign(list(signed.values()))}

    async def cashier(self, params: dict, outcome: str | None = None) -> httpx.Response:
        body = params if outcome is None else {**params, "outcome": outcome}
        return await self.http.post(f"{self.url}/sandbox/pay/cashier", json=body)

    async def paid(self, total: int = 100) -> str:
        out_trade_no, prepay_id = await self.prepay(total)
        answer = await self.cashier(self.pay_params(prepay_id))
        assert answer.json() == {"errMsg": "requestPayment:ok"}, answer.text
        return out_trade_no

    async def query(self, out_trade_no: str) -> tuple[int, dict]:
        status, text = await self.client.query(out_trade_no=out_trade_no)
        return status, json.loads(text)

    async def faults(self, spec: dict) -> dict:
        answer = await self.http.post(f"{self.url}/sandbox/pay/faults", json=spec)
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def notifications(self, **filters) -> list[dict]:
        answer = await self.http.get(f"{self.url}/sandbox/pay/notifications", params=filters)
        return answer.json()["notifications"]

    def callback(self, received: Received) -> dict | None:
        """The real client's verdict on a notification: verified and decrypted, or None."""
        return self.client.callback(received.headers, received.body)


def pay_client(keys: PayKeys, gateway: str, appid: str = APPID, **overrides) -> AsyncWeChatPay:
    """AsyncWeChatPay as the hub builds it: public-key mode, the gateway pointed at the sandbox."""
    options = {
        "wechatpay_type": WeChatPayType.MINIPROG,
        "mchid": keys.mchid,
        "private_key": keys.merchant_private_key,
        "cert_serial_no": keys.merchant_serial_no,
        "appid": appid,
        "apiv3_key": keys.apiv3_key,
        "public_key": keys.platform_public_key,
        "public_key_id": keys.platform_public_key_id,
        "timeout": (5, 10),
        **overrides,
    }
    client = AsyncWeChatPay(**options)
    client._core._gate_way = gateway  # FIELD-NOTES: the gateway has no public setter
    return client


@contextlib.asynccontextmanager
async def running_sandbox(
    state_dir: Path, time_factor: float = 0.01, faults: dict | None = None
) -> AsyncIterator[PaySandbox]:
    keys = load_or_make(state_dir)
    product = PayProduct(APPID, keys, Faults(faults), time_factor=time_factor)
    receiver = Receiver()
    async with (
        serve_asgi(create_app(APPID, SECRET, product)) as url,
        serve_asgi(receiver) as receiver_url,
        pay_client(keys, url) as client,
    ):
        sandbox = PaySandbox(url, product, keys, client, receiver, receiver_url)
        try:
            yield sandbox
        finally:
            await product.close_tasks()
            await sandbox.http.aclose()
