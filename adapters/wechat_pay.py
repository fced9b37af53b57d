"""WeChat Pay API v3 through `wechatpayv3` (its AsyncWeChatPay), in public-key mode.

Public-key mode because certificate mode fetches /v3/certificates from the real host while it
is constructed, and because merchant accounts opened since late 2024 use it. The gateway is
pinned to WECHAT_PAY_BASE (the local sandbox, or https://api.mch.weixin.qq.com). Every answer
the library receives is signature-checked by the library itself.
"""

from __future__ import annotations

import gzip
import json
import secrets
import time
from datetime import UTC, datetime

import httpx
from wechatpayv3.async_ import AsyncWeChatPay
from wechatpayv3.async_.type import WeChatPayType  # the async package has its own enum

from adapters.clock import CHINA
from adapters.settings import Settings
from adapters.wechat_pay_keys import load_or_make

# WeChat's own notification timestamps may be this far from our clock (its SDKs use 5 min).
NOTIFY_WINDOW_S = 300


class PayUnavailable(Exception):
    """WeChat Pay did not answer usefully (network, 5xx, a signature it would not verify)."""


class PayRefused(Exception):
    """WeChat Pay answered with an error: `code` is its code (ORDERPAID, ORDER_CLOSED …)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class PayGateway:
    def __init__(self, *, base_url: str, appid: str, keys, notify_url: str, refund_notify_url: str):
        self.appid = appid
        self.mchid = keys.mchid
        self.refund_notify_url = refund_notify_url
        self._client = AsyncWeChatPay(
            wechatpay_type=WeChatPayType.MINIPROG,
            mchid=keys.mchid,
            private_key=keys.merchant_private_key,
            cert_serial_no=keys.merchant_serial_no,
            appid=appid,
            apiv3_key=keys.apiv3_key,
            notify_url=notify_url,
            public_key=keys.platform_public_key,
            public_key_id=keys.platform_public_key_id,
            timeout=(5, 10),
        )
        self._client._core._gate_way = base_url.rstrip("/")  # FIELD-NOTES: no public setter
        self._open = False

    async def start(self) -> None:
        if not self._open:
            await self._client.__aenter__()  # its HTTP client lives inside the context
            self._open = True

    async def close(self) -> None:
        if self._open:
            await self._client.__aexit__(None, None, None)
            self._open = False

    async def _call(self, method, **kwargs) -> tuple[int, dict]:
        await self.start()
        try:
            status, text = await method(**kwargs)
        except httpx.HTTPError as exc:
            raise PayUnavailable(f"WeChat Pay unreachable: {exc!r}") from exc
        except Exception as exc:  # the library raises bare Exception on a bad signature
            raise PayUnavailable(f"WeChat Pay answer refused: {exc}") from exc
        body = json.loads(text) if isinstance(text, str) and text else {}
        if status >= 500:
            raise PayUnavailable(f"WeChat Pay answered {status}")
        if status >= 400:
            raise PayRefused(status, body.get("code", "UNKNOWN"), body.get("message", ""))
        return status, body

    # --- payments -------------------------------------------------------------------------

    async def prepay(
        self, *, out_trade_no: str, description: str, total: int, openid: str, expires_at: datetime
    ) -> str:
        """A JSAPI prepay; returns the prepay_id."""
        _, body = await self._call(
            self._client.pay,
            description=description[:127],
            out_trade_no=out_trade_no,
            amount={"total": total, "currency": "CNY"},
            payer={"openid": openid},
            time_expire=expires_at.replace(tzinfo=UTC, microsecond=0).astimezone(CHINA).isoformat(),
        )
        return body["prepay_id"]

    def pay_params(self, prepay_id: str) -> dict:
        """What wx.requestPayment takes: paySign over appId, timeStamp, nonceStr, package."""
        stamp, nonce, package = (
            str(int(time.time())),
            secrets.token_hex(16),
            f"prepay_id={prepay_id}",
        )
        return {
            "appId": self.appid,
            "timeStamp": stamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": self._client.sign([self.appid, stamp, nonce, package]),
        }

    async def query(self, out_trade_no: str) -> dict | None:
        """The trade as WeChat has it, or None when WeChat never heard of it."""
        try:
            _, body = await self._call(self._client.query, out_trade_no=out_trade_no)
        except PayRefused as exc:
            if exc.code == "ORDER_NOT_EXIST":
                return None
            raise
        return body

    async def close_trade(self, out_trade_no: str) -> bool:
        """Close at WeChat; False when it is already paid there (ORDERPAID)."""
        try:
            await self._call(self._client.close, out_trade_no=out_trade_no)
        except PayRefused as exc:
            if exc.code == "ORDERPAID":
                return False
            if exc.code not in ("ORDER_CLOSED", "ORDER_NOT_EXIST"):
                raise
        return True

    async def refund(
        self, *, out_trade_no: str, out_refund_no: str, amount: int, total: int, reason: str
    ) -> dict:
        _, body = await self._call(
            self._client.refund,
            out_refund_no=out_refund_no,
            amount={"refund": amount, "total": total, "currency": "CNY"},
            out_trade_no=out_trade_no,
            reason=reason[:80] or None,
            notify_url=self.refund_notify_url,
        )
        return body

    async def query_refund(self, out_refund_no: str) -> dict:
        _, body = await self._call(self._client.query_refund, out_refund_no=out_refund_no)
        return body

    async def trade_bill(self, day: str) -> bytes | None:
        """The day's trade bill (WeChat's CSV), downloaded through its signed URL (GZIP, as
        the library asks by default); None when WeChat has no bill for that day."""
        try:
            _, body = await self._call(self._client.trade_bill, bill_date=day)
        except PayRefused as exc:
            if exc.code == "NO_STATEMENT_EXIST":  # no trade that day (or not made yet)
                return None
            raise
        await self.start()
        try:
            status, content = await self._client.download_bill(body["download_url"])
        except httpx.HTTPError as exc:
            raise PayUnavailable(f"bill download failed: {exc!r}") from exc
        if status != 200:
            raise PayUnavailable(f"bill download answered {status}")
        raw = content if isinstance(content, bytes) else content.encode()
        return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw

    # --- notifications ------------------------------------------------------------------------

    def verify(self, headers: dict, body: bytes) -> dict | None:
        """A notification's decrypted content, or None when its signature, timestamp or
        encryption does not hold up (a forgery, a replay, a wrong key)."""
        headers = {k.lower(): v for k, v in headers.items()}
        try:
            stamp = int(headers.get("wechatpay-timestamp", ""))
        except ValueError:
            return None
        if abs(time.time() - stamp) > NOTIFY_WINDOW_S:
            return None
        try:
            return self._client.callback(headers, body)
        except Exception:  # the library raises on an unknown signature type or algorithm
            return None


def gateway_for(settings: Settings) -> PayGateway:
    """The hub's gateway: keys from the state directory (made there on first start, shared
    with the sandbox), notifications to this hub's public URL."""
    return PayGateway(
        base_url=settings.wechat_pay_base,
        appid=settings.wechat_appid,
        keys=load_or_make(settings.state_dir),
        notify_url=f"{settings.public_base}/api/payments/wechat/notify",
        refund_notify_url=f"{settings.public_base}/api/payments/wechat/refund-notify",
    )
