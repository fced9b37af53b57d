"""WeChat Pay notifications (TRANSACTION.SUCCESS, REFUND.SUCCESS): encrypted, signed, retried.

A notification is POSTed to the notify_url as WeChat does: `{id, create_time, resource_type:
"encrypt-resource", event_type, summary, resource: {algorithm: "AEAD_AES_256_GCM", ciphertext,
associated_data, original_type, nonce}}`, signed like any answer (Wechatpay-* headers). Only
200 and 204 count as received; anything else (another status, no answer within 5 s, a refused
connection) is retried on WeChat's schedule, each wait multiplied by the time factor.

Notification faults (sandbox/pay_faults.py) are decided once, when the notification is made.
"""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.wechat_pay_keys import PayKeys
from sandbox.pay_crypto import Signer, encrypt_resource
from sandbox.pay_faults import TAMPERING, Faults
from sandbox.pay_ledger import CHINA, rfc3339

# Waits before each retry, in seconds (15 s … 6 h: 15 retries, about 24 h in all).
RETRY_SCHEDULE_S = (15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800)
RETRY_SCHEDULE_S += (21600, 21600)
ANSWER_TIMEOUT_S = 5.0
RECEIVED = (200, 204)
EVENTS = {
    "transaction": ("TRANSACTION.SUCCESS", "支付成功"),
    "refund": ("REFUND.SUCCESS", "退款成功"),
}
LOG_LIMIT = 10_000  # deliveries kept for GET /sandbox/pay/notifications


@dataclass
class Outgoing:
    """One notification: what it says, where it goes, and the faults it carries."""

    url: str
    original_type: str  # "transaction" or "refund"
    resource: dict  # the plaintext: the transaction (or refund) object
    id: str = ""
    create_time: str = ""
    faults: dict[str, dict] = field(default_factory=dict)

    @property
    def event_type(self) -> str:
        return EVENTS[self.original_type][0]

    @property
    def summary(self) -> str:
        return EVENTS[self.original_type][1]

    @property
    def out_trade_no(self) -> str:
        return self.resource["out_trade_no"]

    @property
    def out_refund_no(self) -> str | None:
        return self.resource.get("out_refund_no")

    @property
    def key(self) -> str:
        """What its faults are set by: out_refund_no for a refund, else out_trade_no."""
        return self.out_refund_no or self.out_trade_no


def _event_id(now: float) -> str:
    stamp = datetime.fromtimestamp(now, CHINA).strftime("%Y%m%d%H%M%S")
    return f"EV-{stamp}{secrets.randbelow(10**5):05d}"


