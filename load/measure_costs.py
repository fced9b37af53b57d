"""What an order and a location fix cost (docs/capacity.md): `python -m load.measure_costs`.

Starts its own WeChat sandbox and one hub process with an embedded Ray (database
`<MYSQL_URL's>_costs`, dropped before and after; REDIS_URL's db, only its own keys), then:

1. idle: the CPU the hub, its Ray hosts and Ray's own processes use doing nothing;
2. lifecycles: N orders each created, offered to P providers, grabbed, departed, arrived,
   started and completed (7 order events each, watched by the customer), counting the CPU of
   each process (from /proc), the rows MySQL changed in this database (MariaDB's userstat
   TABLE_STATISTICS, switched on for the run) and the Redis commands on this Redis db
   (MONITOR, counted by command);
3. locations: L providers each sending a fix every second for S seconds.

Every figure is printed with `uptime`: the machine is shared, and the load average says how far
to trust it. Other processes' MySQL statements are not counted (per-schema rows); other
clients' Redis commands are not either (MONITOR, filtered by db number).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import secrets
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import redis as redis_sync
import redis.asyncio as redis_async
import socketio

from actors.emit import channel_for
from adapters import jsonio
from adapters.mysql import MysqlDsn
from load.cost_meters import Cpu, MysqlRows, RedisCommands, delta, uptime
from load.processes import HubProcess, Stores, free_port, hub_env, seed_hub, start_sandbox
from load.stores import drop_database

LAT, LNG = 20.03, 110.3


class User:
    def __init__(self, base: str, token: str, user_id: int):
        self.http = httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        self.token, self.user_id = token, user_id
        self.sio: socketio.AsyncClient | None = None
        self.offers: dict[int, asyncio.Event] = collections.defaultdict(asyncio.Event)
        self.statuses: list[dict] = []

    async def ok(self, method: str, path: str, body=None) -> dict:
        r = await self.http.request(method, path, json=body)
        assert r.status_code < 300, f"{method} {path} → {r.status_code} {r.text}"
        return r.json()

    async def connect(self, base: str) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("order.offer", lambda d: self.offers[d["orderId"]].set())
        self.sio.on("order.status", lambda d: self.statuses.append(d))
        await self.sio.connect(
            base, auth={"token": self.token}, transports=["websocket"], wait_timeout=30
        )


async def login(base: str, role: str) -> User:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        code = f"sandbox-{role[0]}-{uuid.uuid4().hex[:10]}"
        r = await http.post("/api/auth/wechat-login", json={"code": code, "role": role})
        body = r.json()
    return User(base, body["token"], body["user"]["id"])


async def providers(base: str, admin: User, n: int) -> list[User]:
    services = [s["id"] for s in await admin.ok("GET", "/api/services")]
    areas = [a["id"] for a in await admin.ok("GET", "/api/areas")]
    sem = asyncio.Semaphore(10)

    async def one(i: int) -> User:
        async with sem:
            user = await login(base, "provider")
            apply = {
                "name": "师傅",
                "skills": services,
                "certificateNo": uuid.uuid4().hex[:12],
                "certificateType": "low_voltage",
                "serviceAreas": areas,
            }
            user.provider_id = (await user.ok("POST", "/api/providers/apply", apply))["providerId"]
            verify = {"approved": True, "note": "ok"}
            await admin.ok("POST", f"/api/admin/providers/{user.provider_id}/verify", verify)
            await user.connect(base)
            where = {"lat": LAT + i * 1e-5, "lng": LNG}
            ack = await user.sio.call("provider.online", where, timeout=60)
            assert ack["ok"], ack
            return user

    return await asyncio.gather(*(one(i) for i in range(n)))


def order_body(service_id: int) -> dict:
    """A grab order at the measuring point (the same for every lifecycle)."""
    return {
        "serviceId": service_id,
        "address": "海口市美兰区人民大道 58 号",
        "lat": LAT,
        "lng": LNG,
        "description": "跳闸",
        "contactName": "王女士",
        "contactPhone": "13800138000",
        "urgency": "normal",
        "dispatchMode": "grab",
    }


async def one_lifecycle(base: str, crowd: list[User], customer: User, service_id: int) -> int:
    body = order_body(service_id)
    order = await customer.ok("POST", "/api/orders", body)
    oid = order["id"]
    ack = await customer.sio.call("order.watch", {"orderId": oid}, timeout=60)
    assert ack["ok"], ack
    taker = crowd[oid % len(crowd)]
    await asyncio.wait_for(taker.offers[oid].wait(), 60)
    grabbed = await taker.sio.call("order.grab", {"orderId": oid}, timeout=60)
    assert grabbed["ok"], grabbed
    for action in ("depart", "arrive", "start", "complete"):
        await taker.ok("POST", f"/api/orders/{oid}/{action}")
    return oid


async def active_order(free: list[User], customer: User, service_id: int) -> User:
    """An order one of `free` grabbed (the first offered it) and departed for, watched by
    `customer`: that provider's fixes are forwarded to the watcher (provider.location)."""
    body = order_body(service_id)
    oid = (await customer.ok("POST", "/api/orders", body))["id"]
    assert (await customer.sio.call("order.watch", {"orderId": oid}, timeout=60))["ok"]
    deadline = time.monotonic() + 60
    while not (offered := [p for p in free if p.offers[oid].is_set()]):
        assert time.monotonic() < deadline, f"nobody offered order {oid}"
        await asyncio.sleep(0.05)
    taker = offered[0]
    grabbed = await taker.sio.call("order.grab", {"orderId": oid}, timeout=60)
    assert grabbed["ok"], grabbed
    await taker.ok("POST", f"/api/orders/{oid}/depart")
    return taker


