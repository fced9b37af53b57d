"""The bench's customers and approved providers, made through the hub's real API, and their
sockets (load/sio.py's lean client)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import httpx

from load.bench_actors.basics import ADMIN_PASSWORD, BenchError, iso_ms, run_all
from load.sio import SioClient


@dataclass
class BenchUser:
    """A logged-in customer or provider, its socket once connected, and the order it is on."""

    token: str
    user_id: int
    provider_id: int | None = None
    sock: SioClient | None = None
    order_id: int | None = None
    point: tuple[float, float] | None = None  # where it stands (locations phase)


class World:
    """Customers and approved providers, made through the hub's real API."""

    def __init__(self, base: str, concurrency: int, prefix: str):
        self.base = base
        self.prefix = prefix
        # keepalive_expiry below uvicorn's 5 s keep-alive: reuse no connection the hub may be
        # closing at that very moment.
        limits = httpx.Limits(
            max_connections=concurrency + 8, max_keepalive_connections=64, keepalive_expiry=2.0
        )
        self.http = httpx.AsyncClient(base_url=base, timeout=120, limits=limits)
        self.admin_token = ""
        self.retries: list[str] = []  # what had to be retried, and why
        self.orders_asked = 0
        self.drops: list[tuple[str, str]] = []  # sockets lost before close(): (when, why)
        self.closing = False
        self.services: list[dict] = []
        self.areas: list[dict] = []

    async def ok(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body=None,
        idem: str | None = None,
        safe: bool = False,
        also: tuple[int, ...] = (),
    ) -> dict:
        """The JSON answer of a 2xx (or of a status in `also`); `safe`: retrying is harmless."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if idem:
            headers["Idempotency-Key"] = idem
        # A kept-alive connection the server closes just as a request goes out fails with a
        # transport error: retry once when that is safe (reads, logins, keyed order POSTs).
        # The hub has the same race towards the WeChat sandbox and answers a login with 503
        # wechat_unavailable then (see docs/benchmarks.md): a login is retried once too.
        retry = safe or method == "GET" or idem is not None or path.startswith("/api/auth/")
        for attempt in (1, 2):
            try:
                r = await self.http.request(method, path, json=body, headers=headers)
            except httpx.TransportError as exc:
                if not retry or attempt == 2:
                    raise
                self.retries.append(f"{method} {path}: {type(exc).__name__} {exc}"[:200])
                continue
            if r.status_code == 503 and retry and attempt == 1:
                self.retries.append(f"{method} {path}: 503 {r.text}"[:300])
                await asyncio.sleep(0.2)
                continue
            break
        if r.status_code >= 300 and r.status_code not in also:
            raise BenchError(f"{method} {path} -> {r.status_code} {r.text[:300]}")
        return r.json()

    async def setup(self) -> None:
        body = await self.ok(
            "POST", "/api/auth/login", body={"username": "admin", "password": ADMIN_PASSWORD}
        )
        self.admin_token = body["token"]
        self.services = await self.ok("GET", "/api/services")
        self.areas = await self.ok("GET", "/api/areas")
        if not self.services or not self.areas:
            raise BenchError("the seeded catalog is empty")

    def skills(self, category: str) -> list[int]:
        return [s["id"] for s in self.services if s["category"] == category]

    async def login(self, name: str, role: str) -> BenchUser:
        body = await self.ok(
            "POST", "/api/auth/wechat-login", body={"code": f"sandbox-{name}", "role": role}
        )
        return BenchUser(body["token"], body["user"]["id"])

    async def customer(self, i: int) -> BenchUser:
        return await self.login(f"{self.prefix}-c{i}", "customer")

    async def provider(self, i: int, skills: list[int]) -> BenchUser:
        user = await self.login(f"{self.prefix}-p{i}", "provider")
        body = await self.ok(
            "POST",
            "/api/providers/apply",
            user.token,
            {
                "name": f"师傅{i}",
                "skills": skills,
                "certificateNo": f"{self.prefix}-{i:07d}",
                "certificateType": "low_voltage",
                "serviceAreas": [a["id"] for a in self.areas],
            },
            safe=True,  # a retry of an application that got through answers already_applied
            also=(409,),
        )
        if "error" in body:
            if body["error"].get("code") != "already_applied":
                raise BenchError(f"POST /api/providers/apply -> 409 {body}")
            body = body["error"]
        user.provider_id = body["providerId"]
        await self.ok(
            "POST",
            f"/api/admin/providers/{user.provider_id}/verify",
            self.admin_token,
            {"approved": True, "note": "bench"},
            safe=True,  # approving twice is approving
        )
        return user

    async def order(self, customer: BenchUser, service_id: int, at: tuple[float, float]) -> dict:
        self.orders_asked += 1
        return await self.ok(
            "POST",
            "/api/orders",
            customer.token,
            idem=f"{self.prefix}-o{self.orders_asked}",
            body={
                "serviceId": service_id,
                "address": "海口市美兰区人民大道 58 号",
                "lat": at[0],
                "lng": at[1],
                "description": "跳闸",
                "contactName": "王女士",
                "contactPhone": "13800138000",
                "urgency": "normal",
                "dispatchMode": "grab",
            },
        )

    async def connect(self, user: BenchUser) -> SioClient:
        def dropped(reason: str) -> None:
            if not self.closing:
                ws = getattr(sock, "_ws", None)  # the websocket's close code says who closed
                code = getattr(ws, "close_code", None)
                why = getattr(ws, "close_reason", None)
                self.drops.append((iso_ms(time.time()), f"{reason} (close {code} {why!r})"))

        sock = SioClient(
            self.base, auth={"token": user.token}, connect_timeout=60, on_disconnect=dropped
        )
        await sock.connect()
        user.sock = sock
        return sock

    def notes(self) -> dict:
        """What went wrong on the way without failing the phase (for the report)."""
        return {
            "httpRetries": {"count": len(self.retries), "first": self.retries[:3]},
            "socketDrops": {"count": len(self.drops), "first": self.drops[:3]},
        }

    async def close(self, users: list[BenchUser]) -> None:
        self.closing = True

        async def bye(user: BenchUser):
            if user.sock is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(user.sock.disconnect(), 5)

        await run_all(len(users), lambda i: bye(users[i]), 200)
        await self.http.aclose()


async def ack_ok(sock: SioClient, event: str, data: dict, timeout: float = 60) -> dict:
    answer = await sock.call(event, data, timeout=timeout)
    if not isinstance(answer, dict) or not answer.get("ok"):
        raise BenchError(f"{event} {data} -> {answer}")
    return answer