class Notifier:
    def __init__(self, keys: PayKeys, signer: Signer, faults: Faults, time_factor: float):
        self.keys = keys
        self.signer = signer
        self.faults = faults
        self.time_factor = time_factor
        self.log: list[dict] = []
        self._tasks: set[asyncio.Task] = set()
        self._http: httpx.AsyncClient | None = None

    def background(self, work: Coroutine) -> None:
        """Runs `work` on the loop, kept until it ends (and cancelled by `close`)."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def send(self, note: Outgoing) -> None:
        now = time.time()
        note.id, note.create_time = _event_id(now), rfc3339(now)
        for name in ("lost", "late", "duplicate", *TAMPERING):
            params = self.faults.get(name, note.key)
            if params is not None:
                note.faults[name] = params
        self.background(self._run(note))

    # --- delivery ------------------------------------------------------------------------------

    def _body(self, note: Outgoing, resource: dict) -> bytes:
        plaintext = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
        body = {
            "id": note.id,
            "create_time": note.create_time,
            "resource_type": "encrypt-resource",
            "event_type": note.event_type,
            "summary": note.summary,
            "resource": encrypt_resource(self.keys.apiv3_key, plaintext, note.original_type),
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    def _tampered(self, note: Outgoing, attempt: int) -> tuple[list[str], dict]:
        """The tampering faults that apply to this attempt, and the resource they make."""
        applied = [
            n for n in TAMPERING if n in note.faults and attempt < note.faults[n]["attempts"]
        ]
        resource = copy.deepcopy(note.resource)
        if "wrong_amount" in applied:
            wrong = note.faults["wrong_amount"]["amount"]
            amount = resource["amount"]
            amount["total"] = amount["total"] + 1 if wrong is None else int(wrong)
            amount["payer_total"] = amount["total"]
        for field_name in ("appid", "mchid"):
            if f"wrong_{field_name}" in applied:
                resource[field_name] = note.faults[f"wrong_{field_name}"][field_name]
        return applied, resource

    async def _run(self, note: Outgoing) -> None:
        if "lost" in note.faults:
            self._record(note, 0, ["lost"], duplicate=False)["status"] = None
            return
        if "late" in note.faults:
            await asyncio.sleep(float(note.faults["late"]["delay_s"]))
        genuine = self._body(note, note.resource)
        await self._until_received(note, genuine, duplicate=False)
        copies = int(note.faults.get("duplicate", {}).get("copies", 0))
        for _ in range(copies):
            await self._until_received(note, genuine, duplicate=True)

    async def _until_received(self, note: Outgoing, genuine: bytes, duplicate: bool) -> None:
        for attempt in range(len(RETRY_SCHEDULE_S) + 1):
            if attempt:
                await asyncio.sleep(RETRY_SCHEDULE_S[attempt - 1] * self.time_factor)
            if duplicate:
                applied, body = [], genuine
            else:
                applied, resource = self._tampered(note, attempt)
                body = genuine if resource == note.resource else self._body(note, resource)
            stamp = None
            if "old_timestamp" in applied:
                stamp = int(time.time()) - int(note.faults["old_timestamp"]["age_s"])
            headers = self.signer.headers(
                body, timestamp=stamp, forged="forged_signature" in applied
            )
            entry = self._record(note, attempt + 1, applied, duplicate)
            if await self._post(note.url, body, headers, entry) in RECEIVED:
                return

    async def _post(self, url: str, body: bytes, headers: dict, entry: dict) -> int | None:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=ANSWER_TIMEOUT_S)
        started = time.monotonic()
        try:
            answer = await self._http.post(
                url,
                content=body,
                headers={
                    **headers,
                    "Content-Type": "application/json",
                    "User-Agent": "Mozilla/4.0 (WeChatPay sandbox)",
                },
            )
            entry["status"] = answer.status_code
            entry["answer"] = answer.text[:500]
        except httpx.HTTPError as exc:
            entry["status"] = None
            entry["error"] = f"{type(exc).__name__}: {exc}"[:300]
        entry["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
        return entry["status"]

    def _record(self, note: Outgoing, attempt: int, applied: list[str], duplicate: bool) -> dict:
        entry = {
            "id": note.id,
            "event_type": note.event_type,
            "out_trade_no": note.out_trade_no,
            "out_refund_no": note.out_refund_no,
            "url": note.url,
            "attempt": attempt,
            "duplicate": duplicate,
            "faults": applied,
            "sent_at": rfc3339(time.time()),
            "sent_at_epoch": time.time(),
            "status": "pending",
        }
        self.log.append(entry)
        if len(self.log) > LOG_LIMIT:
            del self.log[: LOG_LIMIT // 10]
        return entry

    # --- the sandbox's own page ------------------------------------------------------------------

    @property
    def routes(self) -> list[Route]:
        return [Route("/sandbox/pay/notifications", self.endpoint, methods=["GET"])]

    async def endpoint(self, request: Request) -> JSONResponse:
        """What was sent, to where, when and the answer; ?out_trade_no= ?event_type= filter."""
        q = request.query_params
        wanted = {k: q[k] for k in ("out_trade_no", "out_refund_no", "event_type", "id") if k in q}
        entries = [e for e in self.log if all(e[k] == v for k, v in wanted.items())]
        return JSONResponse({"notifications": entries})
