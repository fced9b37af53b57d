"""Shared fixtures: the real MariaDB, Redis, a Ray head, the WeChat sandbox and hub processes.

Everything runs as real processes on real ports; the database is a throw-away one
(MYSQL_URL's database is dropped and recreated per session, never `orderhub`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import socketio

from adapters.mysql import MysqlDsn
from hub.seed import AREAS

# The process helpers live in load/processes.py (the benches start the same processes);
# tests import them from here.
from load.processes import (  # noqa: F401 (re-exported for the tests)
    PY,
    ROOT,
    HubProcess,
    Stores,
    free_port,
    hub_env,
    seed_hub,
    spawn,
    start_ray_head,
    start_sandbox,
    stop,
    wait_http,
)
from load.stores import drop_database, flush_redis

MYSQL_URL = os.environ.get("MYSQL_URL", "mysql://root@127.0.0.1:3306/orderhub_test")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
ADMIN_PASSWORD = "test-admin-pw-1"

if MysqlDsn.parse(MYSQL_URL).database == "orderhub":
    raise SystemExit("tests refuse to run against the demo database `orderhub`")

DEMO_AREAS = {name for name, *_ in AREAS}  # what `python -m hub seed` made
HubProc = HubProcess  # the name the hub fixtures' values had


@contextlib.asynccontextmanager
async def serve_asgi(app):
    """Serve an ASGI app in this process on a free port; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture(scope="session")
def workdir():
    """Logs of every process the tests start; kept after the run for post-mortems."""
    path = Path(tempfile.mkdtemp(prefix="orderhub-tests-"))
    print(f"\n[tests] process logs in {path}")
    return path


@pytest.fixture(scope="session")
def clean_stores():
    """A fresh test database and Redis db for the session."""
    drop_database(MYSQL_URL)
    flush_redis(REDIS_URL)


@pytest.fixture(scope="session")
def ray_head(workdir):
    """One Ray head for the whole session (Ray's testing advice); hubs join it."""
    head = start_ray_head(workdir / "ray", workdir / "ray.log", timeout=90)
    yield head.address
    head.stop()


@pytest.fixture(scope="session")
def sandbox(workdir):
    # The hubs' state directory (WeChat Pay keys); WeChat's notification retries 100× faster.
    service = start_sandbox(
        workdir / "sandbox.log", workdir / "state", timeout=30, WECHAT_SANDBOX_TIME_FACTOR=0.01
    )
    yield service.url
    service.stop()


@pytest.fixture(scope="session")
def hub_factory(clean_stores, ray_head, sandbox, workdir):
    """Starts hubs joined to the session's Ray head; keyword arguments override env vars."""
    started: list[HubProcess] = []
    seeded: set[str] = set()

    def start(**overrides) -> HubProcess:
        # A hub on a Ray of its own has hosts of its own: on the session's database they
        # would run the other tests' orders a second time.
        own_ray = overrides.get("RAY_ADDRESS", ray_head) != ray_head
        if own_ray and overrides.get("MYSQL_URL", MYSQL_URL) == MYSQL_URL:
            raise ValueError("a hub with a Ray of its own needs a MYSQL_URL of its own")
        port = free_port()
        stores = Stores(MYSQL_URL, REDIS_URL, workdir / "state")
        env = hub_env(
            port,
            stores,
            sandbox,
            ADMIN_PASSWORD,
            ray_head,
            **{
                "HUB_LOGIN_PER_MIN": 100000,
                "HUB_ORDERS_PER_MIN": 1000,
                "HUB_PAY_QUERY_S": 3,  # open payments are asked about every 3 s, not 15
                **overrides,
            },
        )
        log = workdir / f"hub-{port}.log"
        if env["MYSQL_URL"] not in seeded:  # a database of its own: start it empty
            seeded.add(env["MYSQL_URL"])
            if env["MYSQL_URL"] != MYSQL_URL:
                drop_database(env["MYSQL_URL"])
                flush_redis(env["REDIS_URL"])
            seed_hub(env, log)
        hub = HubProcess.start(env, log)
        started.append(hub)
        return hub

    yield start
    for hub in started:
        hub.stop()


@pytest.fixture(scope="session")
def hub(hub_factory) -> HubProcess:
    return hub_factory()


# --- clients -------------------------------------------------------------------------------------


class Api:
    """A thin JSON client of one hub, as a given user."""

    def __init__(self, base: str, token: str | None = None):
        self.base = base
        self.token = token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.AsyncClient(base_url=base, headers=headers, timeout=60)

    async def call(self, method: str, path: str, json=None, **kw) -> httpx.Response:
        return await self.http.request(method, path, json=json, **kw)

    async def ok(self, method: str, path: str, json=None, status: int | None = None, **kw):
        r = await self.call(method, path, json, **kw)
        assert r.status_code < 300 if status is None else r.status_code == status, (
            f"{method} {path} → {r.status_code} {r.text}"
        )
        return r.json()

    async def close(self) -> None:
        await self.http.aclose()


@dataclass
class User:
    api: Api
    user_id: int
    role: str
    provider_id: int | None = None

    @property
    def token(self) -> str:
        return self.api.token


