"""Alibaba Cloud privacy numbers (Dyplsapi 2017-05-25, 隐私号 AXB), as dyplsapi.aliyuncs.com.

Reached through the signed RPC gateway (sandbox/aliyun_sign.py). Actions: BindAxb (A and B
reach each other through X until Expiration), UnbindSubscription, QuerySubscriptionDetail.
Checks what the service checks: the pool key, A, B and X are mainland mobile numbers, the
expiration is in the future, and X is never bound twice to the same A or the same B (at
Alibaba Cloud an X may serve several pairs that share neither party; the hub's own pool hands
one X to one pair at a time, which is stricter).

Sandbox pages (not at Alibaba Cloud):
- `POST /sandbox/privacy-number/call {subsId, from: "A"|"B", durationS, answered?}` places a
  call on a live binding and posts its call record to the callback URL, as Alibaba Cloud
  pushes call records (话单) once a call ends. The record is signed: `X-Pls-Timestamp` and
  `X-Pls-Signature` = hex HMAC-SHA256(AccessKey secret, timestamp + "\\n" + body).
- `PUT /sandbox/privacy-number/callback {url}`: where records go (the console's 话单推送
  setting; `ALIYUN_PLS_CALLBACK_URL` at start).
- `GET /sandbox/privacy-number/bindings[?status=live]`: every binding and its state.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

MOBILE = re.compile(r"^1[3-9]\d{9}$")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # Expiration and the records' times, Beijing time
CST = timedelta(hours=8)


def _fail(code: str, message: str) -> tuple[int, dict]:
    return 200, {"Code": code, "Message": message}


def _beijing(at: float) -> str:
    return (datetime.fromtimestamp(at, UTC) + CST).strftime(TIME_FORMAT)


@dataclass
class Binding:
    subs_id: str
    pool_key: str
    a: str
    b: str
    x: str
    expires: float  # epoch seconds
    out_id: str | None
    live: bool = True

    def json(self) -> dict:
        return {
            "subsId": self.subs_id,
            "poolKey": self.pool_key,
            "phoneNoA": self.a,
            "phoneNoB": self.b,
            "phoneNoX": self.x,
            "expiration": _beijing(self.expires),
            "outId": self.out_id,
            "status": "live" if self.live and self.expires > time.time() else "released",
        }


class PrivacyNumberProduct:
    def __init__(self, secret: str, callback_url: str | None = None):
        self.secret = secret
        self.callback_url = callback_url or os.environ.get("ALIYUN_PLS_CALLBACK_URL")
        self.bindings: dict[str, Binding] = {}

    @property
    def actions(self) -> dict:
        return {
            "BindAxb": self.bind_axb,
            "UnbindSubscription": self.unbind,
            "QuerySubscriptionDetail": self.query,
        }

    @property
    def routes(self) -> list[Route]:
        return [
            Route("/sandbox/privacy-number/call", self.call, methods=["POST"]),
            Route("/sandbox/privacy-number/callback", self.set_callback, methods=["PUT"]),
            Route("/sandbox/privacy-number/bindings", self.listing, methods=["GET"]),
        ]

    def _live(self) -> list[Binding]:
        now = time.time()
        return [b for b in self.bindings.values() if b.live and b.expires > now]

    async def bind_axb(self, p: dict[str, str]) -> tuple[int, dict]:
        a, b, x = p.get("PhoneNoA", ""), p.get("PhoneNoB", ""), p.get("PhoneNoX", "")
        if not p.get("PoolKey"):
            return _fail("isv.INVALID_PARAMETERS", "PoolKey is required")
        if not (MOBILE.match(a) and MOBILE.match(b)) or a == b or (x and not MOBILE.match(x)):
            return _fail("isv.INVALID_PARAMETERS", "号码格式不正确")
        try:
            expires = _epoch(p.get("Expiration", ""))
        except ValueError:
            return _fail("isv.INVALID_PARAMETERS", "Expiration must be yyyy-MM-dd HH:mm:ss")
        if expires <= time.time():
            return _fail("isv.INVALID_PARAMETERS", "Expiration is in the past")
        if not x:
            return _fail("isv.NO_AVAILABLE_NUMBER", "无可用号码 (the sandbox needs PhoneNoX)")
        if any(live.x == x and {live.a, live.b} & {a, b} for live in self._live()):
            return _fail("isv.NO_AVAILABLE_NUMBER", "X 号码已与 A 或 B 绑定")
        subs_id = str(uuid.uuid4().int)[:16]
        self.bindings[subs_id] = Binding(subs_id, p["PoolKey"], a, b, x, expires, p.get("OutId"))
        dto = {"SubsId": subs_id, "SecretNo": x, "Extension": None}
        return 200, {"Code": "OK", "Message": "OK", "SecretBindDTO": dto}

    async def unbind(self, p: dict[str, str]) -> tuple[int, dict]:
        found = self.bindings.get(p.get("SubsId", ""))
        if found is None or found.x != p.get("SecretNo") or not found.live:
            return _fail("isv.NO_NOT_EXIST", "绑定关系不存在")
        found.live = False
        return 200, {"Code": "OK", "Message": "OK", "Chargeid": None}

    async def query(self, p: dict[str, str]) -> tuple[int, dict]:
        found = self.bindings.get(p.get("SubsId", ""))
        if found is None or found.x != p.get("PhoneNoX"):
            return _fail("isv.NO_NOT_EXIST", "绑定关系不存在")
        live = found.live and found.expires > time.time()
        dto = {
            "SubsId": found.subs_id,
            "PhoneNoA": found.a,
            "PhoneNoB": found.b,
            "PhoneNoX": found.x,
            "ExpireDate": _beijing(found.expires),
            "Status": 1 if live else 0,
        }
        return 200, {"Code": "OK", "Message": "OK", "SecretBindDetailDTO": dto}

    # --- sandbox pages ------------------------------------------------------------------------

    async def set_callback(self, request: Request) -> JSONResponse:
        self.callback_url = (await request.json()).get("url")
        return JSONResponse({"url": self.callback_url})

    async def listing(self, request: Request) -> JSONResponse:
        wanted = request.query_params.get("status")
        items = [b.json() for b in self.bindings.values()]
        return JSONResponse({"items": [i for i in items if wanted in (None, i["status"])]})

    async def call(self, request: Request) -> JSONResponse:
        body = await request.json()
        found = self.bindings.get(str(body.get("subsId")))
        if found is None or not found.live or found.expires <= time.time():
            return JSONResponse({"error": "no live binding with this subsId"}, status_code=404)
        if not self.callback_url:
            return JSONResponse({"error": "no callback url set"}, status_code=409)
        caller, peer = (found.a, found.b) if body.get("from", "A") == "A" else (found.b, found.a)
        duration = int(body.get("durationS", 30))
        answered = bool(body.get("answered", True))
        ring = time.time() - duration - 5
        record = {
            "pool_key": found.pool_key,
            "sub_id": found.subs_id,
            "call_id": uuid.uuid4().hex,
            "phone_no": caller,
            "secret_no": found.x,
            "peer_no": peer,
            "called_display_no": found.x,
            "call_type": 0,  # 0: a call placed by phone_no
            "call_time": _beijing(ring),
            "ring_time": _beijing(ring + 1),
            "start_time": _beijing(ring + 5) if answered else None,
            "release_time": _beijing(ring + 5 + duration if answered else ring + 20),
            "release_dir": 1,
            "release_cause": 16 if answered else 19,
            "out_id": found.out_id,
        }
        raw = json.dumps([record], ensure_ascii=False).encode()
        ts = str(int(time.time()))
        sig = hmac.new(self.secret.encode(), ts.encode() + b"\n" + raw, hashlib.sha256)
        headers = {
            "content-type": "application/json",
            "x-pls-timestamp": ts,
            "x-pls-signature": sig.hexdigest(),
        }
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.post(self.callback_url, content=raw, headers=headers)
        return JSONResponse(
            {"record": record, "callbackStatus": answer.status_code, "callback": answer.text}
        )


def _epoch(beijing: str) -> float:
    """'yyyy-MM-dd HH:mm:ss' in Beijing time → epoch seconds."""
    naive = datetime.strptime(beijing, TIME_FORMAT) - CST
    return (naive - datetime(1970, 1, 1)).total_seconds()