def show(title: str, figures: dict) -> None:
    print(f"\n== {title}   [{uptime()}]")
    for key, value in figures.items():
        print(f"   {key}: {value}")


async def measure(hub: HubProcess, password: str, args, redis_url: str, mysql_url: str) -> None:
    base = hub.url
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        r = await http.post("/api/auth/login", json={"username": "admin", "password": password})
        admin_token = r.json()["token"]
    admin = User(base, admin_token, 0)
    hosts = (await admin.ok("GET", "/api/admin/hosts"))["items"]
    cpu = Cpu(hub.proc.pid, [h["pid"] for h in hosts])
    service_id = (await admin.ok("GET", "/api/services"))[0]["id"]
    crowd = await providers(base, admin, args.offered)  # each order offered to these
    customer = await login(base, "customer")
    await customer.connect(base)
    await one_lifecycle(base, crowd, customer, service_id)  # warm: first calls load code

    before, started = cpu.read(), time.monotonic()
    await asyncio.sleep(args.idle_s)
    idle = {k: v / (time.monotonic() - started) for k, v in delta(cpu.read(), before).items()}
    show(f"idle, cores used ({len(crowd)} providers online)", _round(idle, 4))
    print(f"   each order offered to the {len(crowd)} providers online (grab)")

    rows, redis_cmds = MysqlRows(mysql_url), RedisCommands(redis_url)
    await asyncio.sleep(1)  # MONITOR attached
    try:
        status0, rows0, cpu0 = rows.server_status(), rows.read(), cpu.read()
        redis_cmds.counting, started = True, time.monotonic()
        sem = asyncio.Semaphore(args.parallel)

        async def bounded() -> int:
            async with sem:
                return await one_lifecycle(base, crowd, customer, service_id)

        done = await asyncio.gather(*(bounded() for _ in range(args.orders)))
        await asyncio.sleep(1)  # the last announcements
        wall = time.monotonic() - started
        redis_cmds.counting = False
        used = delta(cpu.read(), cpu0)
        idle_part = {k: idle[k] * wall for k in used}
        changed = delta(rows.read(), rows0)
        server = delta(rows.server_status(), status0)
    finally:
        rows.close()
    n, events = len(done), 7 * len(done)
    per_order = {k: round((used[k] - idle_part[k]) / n * 1000, 2) for k in used}
    show(
        f"{n} lifecycles ({args.parallel} at a time, {events} order events) in {wall:.1f} s",
        {
            "CPU ms per order (over idle)": per_order,
            "CPU ms per order event": {k: round(v / 7, 2) for k, v in per_order.items()},
            "MySQL rows changed per order": {
                t: round(c / n, 2) for t, c in sorted(changed.items()) if c
            },
            "MySQL rows changed per order, total": round(sum(changed.values()) / n, 1),
            "Redis commands per order": {
                c: round(k / n, 2) for c, k in redis_cmds.counts.most_common()
            },
            "Redis commands per order, total": round(sum(redis_cmds.counts.values()) / n, 1),
            "whole server's Com_* meanwhile (all clients)": server,
        },
    )

    # Locations: every provider sends a fix a second; the hosts batch them per tick.
    crowd += await providers(base, admin, max(0, args.providers - len(crowd)))
    watched: list[User] = []  # on their way to a watched order
    for _ in range(int(len(crowd) * args.watched)):
        free = [p for p in crowd if p not in watched]
        watched.append(await active_order(free, customer, service_id))
    sent = 0
    redis_cmds.counts.clear()
    redis_cmds.counting = True
    cpu0, started = cpu.read(), time.monotonic()
    end = started + args.location_s
    while time.monotonic() < end:
        beat = time.monotonic()
        fixes = [  # as the apps send them: each acknowledged
            p.sio.call("location.update", {"lat": LAT + (sent % 7) * 1e-5, "lng": LNG}, timeout=30)
            for p in crowd
        ]
        await asyncio.gather(*fixes)
        sent += len(fixes)
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - beat)))
    await asyncio.sleep(1)
    wall = time.monotonic() - started
    redis_cmds.counting = False
    used = delta(cpu.read(), cpu0)
    per_fix = {k: round((used[k] - idle[k] * wall) / sent * 1000, 3) for k in used}
    show(
        f"{sent} location fixes (acknowledged) from {len(crowd)} providers, {len(watched)}"
        f" of them watched, in {wall:.1f} s",
        {
            "CPU ms per fix (over idle)": per_fix,
            "Redis commands per fix": {
                c: round(k / sent, 3) for c, k in redis_cmds.counts.most_common(6)
            },
        },
    )
    await foreign_events(cpu, idle, redis_url, mysql_url, args.foreign)
    for user in [*crowd, customer]:
        await user.sio.disconnect()
        await user.http.aclose()
    await admin.http.aclose()


