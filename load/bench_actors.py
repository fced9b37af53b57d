"""Benchmark of the actor layer, end to end through a real hub.

    python -m load.bench_actors [--json out.json] [--phases sharded,dedicated,locations] ...

Every phase gets a fresh stack of its own: the scratch database (dropped, migrated, seeded),
a scratch Redis db (9 by default; flushed), a Ray head started here in its own process
group (killed at the end; `ray stop` is never used, it would kill other people's Ray), the
WeChat sandbox and one hub. The database and the Redis db are refused while anyone else is
connected to them.

* sharded / dedicated: memory per active order and per online provider, and how many of
  each are made live per second. Orders: `POST /api/orders` (it answers once the order's
  actor is activated). Providers: the ack of `provider.online` (apply + approve and the
  socket connect are done beforehand and not timed). Memory comes from `EntityHost.stats()`:
  sharded, the hosts' USS/RSS before vs after, divided by the number of entities added;
  dedicated, summed over the per-entity actors (each a whole process).
* locations (sharded): P providers online, each with a grabbed order watched by its
  customer; the providers send `location.update` at a fixed total rate; the customers time
  `provider.location` (latency = receive time - `at`, which has millisecond resolution).

See docs/benchmarks.md for what every figure means and the figures measured here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pymysql
import ray
import redis as redis_sync
import redis.asyncio as aioredis

from actors.placement import NAMESPACE, Placement
from adapters.mysql import MysqlDsn
from adapters.settings import Settings
from load.sio import SioClient

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
ADMIN_PASSWORD = "bench-admin-pw-1"
FORBIDDEN_DATABASES = {"orderhub", "orderhub_test"}  # the demo's and the test suite's
FORBIDDEN_REDIS_DBS = {0, 15}  # the demo's and the test suite's

# Orders of the memory phases: all at one point in 美兰区; their providers are online far
# away (Beijing), so no order holds offers and the figures are the entities' own cost.
ORDER_AT = (20.03, 110.35)
FAR_AWAY = (39.90, 116.40)
# Locations phase: one provider+order pair per grid point, GRID_STEP apart; with the hub's
# grab radius at GRAB_RADIUS_M each order is offered to its own provider only.
GRID_ORIGIN = (19.95, 110.28)
GRID_STEP = 0.003  # degrees, ~330 m
GRAB_RADIUS_M = 100

log = logging.getLogger("bench")


class BenchError(RuntimeError):
    pass


# --- small utilities ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def say(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def iso_ms(ts: float) -> str:
    return (
        datetime.fromtimestamp(ts, UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")
        + "Z"
    )


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[k]


def proc_cpu_s(pid: int) -> float | None:
    """User+system CPU seconds of a process, from /proc (None if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def service_pids() -> dict[str, list[int]]:
    """MariaDB/MySQL and Redis server processes (shared with everyone else on the machine)."""
    found: dict[str, list[int]] = {"mysql": [], "redis": []}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm in ("mariadbd", "mysqld"):
            found["mysql"].append(int(entry.name))
        elif comm == "redis-server":
            found["redis"].append(int(entry.name))
    return {k: v for k, v in found.items() if v}


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies over all cores, from /proc/stat."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    return sum(parts) - idle, sum(parts)


def machine_snapshot() -> dict:
    with open("/proc/meminfo") as f:
        mem = {k: int(v.split()[0]) for k, v in (ln.split(":", 1) for ln in f)}
    return {
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "memAvailableMb": mem["MemAvailable"] // 1024,
    }


class CpuMeter:
    """CPU use of this process, of chosen pids and of the whole machine over an interval."""

    def __init__(self, pids: dict[str, list[int]]):
        self.pids = pids
        self.t0 = time.monotonic()
        ru = resource.getrusage(resource.RUSAGE_SELF)
        self.self0 = ru.ru_utime + ru.ru_stime
        self.m0 = machine_cpu()
        self.p0 = {k: [proc_cpu_s(p) for p in v] for k, v in pids.items()}

    def read(self) -> dict:
        wall = time.monotonic() - self.t0
        ru = resource.getrusage(resource.RUSAGE_SELF)
        busy, total = machine_cpu()
        out = {
            "wallS": round(wall, 2),
            "generatorCpuPct": round(100 * (ru.ru_utime + ru.ru_stime - self.self0) / wall, 1),
            "machineBusyPct": round(
                100 * (busy - self.m0[0]) / max(1, total - self.m0[1]) * os.cpu_count(), 1
            ),
        }
        for name, pids in self.pids.items():
            used = 0.0
            for pid, before in zip(pids, self.p0[name], strict=True):
                after = proc_cpu_s(pid)
                if before is not None and after is not None:
                    used += after - before
            out[f"{name}CpuPct"] = round(100 * used / wall, 1)
        return out


def spawn(args: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: we kill exactly that group
    )


def stop_group(proc: subprocess.Popen | None, timeout: float = 20) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)


def stop_ray_head(proc: subprocess.Popen | None, timeout: float = 45) -> None:
    """SIGTERM to `ray start --block` alone (it stops its children in order: signalling the
    whole group first kills the GCS under its drain request), then SIGKILL to whatever is
    left of its process group. The actors' workers have process groups of their own; they
    exit when their raylet does."""
    if proc is None:
        return
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(10)


