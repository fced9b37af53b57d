"""Alibaba Cloud privacy numbers (Dyplsapi 2017-05-25, 隐私号 AXB) through the official SDK:
BindAxb, UnbindSubscription, QuerySubscriptionDetail. The endpoint is ALIYUN_PLS_BASE (the
local sandbox unless set); the call records Alibaba Cloud pushes are verified here too.

Phone numbers go only into the requests; logs carry them masked.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from datetime import datetime, timedelta

from alibabacloud_dyplsapi20170525.client import Client
from alibabacloud_dyplsapi20170525.models import (
    BindAxbRequest,
    QuerySubscriptionDetailRequest,
    UnbindSubscriptionRequest,
)
from Tea.exceptions import TeaException

from adapters.aliyun import AliyunError, access_key, sdk_config
from adapters.phones import mask
from adapters.settings import Settings

log = logging.getLogger("orderhub.pls")

CST = timedelta(hours=8)  # Expiration is Beijing time
GONE = "isv.NO_NOT_EXIST"  # unbinding what is no longer bound: done already
RECORD_SKEW_S = 300


class PrivacyNumbers:
    def __init__(self, settings: Settings):
        self.key = access_key(
            settings.state_dir, settings.aliyun_access_key_id, settings.aliyun_access_key_secret
        )
        self.client = Client(sdk_config(settings.aliyun_pls_base, self.key))
        self.pool_key = settings.pls_pool_key

    async def _call(self, what: str, method, request) -> dict:
        try:
            body = (await method(request)).body
        except TeaException as exc:
            raise AliyunError(str(exc.code), str(exc.message)) from None
        except Exception as exc:  # connection refused, timeout
            raise AliyunError("Unavailable", repr(exc)) from None
        if body.code != "OK":
            raise AliyunError(body.code, body.message)
        return body

    async def bind_axb(self, a: str, b: str, x: str, expires: datetime, out_id: str) -> str:
        """Bind A and B through X until `expires` (UTC); the binding's SubsId."""
        request = BindAxbRequest(
            pool_key=self.pool_key,
            phone_no_a=a,
            phone_no_b=b,
            phone_no_x=x,
            expiration=(expires.replace(tzinfo=None) + CST).strftime("%Y-%m-%d %H:%M:%S"),
            out_id=out_id,
            is_recording_enabled=False,
        )
        body = await self._call("BindAxb", self.client.bind_axb_async, request)
        log.info("BindAxb %s ↔ %s through %s", mask(a), mask(b), mask(x))
        return body.secret_bind_dto.subs_id

    async def unbind(self, subs_id: str, x: str) -> bool:
        """True once the binding is gone (now, or already)."""
        request = UnbindSubscriptionRequest(pool_key=self.pool_key, subs_id=subs_id, secret_no=x)
        try:
            await self._call("UnbindSubscription", self.client.unbind_subscription_async, request)
        except AliyunError as exc:
            if exc.code != GONE:
                raise
        return True

    async def detail(self, subs_id: str, x: str) -> dict:
        """{status: 1 live | 0 gone, expireDate}: what Alibaba Cloud holds for the binding."""
        request = QuerySubscriptionDetailRequest(
            pool_key=self.pool_key, subs_id=subs_id, phone_no_x=x, product_type="AXB_170"
        )
        body = await self._call(
            "QuerySubscriptionDetail", self.client.query_subscription_detail_async, request
        )
        dto = body.secret_bind_detail_dto
        return {"status": dto.status, "expireDate": dto.expire_date}

    def record_is_authentic(self, timestamp: str, signature: str, body: bytes) -> bool:
        """A pushed call record: HMAC-SHA256 of the timestamp and body with the AccessKey
        secret (docs/aliyun-sandbox.md), at most 5 minutes old."""
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > RECORD_SKEW_S:
            return False
        mac = hmac.new(self.key[1].encode(), timestamp.encode() + b"\n" + body, hashlib.sha256)
        return hmac.compare_digest(mac.hexdigest(), signature)