async def foreign_events(cpu: Cpu, idle: dict, redis_url: str, mysql_url: str, n: int) -> None:
    """What every hub process pays for each event published on the deployment's channel,
    even when none of its sockets is in the room (python-socketio's one channel): `n` events
    for a room nobody joined, published as the hosts publish them, ~1,000 a second."""
    channel = channel_for(MysqlDsn.parse(mysql_url).database)
    message = jsonio.dumps(
        {
            "method": "emit",
            "event": "provider.location",
            "data": [{"orderId": 999999999, "lat": LAT, "lng": LNG, "at": "probe"}],
            "binary": False,
            "namespace": "/",
            "room": "order:999999999",
            "skip_sid": None,
            "callback": None,
            "host_id": "cost-probe",
        }
    )
    r = redis_async.from_url(redis_url)
    cpu0, started = cpu.read(), time.monotonic()
    for _ in range(n // 25):
        pipe = r.pipeline(transaction=False)
        for _ in range(25):
            pipe.publish(channel, message)
        await pipe.execute()
        await asyncio.sleep(0.025)
    await asyncio.sleep(1)
    wall = time.monotonic() - started
    used = delta(cpu.read(), cpu0)
    await r.aclose()
    per_event = (used["hub"] - idle["hub"] * wall) / n * 1000
    show(
        f"{n} events for a room with no socket, on the channel, in {wall:.1f} s",
        {"hub CPU ms per event (over idle)": round(per_event, 4)},
    )


def _round(d: dict, digits: int) -> dict:
    return {k: round(v, digits) for k, v in d.items()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m load.measure_costs", description=__doc__)
    parser.add_argument("--orders", type=int, default=60)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--offered", type=int, default=10, help="providers each order reaches")
    parser.add_argument("--providers", type=int, default=100, help="sending locations")
    parser.add_argument("--watched", type=float, default=0.2, help="share of them watched")
    parser.add_argument("--idle-s", type=float, default=10)
    parser.add_argument("--foreign", type=int, default=10000, help="events for no socket")
    parser.add_argument("--location-s", type=float, default=30)
    args = parser.parse_args()
    base = os.environ.get("MYSQL_URL", "mysql://root@127.0.0.1:3306/orderhub_test")
    mysql_url = base + "_costs"
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
    workdir = Path(tempfile.mkdtemp(prefix="orderhub-costs-"))
    print(f"[costs] logs in {workdir}; start [{uptime()}]")
    drop_database(mysql_url)
    ns = MysqlDsn.parse(mysql_url).database
    r = redis_sync.from_url(redis_url)
    for key in r.scan_iter(match=f"{ns}:*", count=1000):
        r.delete(key)
    sandbox = start_sandbox(workdir / "sandbox.log", workdir / "state", timeout=60)
    password = secrets.token_urlsafe(12)
    env = hub_env(
        free_port(),
        Stores(mysql_url, redis_url, workdir / "state"),
        sandbox.url,
        password,
        None,  # an embedded Ray: its processes are the hub's children, measured with it
        HUB_LOGIN_PER_MIN=100000,
        HUB_ORDERS_PER_MIN=100000,
        HUB_GRABS_PER_MIN=100000,
        HUB_WORKERS=1,
    )
    hub = None
    try:
        seed_hub(env, workdir / "hub.log")
        hub = HubProcess.start(env, workdir / "hub.log", ready_timeout=180)
        asyncio.run(measure(hub, password, args, redis_url, mysql_url))
    finally:
        if hub is not None:
            hub.stop()
        sandbox.stop()
        drop_database(mysql_url)


if __name__ == "__main__":
    main()