def wait_http(url: str, timeout: float, proc: subprocess.Popen, log_path: Path) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"process exited ({proc.returncode}) before {url}: see {log_path}")
        try:
            if httpx.get(url, timeout=3).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise BenchError(f"{url} did not answer 200 within {timeout:.0f} s: see {log_path}")


async def run_all(n: int, fn, concurrency: int) -> tuple[list, list[BaseException]]:
    """fn(i) for i in range(n), at most `concurrency` at a time; (results, errors)."""
    results: list = [None] * n
    errors: list[BaseException] = []
    todo = iter(range(n))

    async def worker():
        for i in todo:
            try:
                results[i] = await fn(i)
            except Exception as exc:
                errors.append(exc)

    await asyncio.gather(*[worker() for _ in range(max(1, min(concurrency, n)))])
    return results, errors


def error_summary(errors: list[BaseException], limit: int = 3) -> list[str]:
    return [f"{type(e).__name__}: {e}"[:400] for e in errors[:limit]]


# --- the stack: stores, Ray head, sandbox, hub ----------------------------------------------


class Stack:
    """One phase's processes. Logs stay in `workdir` for post-mortems."""

    def __init__(self, args, label: str, placement: str):
        self.args = args
        self.label = label
        self.placement = placement
        self.workdir: Path = args.workdir
        self.ray_proc = self.sandbox_proc = self.hub_proc = None
        self.hub_url = ""
        self.hub_log = self.workdir / f"hub-{label}.log"
        self.settings = Settings(
            mysql_url=args.mysql_url,
            redis_url=args.redis_url,
            placement=placement,
            hosts=args.hosts,
            state_dir=self.workdir / f"state-{label}",
            admin_password=ADMIN_PASSWORD,
        )

    def reset_stores(self) -> None:
        from adapters.migrate import migrate
        from hub.seed import seed

        dsn = MysqlDsn.parse(self.args.mysql_url)
        r = redis_sync.from_url(self.args.redis_url)
        conn = pymysql.connect(**dsn.connect_kwargs(with_db=False), autocommit=True)
        try:
            # The previous phase's processes may take a moment to let go of their connections.
            deadline = time.time() + 20
            while True:
                problem = self._others_using(conn, dsn.database, r)
                if problem is None:
                    break
                if time.time() > deadline:
                    raise BenchError(f"{problem}: someone else uses it; pick another scratch one")
                time.sleep(1)
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{dsn.database}`")
            r.flushdb()
        finally:
            conn.close()
            r.close()
        quiet = io.StringIO()
        with contextlib.redirect_stdout(quiet):
            migrate(self.args.mysql_url, log=lambda *_: None)
            seed(self.settings)

    @staticmethod
    def _others_using(conn, database: str, r) -> str | None:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST"
                " WHERE DB = %s AND ID <> CONNECTION_ID()",
                (database,),
            )
            (users,) = cur.fetchone()
        if users:
            return f"database {database} has {users} other connection(s) (--mysql-url)"
        db = str(r.connection_pool.connection_kwargs.get("db", 0))
        me = str(r.client_id())
        others = [c for c in r.client_list() if c.get("db") == db and c.get("id") != me]
        if others:
            return (
                f"Redis db {db} has {len(others)} other client(s), e.g. {others[0].get('addr')}"
                " (--redis-url)"
            )
        return None

    def start_ray(self) -> str:
        port = free_port()
        ports = {
            "--dashboard-agent-listen-port": free_port(),
            "--dashboard-agent-grpc-port": free_port(),
            "--runtime-env-agent-port": free_port(),
            "--metrics-export-port": free_port(),
            "--node-manager-port": free_port(),
            "--object-manager-port": free_port(),
        }
        env = {
            **os.environ,
            "RAY_AUTH_MODE": "disabled",
            "RAY_USAGE_STATS_ENABLED": "0",
            # a scratch cluster: no 30 s drain of the (detached, never idle) hosts on SIGTERM
            "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0",
        }
        log_path = self.workdir / f"ray-{self.label}.log"
        self.ray_proc = spawn(
            [
                str(Path(PY).with_name("ray")),
                "start",
                "--head",
                "--block",
                f"--port={port}",
                "--num-cpus=2",
                "--include-dashboard=false",
                "--disable-usage-stats",
                f"--temp-dir={self.workdir / ('ray-' + self.label)}",
                *[f"{k}={v}" for k, v in ports.items()],
            ],
            env,
            log_path,
        )
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.ray_proc.poll() is not None:
                raise BenchError(f"ray head exited: see {log_path}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        else:
            raise BenchError(f"ray head did not listen within 120 s: see {log_path}")
        time.sleep(2)
        return f"127.0.0.1:{port}"

    def start(self) -> None:
        t0 = time.monotonic()
        self.reset_stores()
        address = self.start_ray()
        sandbox_port = free_port()
        sandbox_log = self.workdir / f"sandbox-{self.label}.log"
        self.sandbox_proc = spawn(
            [PY, "-m", "sandbox"],
            {**os.environ, "WECHAT_SANDBOX_PORT": str(sandbox_port)},
            sandbox_log,
        )
        sandbox = f"http://127.0.0.1:{sandbox_port}"
        wait_http(f"{sandbox}/sandbox/health", 60, self.sandbox_proc, sandbox_log)
        port = free_port()
        env = {
            **os.environ,
            "MYSQL_URL": self.args.mysql_url,
            "REDIS_URL": self.args.redis_url,
            "RAY_ADDRESS": address,
            "RAY_AUTH_MODE": "disabled",
            "HUB_PORT": str(port),
            "HUB_PLACEMENT": self.placement,
            "HUB_HOSTS": str(self.args.hosts),
            "WECHAT_API_BASE": sandbox,
            "WECHAT_PAY_BASE": sandbox,
            "ORDERHUB_STATE_DIR": str(self.settings.state_dir),
            "HUB_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "HUB_LOGIN_PER_MIN": "1000000",
            "HUB_ORDERS_PER_MIN": "1000000",
            # The bench's providers send no heartbeats while idle (it would add load to
            # the figures); without this they would go offline after 30 s.
            "HUB_HEARTBEAT_TIMEOUT_S": "3600",
            "HUB_GRAB_RADIUS_M": str(GRAB_RADIUS_M),
            "PYTHONUNBUFFERED": "1",
        }
        self.hub_proc = spawn([PY, "-m", "hub"], env, self.hub_log)
        self.hub_url = f"http://127.0.0.1:{port}"
        wait_http(f"{self.hub_url}/api/ready", 240, self.hub_proc, self.hub_log)
        os.environ["RAY_AUTH_MODE"] = "disabled"
        ray.init(
            address=address,
            namespace=NAMESPACE,
            logging_level=logging.WARNING,
            log_to_driver=False,
        )
        say(f"{self.label}: stack up in {time.monotonic() - t0:.0f} s (hub log {self.hub_log})")

    def stop(self) -> None:
        took = {}
        for name, fn in (
            ("driver", ray.shutdown),
            ("hub", lambda: stop_group(self.hub_proc)),
            ("sandbox", lambda: stop_group(self.sandbox_proc)),
            ("ray", lambda: stop_ray_head(self.ray_proc)),
        ):
            t = time.monotonic()
            with contextlib.suppress(Exception):
                fn()
            took[name] = round(time.monotonic() - t, 1)
        say(f"{self.label}: stopped (seconds: {took})")

    @property
    def hub_pid(self) -> int:
        return self.hub_proc.pid


# --- clients ---------------------------------------------------------------------------------


@dataclass
class Party:
    token: str
    user_id: int
    provider_id: int | None = None
    sock: SioClient | None = None
    order_id: int | None = None
    point: tuple[float, float] = ORDER_AT


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

    async def login(self, name: str, role: str) -> Party:
        body = await self.ok(
            "POST", "/api/auth/wechat-login", body={"code": f"sandbox-{name}", "role": role}
        )
        return Party(body["token"], body["user"]["id"])

    async def customer(self, i: int) -> Party:
        return await self.login(f"{self.prefix}-c{i}", "customer")

    async def provider(self, i: int, skills: list[int]) -> Party:
        party = await self.login(f"{self.prefix}-p{i}", "provider")
        body = await self.ok(
            "POST",
            "/api/providers/apply",
            party.token,
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
        party.provider_id = body["providerId"]
        await self.ok(
            "POST",
            f"/api/admin/providers/{party.provider_id}/verify",
            self.admin_token,
            {"approved": True, "note": "bench"},
            safe=True,  # approving twice is approving
        )
        return party

    async def order(self, customer: Party, service_id: int, at: tuple[float, float]) -> dict:
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

    async def connect(self, party: Party) -> SioClient:
        def dropped(reason: str) -> None:
            if not self.closing:
                ws = getattr(sock, "_ws", None)  # the websocket's close code says who closed
                code = getattr(ws, "close_code", None)
                why = getattr(ws, "close_reason", None)
                self.drops.append((iso_ms(time.time()), f"{reason} (close {code} {why!r})"))

        sock = SioClient(
            self.base, auth={"token": party.token}, connect_timeout=60, on_disconnect=dropped
        )
        await sock.connect()
        party.sock = sock
        return sock

    def drop_summary(self) -> dict:
        return {"count": len(self.drops), "first": self.drops[:3]}

    async def close(self, parties: list[Party]) -> None:
        self.closing = True

        async def bye(p: Party):
            if p.sock is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(p.sock.disconnect(), 5)

        await run_all(len(parties), lambda i: bye(parties[i]), 200)
        await self.http.aclose()


async def ack_ok(sock: SioClient, event: str, data: dict, timeout: float = 60) -> dict:
    answer = await sock.call(event, data, timeout=timeout)
    if not isinstance(answer, dict) or not answer.get("ok"):
        raise BenchError(f"{event} {data} -> {answer}")
    return answer


# --- memory and creation rate ------------------------------------------------------------------


async def host_handles(stack: Stack) -> list:
    placement = Placement(stack.settings)
    names = [placement.name("order", i) for i in range(placement.hosts)]
    return [await asyncio.to_thread(ray.get_actor, n, namespace=NAMESPACE) for n in names]


async def entity_handles(stack: Stack, kind: str, ids: list[int]) -> list:
    placement = Placement(stack.settings)

    def lookup():
        found = []
        for i in ids:
            with contextlib.suppress(ValueError):
                found.append(ray.get_actor(placement.name(kind, i), namespace=NAMESPACE))
        return found

    return await asyncio.to_thread(lookup)


async def stats_of(handles: list) -> dict:
    rows = await asyncio.wait_for(asyncio.gather(*[h.stats.remote() for h in handles]), 120)
    return {
        "processes": len(rows),
        "ussKb": sum(r["ussKb"] for r in rows),
        "rssKb": sum(r["rssKb"] for r in rows),
        "orders": sum(r["orders"] for r in rows),
        "providers": sum(r["providers"] for r in rows),
        "pids": [r["pid"] for r in rows],
    }


async def hub_probe(base: str, stop: asyncio.Event) -> dict:
    """GET /api/health every 0.2 s: a slow answer means the hub's event loop was held up
    (blocking calls, or no CPU to be had) - which its sockets feel too."""
    rtts: list[float] = []
    failures = 0
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        while not stop.is_set():
            t = time.perf_counter()
            try:
                await http.get("/api/health")
                rtts.append((time.perf_counter() - t) * 1000)
            except httpx.HTTPError:
                failures += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.2)
    return {
        "p50Ms": round(pct(rtts, 50), 1) if rtts else None,
        "p99Ms": round(pct(rtts, 99), 1) if rtts else None,
        "maxMs": round(max(rtts), 1) if rtts else None,
        "failures": failures,
    }


async def timed(n: int, fn, concurrency: int, base: str) -> dict:
    """Run fn(i) n times; the rate of successes from the first start to the last answer."""
    latencies: list[float] = []
    stop = asyncio.Event()
    probing = asyncio.create_task(hub_probe(base, stop))

    async def one(i):
        t = time.perf_counter()
        result = await fn(i)
        latencies.append(time.perf_counter() - t)
        return result

    t0 = time.perf_counter()
    results, errors = await run_all(n, one, concurrency)
    elapsed = time.perf_counter() - t0
    stop.set()
    health = await probing
    made = n - len(errors)
    return {
        "hubHealth": health,
        "results": results,
        "requested": n,
        "made": made,
        "errors": len(errors),
        "errorSamples": error_summary(errors),
        "elapsedS": round(elapsed, 2),
        "perSecond": round(made / elapsed, 1) if elapsed > 0 else None,
        "callP50Ms": round(1000 * pct(latencies, 50), 1) if latencies else None,
        "callP99Ms": round(1000 * pct(latencies, 99), 1) if latencies else None,
    }


def per_entity(before: dict, after: dict, count: int) -> dict:
    if count <= 0:
        return {"ussKbPerEntity": None, "rssKbPerEntity": None}
    return {
        "ussKbPerEntity": round((after["ussKb"] - before["ussKb"]) / count, 2),
        "rssKbPerEntity": round((after["rssKb"] - before["rssKb"]) / count, 2),
    }


async def memory_phase(stack: Stack, n_orders: int, n_providers: int, conc: int) -> dict:
    args = stack.args
    sharded = stack.placement == "sharded"
    world = World(stack.hub_url, conc, f"b{os.getpid()}{stack.label[:2]}")
    await world.setup()
    categories = sorted({s["category"] for s in world.services})
    service_id = world.services[0]["id"]
    warm = args.warmup if sharded else 0

    say(f"{stack.label}: making {n_providers + warm} approved providers and their sockets …")
    n_customers = max(1, min(n_orders + warm, args.customers))
    customers, errs = await run_all(n_customers, world.customer, conc)
    if errs:
        raise BenchError(f"customer logins failed: {error_summary(errs)}")
    providers, errs = await run_all(
        n_providers + warm,
        lambda i: world.provider(i, world.skills(categories[i % len(categories)])),
        conc,
    )
    if errs:
        raise BenchError(f"provider set-up failed ({len(errs)}): {error_summary(errs)}")
    _, errs = await run_all(len(providers), lambda i: world.connect(providers[i]), conc)
    if errs:
        raise BenchError(f"provider sockets failed ({len(errs)}): {error_summary(errs)}")

    def far(i: int) -> dict:
        # spread a little; 0.001 deg ~ 100 m, far from every order
        return {"lat": FAR_AWAY[0] + (i % 50) * 0.001, "lng": FAR_AWAY[1] + (i // 50) * 0.001}

    async def make_order(i: int) -> int:
        body = await world.order(customers[i % n_customers], service_id, ORDER_AT)
        return body["id"]

    async def go_online(i: int) -> int:
        p = providers[i]
        await ack_ok(p.sock, "provider.online", far(i))
        return p.provider_id

    hub_rss0 = proc_rss_kb(stack.hub_pid)
    if sharded:
        handles = await host_handles(stack)
        if warm:  # imports, pools and caches that the first entities pay for
            await run_all(warm, lambda i: make_order(n_orders + i), conc)
            await run_all(warm, lambda i: go_online(n_providers + i), conc)
            await asyncio.sleep(2)
        base = await stats_of(handles)
    else:
        base = {"ussKb": 0, "rssKb": 0, "orders": 0, "providers": 0, "processes": 0}
    machine0 = machine_snapshot()

    watched = {
        "hub": [stack.hub_pid],
        **({"hosts": base["pids"]} if sharded else {}),
        **service_pids(),
    }
    say(f"{stack.label}: creating {n_orders} orders (concurrency {conc}) …")
    meter = CpuMeter(watched)
    orders = await timed(n_orders, make_order, conc, stack.hub_url)
    orders["cpu"] = meter.read()
    order_ids = [x for x in orders.pop("results") if x is not None]
    await asyncio.sleep(args.settle)
    if sharded:
        mid = await stats_of(handles)
        order_mem = per_entity(base, mid, mid["orders"] - base["orders"])
        live_orders = mid["orders"] - base["orders"]
    else:
        order_handles = await entity_handles(stack, "order", order_ids)
        mid = await stats_of(order_handles)
        order_mem = per_entity(base, mid, mid["orders"])
        live_orders = mid["orders"]
    say(
        f"{stack.label}: {orders['made']} orders in {orders['elapsedS']} s"
        f" ({orders['perSecond']}/s), {live_orders} live"
    )

    say(f"{stack.label}: bringing {n_providers} providers online (concurrency {conc}) …")
    meter = CpuMeter(watched)
    online = await timed(n_providers, go_online, conc, stack.hub_url)
    online["cpu"] = meter.read()
    provider_ids = [x for x in online.pop("results") if x is not None]
    await asyncio.sleep(args.settle)
    if sharded:
        end = await stats_of(handles)
        provider_mem = per_entity(mid, end, end["providers"] - mid["providers"])
        live_providers = end["providers"] - mid["providers"]
    else:
        provider_handles = await entity_handles(stack, "provider", provider_ids)
        end = await stats_of(provider_handles)
        provider_mem = per_entity(base, end, end["providers"])
        live_providers = end["providers"]
    say(
        f"{stack.label}: {online['made']} providers online in {online['elapsedS']} s"
        f" ({online['perSecond']}/s), {live_providers} live"
    )
    hub_rss1 = proc_rss_kb(stack.hub_pid)
    machine1 = machine_snapshot()
    await world.close(providers + customers)
    result = {
        "placement": stack.placement,
        "hosts": args.hosts if sharded else None,
        "concurrency": conc,
        "warmupEntities": warm,
        "order": {**orders, "live": live_orders, **order_mem},
        "provider": {**online, "live": live_providers, **provider_mem},
        "hostsBefore": base,
        "hostsAfterOrders": mid,
        "hostsAfterProviders": end,
        "hubRssKb": {"before": hub_rss0, "after": hub_rss1},
        "httpRetries": {"count": len(world.retries), "first": world.retries[:3]},
        "socketDrops": world.drop_summary(),
        "machine": {"before": machine0, "after": machine1},
    }
    if not sharded:
        result["order"]["totalRssMb"] = round(mid["rssKb"] / 1024, 1)
        result["order"]["totalUssMb"] = round(mid["ussKb"] / 1024, 1)
        result["provider"]["totalRssMb"] = round(end["rssKb"] / 1024, 1)
        result["provider"]["totalUssMb"] = round(end["ussKb"] / 1024, 1)
    for key in ("hostsBefore", "hostsAfterOrders", "hostsAfterProviders"):
        result[key] = {k: v for k, v in result[key].items() if k != "pids"}
    return result


# --- locations ---------------------------------------------------------------------------------


@dataclass
class Step:
    rate: float
    sent: dict = field(default_factory=dict)  # (providerId, at) -> send wall time
    latency_ms: list = field(default_factory=list)
    got: set = field(default_factory=set)
    first_send: float = 0.0
    last_recv: float = 0.0
    duplicates: int = 0
    stray: int = 0
    sending: bool = True
    all_in: asyncio.Event = field(default_factory=asyncio.Event)


async def probe(redis_url: str, stop: asyncio.Event) -> dict:
    """While a step runs: this process's event-loop lag (is the generator keeping up?), the
    round trip of a Redis PING (the Redis is shared with everything else here), and the
    output buffer Redis holds for the hub's pub/sub subscription (it grows when the hub's
    listener falls behind the hosts' publishing)."""
    r = aioredis.from_url(redis_url)
    db = str(r.connection_pool.connection_kwargs.get("db", 0))
    loop = asyncio.get_running_loop()
    lags, pings = [], []
    sub_mem = sub_len = 0
    next_sample = 0.0
    try:
        while not stop.is_set():
            t = loop.time()
            await asyncio.sleep(0.05)
            lags.append((loop.time() - t - 0.05) * 1000)
            t = time.perf_counter()
            await r.ping()
            pings.append((time.perf_counter() - t) * 1000)
            if loop.time() >= next_sample:
                next_sample = loop.time() + 0.25
                for c in await r.client_list(_type="pubsub"):
                    if str(c.get("db")) == db:
                        sub_mem = max(sub_mem, int(c.get("omem", 0)))
                        sub_len = max(sub_len, int(c.get("oll", 0)))
    finally:
        await r.aclose()

    def summary(xs: list[float]) -> dict:
        return {
            "p50Ms": round(pct(xs, 50), 1) if xs else None,
            "p99Ms": round(pct(xs, 99), 1) if xs else None,
            "maxMs": round(max(xs), 1) if xs else None,
        }

    return {
        "generatorLoopLag": summary(lags),
        "redisPing": summary(pings),
        "hubSubscriberBacklog": {"maxOutputKb": round(sub_mem / 1024, 1), "maxOutputList": sub_len},
    }


async def locations_phase(stack: Stack) -> dict:
    args = stack.args
    n = args.loc_providers
    conc = args.concurrency
    world = World(stack.hub_url, conc, f"b{os.getpid()}lo")
    await world.setup()
    service = world.services[0]
    skills = world.skills(service["category"])
    side = max(1, int(n**0.5 + 0.999))
    points = [
        (GRID_ORIGIN[0] + (i // side) * GRID_STEP, GRID_ORIGIN[1] + (i % side) * GRID_STEP)
        for i in range(n)
    ]

    say(f"locations: {n} providers + {n} customers, sockets, online, orders, grabs, watches …")
    providers, errs = await run_all(n, lambda i: world.provider(i, skills), conc)
    if errs:
        raise BenchError(f"provider set-up failed ({len(errs)}): {error_summary(errs)}")
    customers, errs = await run_all(n, world.customer, conc)
    if errs:
        raise BenchError(f"customer logins failed: {error_summary(errs)}")
    for i in range(n):
        providers[i].point = customers[i].point = points[i]
    everyone = providers + customers
    _, errs = await run_all(len(everyone), lambda i: world.connect(everyone[i]), conc)
    if errs:
        raise BenchError(f"sockets failed ({len(errs)}): {error_summary(errs)}")

    async def pair(i: int) -> None:
        p, c = providers[i], customers[i]
        lat, lng = points[i]
        await ack_ok(p.sock, "provider.online", {"lat": lat, "lng": lng})
        order = await world.order(c, service["id"], points[i])
        c.order_id = p.order_id = order["id"]
        await ack_ok(p.sock, "order.grab", {"orderId": order["id"]})
        await ack_ok(c.sock, "order.watch", {"orderId": order["id"]})

    # Pairs one after another in small batches: an order must find exactly its provider.
    _, errs = await run_all(n, pair, min(conc, 8))
    if errs:
        raise BenchError(f"pairing failed for {len(errs)} of {n}: {error_summary(errs)}")

    step: Step | None = None

    def on_location(data) -> None:
        now = time.time()
        if step is None or not isinstance(data, dict):
            return
        key = (data.get("providerId"), data.get("at"))
        sent = step.sent.get(key)
        if sent is None:
            step.stray += 1
            return
        if key in step.got:
            step.duplicates += 1
            return
        step.got.add(key)
        step.latency_ms.append((now - sent) * 1000)
        step.last_recv = now
        if not step.sending and len(step.got) >= len(step.sent):
            step.all_in.set()

    for c in customers:
        c.sock.on("provider.location", on_location)

    handles = await host_handles(stack)
    host_pids = (await stats_of(handles))["pids"]

    async def run_step(rate: float, duration: float, drain: float) -> dict:
        nonlocal step
        step = Step(rate)
        total = int(rate * duration)
        meter = CpuMeter({"hub": [stack.hub_pid], "hosts": host_pids, **service_pids()})
        probe_stop = asyncio.Event()
        probing = asyncio.create_task(probe(args.redis_url, probe_stop))
        hub_probing = asyncio.create_task(hub_probe(stack.hub_url, probe_stop))
        load0 = os.getloadavg()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        step.first_send = time.time()
        k = 0
        send_errors = 0
        jitter = 0
        while k < total:
            due = min(total, int((loop.time() - t0) * rate) + 1)
            while k < due:
                p = providers[k % n]
                now = time.time()
                at = iso_ms(now)
                key = (p.provider_id, at)
                k += 1
                if key in step.sent:  # same provider twice in one ms: the rate is too high
                    continue
                # `at` is what the watcher computes latency against: truncated to the ms.
                step.sent[key] = int(now * 1000) / 1000
                jitter = (jitter + 1) % 100
                fix = {"lat": p.point[0] + jitter * 1e-6, "lng": p.point[1], "at": at}
                try:
                    await p.sock.emit("location.update", fix)
                except Exception:
                    send_errors += 1
            await asyncio.sleep(0.004)
        send_s = loop.time() - t0
        step.sending = False
        if len(step.got) < len(step.sent):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(step.all_in.wait(), drain)
        cpu = meter.read()
        probe_stop.set()
        probes = await probing
        probes["hubHealth"] = await hub_probing
        delivered = len(step.got)
        lost = len(step.sent) - delivered
        # a fix not delivered while a newer one of the same provider was: coalesced by the
        # hub's per-tick batching ("the newest fix wins") rather than lost in transport.
        newest: dict = {}
        for pid, at in step.got:
            newest[pid] = max(newest.get(pid, ""), at)
        superseded = sum(
            1 for (pid, at) in step.sent if (pid, at) not in step.got and at < newest.get(pid, "")
        )
        span = max(step.last_recv - step.first_send, 1e-9)
        lat = step.latency_ms
        out = {
            "offeredPerSecond": round(len(step.sent) / send_s, 1),
            "deliveredPerSecond": round(delivered / span, 1) if delivered else 0.0,
            "sendSeconds": round(send_s, 2),
            "sent": len(step.sent),
            "delivered": delivered,
            "lost": lost,
            "lostSuperseded": superseded,
            "duplicates": step.duplicates,
            "stray": step.stray,
            "sendErrors": send_errors,
            "p50Ms": round(pct(lat, 50), 1) if lat else None,
            "p95Ms": round(pct(lat, 95), 1) if lat else None,
            "p99Ms": round(pct(lat, 99), 1) if lat else None,
            "maxMs": round(max(lat), 1) if lat else None,
            "cpu": cpu,
            **probes,
            "loadavgBefore": [round(x, 2) for x in load0],
            "loadavgAfter": [round(x, 2) for x in os.getloadavg()],
        }
        step = None
        return out

    say("locations: warm-up (1 s at 200/s) …")
    warm = await run_step(min(200.0, args.rates[0]), 1.0, 5.0)
    if warm["delivered"] < warm["sent"] * 0.9:
        say(f"locations: warm-up delivered only {warm['delivered']}/{warm['sent']}")
    steps = []
    for rate in args.rates:
        say(f"locations: {rate:g}/s for {args.duration:g} s …")
        res = await run_step(rate, args.duration, args.drain)
        res["rate"] = rate
        say(
            f"locations: offered {res['offeredPerSecond']}/s delivered"
            f" {res['deliveredPerSecond']}/s p50 {res['p50Ms']} p99 {res['p99Ms']} ms,"
            f" lost {res['lost']}, generator {res['cpu']['generatorCpuPct']} %,"
            f" hub {res['cpu']['hubCpuPct']} %"
        )
        steps.append(res)
        await asyncio.sleep(2)
    await world.close(everyone)
    return {
        "providers": n,
        "durationS": args.duration,
        "httpRetries": {"count": len(world.retries), "first": world.retries[:3]},
        "socketDrops": world.drop_summary(),
        "warmup": warm,
        "steps": steps,
    }


# --- report ------------------------------------------------------------------------------------


def fmt(v, unit: str = "") -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        v = f"{v:,.1f}"
    return f"{v}{unit}"


def kb(v) -> str:
    if v is None:
        return "-"
    return f"{v / 1024:,.1f} MB" if abs(v) >= 10 * 1024 else f"{v:,.1f} kB"


def table(report: dict) -> str:
    lines = []
    head = (
        f"{'placement':<10} {'entity':<9} {'count':>6} {'live':>6} {'created/s':>10}"
        f" {'uss/entity':>12} {'rss/entity':>12} {'total rss':>10}"
    )
    mem = [p for p in ("sharded", "dedicated") if p in report["phases"]]
    if mem:
        lines += [head, "-" * len(head)]
        for placement in mem:
            phase = report["phases"][placement]
            if "error" in phase:
                lines.append(f"{placement:<10} FAILED: {phase['error'][:100]}")
                continue
            for entity in ("order", "provider"):
                e = phase[entity]
                total = f"{e['totalRssMb']:,.0f} MB" if "totalRssMb" in e else "-"
                lines.append(
                    f"{placement:<10} {entity:<9} {e['made']:>6} {e['live']:>6}"
                    f" {fmt(e['perSecond']):>10} {kb(e['ussKbPerEntity']):>12}"
                    f" {kb(e['rssKbPerEntity']):>12} {total:>10}"
                )
    loc = report["phases"].get("locations")
    if loc:
        if lines:
            lines.append("")
        head = (
            f"{'locations':<10} {'offered/s':>9} {'delivered/s':>11} {'p50 ms':>7} {'p95 ms':>7}"
            f" {'p99 ms':>7} {'max ms':>7} {'lost':>6} {'coalesced':>9} {'gen cpu':>8}"
            f" {'hub cpu':>8} {'hosts cpu':>9} {'machine':>8} {'redis p99':>9} {'health p99':>10}"
            f" {'sub buf':>8}"
        )
        lines += [head, "-" * len(head)]
        if "error" in loc:
            lines.append(f"FAILED: {loc['error'][:120]}")
        else:
            for s in loc["steps"]:
                c = s["cpu"]
                lines.append(
                    f"{'P=' + str(loc['providers']):<10} {fmt(s['offeredPerSecond']):>9}"
                    f" {fmt(s['deliveredPerSecond']):>11} {fmt(s['p50Ms']):>7}"
                    f" {fmt(s['p95Ms']):>7} {fmt(s['p99Ms']):>7} {fmt(s['maxMs']):>7}"
                    f" {s['lost']:>6} {s['lostSuperseded']:>9}"
                    f" {fmt(c['generatorCpuPct'], '%'):>8}"
                    f" {fmt(c['hubCpuPct'], '%'):>8} {fmt(c['hostsCpuPct'], '%'):>9}"
                    f" {fmt(c['machineBusyPct'], '%'):>8}"
                    f" {fmt(s['redisPing']['p99Ms'], ' ms'):>9}"
                    f" {fmt(s['hubHealth']['p99Ms'], ' ms'):>10}"
                    f" {kb(s['hubSubscriberBacklog']['maxOutputKb']):>8}"
                )
    lines.append("")
    for name, phase in report["phases"].items():
        notes = (("httpRetries", "HTTP requests retried"), ("socketDrops", "sockets lost"))
        for key, what in notes:
            info = phase.get(key) or {}
            if info.get("count"):
                lines.append(f"{name}: {info['count']} {what}, e.g. {info['first'][0]}")
        for entity in ("order", "provider"):
            e = phase.get(entity) or {}
            if e.get("errors"):
                lines.append(f"{name}: {e['errors']} {entity}s failed, e.g. {e['errorSamples'][0]}")
    m = report["machine"]
    lines.append(
        f"machine: {m['cpus']} cpus, loadavg at start {m['start']['loadavg']},"
        f" at end {m.get('end', {}).get('loadavg')}; cpu % = share of one core"
        f" (machine: all processes, {m['cpus'] * 100} % = every core busy)"
    )
    return "\n".join(lines)


# --- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m load.bench_actors",
        description="Memory per entity, creation rate and location relay through a real hub.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--phases",
        default="sharded,dedicated,locations",
        help="comma-separated, any of: sharded, dedicated, locations",
    )
    p.add_argument("--sharded-orders", type=int, default=2000, help="orders to create")
    p.add_argument("--sharded-providers", type=int, default=2000, help="providers to bring online")
    p.add_argument(
        "--dedicated-orders", type=int, default=30, help="orders (each ~120 MB RSS: a process)"
    )
    p.add_argument("--dedicated-providers", type=int, default=30, help="providers (likewise)")
    p.add_argument("--hosts", type=int, default=2, help="HUB_HOSTS of the sharded hubs")
    p.add_argument(
        "--concurrency", type=int, default=32, help="requests in flight (sharded, locations)"
    )
    p.add_argument("--dedicated-concurrency", type=int, default=8, help="requests in flight")
    p.add_argument("--customers", type=int, default=100, help="customers placing the orders")
    p.add_argument("--warmup", type=int, default=10, help="sharded: uncounted entities first")
    p.add_argument("--settle", type=float, default=3.0, help="seconds before reading memory")
    p.add_argument("--loc-providers", type=int, default=200, help="P: provider/watcher pairs")
    p.add_argument(
        "--rates",
        default="500,1000,2000",
        help="location updates per second (all providers together), one step each",
    )
    p.add_argument("--duration", type=float, default=20.0, help="seconds per rate step")
    p.add_argument("--drain", type=float, default=5.0, help="seconds to wait for stragglers")
    p.add_argument(
        "--mysql-url",
        default=os.environ.get("BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/orderhub_bench"),
        help="scratch database: DROPPED and re-created per phase (refused while in use)",
    )
    p.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
        help="scratch Redis db: FLUSHED per phase (refused while other clients use it)",
    )
    p.add_argument("--json", dest="json_out", help="also write every figure to this file")
    p.add_argument("--workdir", help="where logs go (default: a new temp dir, kept)")
    args = p.parse_args(argv)
    args.phases = [x.strip() for x in args.phases.split(",") if x.strip()]
    unknown = set(args.phases) - {"sharded", "dedicated", "locations"}
    if unknown:
        p.error(f"unknown phases {sorted(unknown)}")
    args.rates = [float(x) for x in args.rates.split(",") if x.strip()]
    if MysqlDsn.parse(args.mysql_url).database in FORBIDDEN_DATABASES:
        p.error("refusing to drop the demo or test database: pick a scratch one")
    redis_db = int(args.redis_url.rsplit("/", 1)[1]) if args.redis_url.count("/") >= 3 else 0
    if redis_db in FORBIDDEN_REDIS_DBS:
        p.error("refusing to flush Redis db 0 (demo) or 15 (tests): pick a scratch db")
    args.workdir = Path(args.workdir or tempfile.mkdtemp(prefix="orderhub-bench-"))
    args.workdir.mkdir(parents=True, exist_ok=True)
    return args


def run_phase(args, name: str) -> dict:
    placement = "dedicated" if name == "dedicated" else "sharded"
    stack = Stack(args, name, placement)
    try:
        stack.start()
        if name == "sharded":
            coro = memory_phase(
                stack, args.sharded_orders, args.sharded_providers, args.concurrency
            )
        elif name == "dedicated":
            coro = memory_phase(
                stack, args.dedicated_orders, args.dedicated_providers, args.dedicated_concurrency
            )
        else:
            coro = locations_phase(stack)
        result = asyncio.run(coro)
        result["hubLog"] = str(stack.hub_log)
        return result
    except Exception as exc:
        say(f"{name}: FAILED: {type(exc).__name__}: {exc} (hub log {stack.hub_log})")
        return {"error": f"{type(exc).__name__}: {exc}", "hubLog": str(stack.hub_log)}
    finally:
        say(f"{name}: stopping the stack …")
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    say(f"logs in {args.workdir}")
    report = {
        "startedAt": iso_ms(time.time()),
        "command": " ".join(
            ["python -m load.bench_actors", *(sys.argv[1:] if argv is None else argv)]
        ),
        "python": platform.python_version(),
        "ray": ray.__version__,
        "machine": {"cpus": os.cpu_count(), "start": machine_snapshot()},
        "config": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in vars(args).items()
            if k != "json_out"
        },
        "phases": {},
    }
    interrupted = False
    try:
        for name in args.phases:
            report["phases"][name] = run_phase(args, name)
    except KeyboardInterrupt:
        interrupted = True
        say("interrupted: reporting what was measured")
    report["machine"]["end"] = machine_snapshot()
    print()
    print(table(report))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2, ensure_ascii=False))
        say(f"figures written to {args.json_out}")
    failed = interrupted or any("error" in p for p in report["phases"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