class World:
    """Makes customers, approved providers and staff against a hub."""

    def __init__(self, base: str):
        self.base = base
        self._admin: Api | None = None
        self.services: list[dict] = []
        self.clients: list = []

    async def admin(self) -> Api:
        if self._admin is None:
            anon = Api(self.base)
            body = await anon.ok(
                "POST", "/api/auth/login", {"username": "admin", "password": ADMIN_PASSWORD}
            )
            await anon.close()
            self._admin = Api(self.base, body["token"])
        return self._admin

    async def admin_user(self) -> User:
        api = await self.admin()
        me = await api.ok("GET", "/api/me")
        return User(api, me["user"]["id"], "admin")

    async def login(self, name: str, role: str = "customer") -> User:
        anon = Api(self.base)
        body = await anon.ok(
            "POST", "/api/auth/wechat-login", {"code": f"sandbox-{name}", "role": role}
        )
        await anon.close()
        return User(Api(self.base, body["token"]), body["user"]["id"], body["user"]["role"])

    async def ensure_catalog(self) -> list[dict]:
        """The demo catalog and areas (`python -m hub seed` ran before the first hub)."""
        if not self.services:
            anon = Api(self.base)
            self.services = await anon.ok("GET", "/api/services")
            # The demo areas (other tests' own areas are theirs; `area` adds this test's).
            areas = await anon.ok("GET", "/api/areas")
            self.areas = [a for a in areas if a["name"] in DEMO_AREAS]
            await anon.close()
        return self.services

    async def area(self, lat: float, lng: float, half: float = 0.1, **extra) -> dict:
        """A service area of a test's own: a box around (lat, lng); `extra`: more fields."""
        box = [[lat - half, lng - half], [lat - half, lng + half]]
        box += [[lat + half, lng + half], [lat + half, lng - half]]
        body = {"name": f"t-{uuid.uuid4().hex[:8]}", "city": "海口", "centerLat": lat}
        body.update(centerLng=lng, boundary=box, **extra)
        await self.ensure_catalog()
        area = await (await self.admin()).ok("POST", "/api/admin/areas", body, status=201)
        self.areas.append(area)  # providers made from now on serve it too
        return area

    async def policy(self, area_id: int, service_id: int = 0, **config) -> dict:
        """A dispatch policy override (CONTRACT §10) for the area (and service)."""
        body = {"areaId": area_id, "serviceId": service_id, "config": config}
        return await (await self.admin()).ok("PUT", "/api/admin/dispatch/policies", body)

    async def customer(self, name: str | None = None) -> User:
        return await self.login(name or f"c-{uuid.uuid4().hex[:10]}", "customer")

    async def provider(self, name: str | None = None, approve: bool = True) -> User:
        services = await self.ensure_catalog()
        user = await self.login(name or f"p-{uuid.uuid4().hex[:10]}", "provider")
        body = await user.api.ok(
            "POST",
            "/api/providers/apply",
            {
                "name": "师傅",
                "skills": [s["id"] for s in services],
                "certificateNo": uuid.uuid4().hex[:12],
                "certificateType": "low_voltage",
                "serviceAreas": [a["id"] for a in self.areas],
            },
        )
        user.provider_id = body["providerId"]
        if approve:
            admin = await self.admin()
            await admin.ok(
                "POST",
                f"/api/admin/providers/{user.provider_id}/verify",
                {"approved": True, "note": "ok"},
            )
        return user

    async def order(self, customer: User, lat=20.03, lng=110.3, **extra) -> dict:
        services = await self.ensure_catalog()
        body = {
            "serviceId": services[0]["id"],
            "address": "海口市美兰区人民大道 58 号",
            "lat": lat,
            "lng": lng,
            "description": "跳闸",
            "contactName": "王女士",
            "contactPhone": "13800138000",
            "urgency": "normal",
            "dispatchMode": "grab",
            **extra,
        }
        return await customer.api.ok("POST", "/api/orders", body, status=201)

    async def socket(self, user: User, hub_url: str | None = None) -> Socket:
        sock = Socket()
        await sock.connect(hub_url or self.base, user.token)
        self.clients.append(sock)
        return sock

    async def close(self) -> None:
        for sock in self.clients:
            await sock.close()
        if self._admin:
            await self._admin.close()


class Socket:
    """A real python-socketio client that records every event it receives."""

    def __init__(self, heartbeat_s: float | None = 10):
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, dict]] = []
        self._waiters: list = []
        self.sio.on("*", self._on_any)
        self.heartbeat_s = heartbeat_s
        self._beat: asyncio.Task | None = None

    async def _heartbeats(self) -> None:
        # Like a real app: without heartbeats an online provider is swept offline.
        while True:
            await asyncio.sleep(self.heartbeat_s)
            if self.sio.connected:
                await self.sio.emit("heartbeat", {})

    async def _on_any(self, event, data=None):
        self.events.append((event, data))
        for waiter in list(self._waiters):
            cond, fut = waiter
            if not fut.done() and cond(event, data):
                fut.set_result(data)

    async def connect(self, base: str, token: str) -> None:
        await self.sio.connect(
            base, auth={"token": token}, transports=["websocket"], wait_timeout=20
        )
        if self.heartbeat_s:
            self._beat = asyncio.create_task(self._heartbeats())

    async def call(self, event: str, data=None, timeout: float = 30):
        return await self.sio.call(event, data if data is not None else {}, timeout=timeout)

    def of(self, event: str, **match) -> list[dict]:
        return [
            d for e, d in self.events if e == event and all(d.get(k) == v for k, v in match.items())
        ]

    async def wait_for(self, event: str, timeout: float = 15, **match) -> dict:
        found = self.of(event, **match)
        if found:
            return found[0]
        fut = asyncio.get_running_loop().create_future()
        waiter = (lambda e, d: e == event and all(d.get(k) == v for k, v in match.items()), fut)
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            self._waiters.remove(waiter)

    async def close(self) -> None:
        if self._beat:
            self._beat.cancel()
        if self.sio.connected:
            await self.sio.disconnect()


@pytest.fixture
async def world(hub):
    w = World(hub.url)
    yield w
    await w.close()
