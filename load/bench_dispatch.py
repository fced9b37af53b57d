"""Benchmark (not a test): order created -> first `order.offer`, at P online providers.

    python -m load.bench_dispatch [--providers 2000] [--orders 300] [--rate 5] [--json out.json]
                                  [--reveal-ms 0]

Starts its own stack with load/bench_actors' Stack (scratch database and Redis db, dropped
and flushed; Ray head, WeChat sandbox, one hub), makes P approved providers through the API,
all with the ordered service as their only skill, spread at random over the service areas
that `GET /api/areas` lists, each with a real Socket.IO connection that sends
`provider.online {lat, lng}` and listens for `order.offer`. Then, per dispatch mode, N
customer orders (`POST /api/orders`) at a steady rate, at random points of the areas:
latency = first `order.offer` of that order at any provider socket - the moment the POST
was sent. An auto order's first offer goes to a batch (up to `batch_size`, 3); a grab
offer reaches the crowd in waves over `reveal_ms`, so its first offer is the first wave's
(`--reveal-ms` sets the policy for every area and service first, as an admin). Each order is
cancelled once its offer came (or timed out), so no provider's capacity is used and no order
is offered again (nor its later waves). Only REST and Socket.IO (CONTRACT §5, §7).
See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

from adapters.mysql import MysqlDsn
from load.bench_actors import stack as stack_module
from load.bench_actors.basics import all_or_fail, iso_ms, say
from load.bench_actors.cli import FORBIDDEN_DATABASES, FORBIDDEN_REDIS_DBS
from load.bench_actors.memory import host_handles, stats_of
from load.bench_actors.meters import CpuMeter, machine_snapshot, pct, service_pids
from load.bench_actors.stack import Stack
from load.bench_actors.world import World, ack_ok

MODES = ("grab", "auto")
ORDER = {"address": "测试路 1 号", "description": "bench", "contactName": "王女士"}
ORDER.update(contactPhone="13800138000", urgency="normal")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m load.bench_dispatch",
        description="Order created -> first order.offer at a provider socket, per dispatch mode.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for flag, kind, default, text in (
        ("--providers", int, 2000, "P: providers online, each with a listening socket"),
        ("--orders", int, 300, "N: measured orders per mode"),
        ("--rate", float, 5.0, "orders per second (steady)"),
        ("--warmup", int, 10, "uncounted orders per mode first"),
        ("--customers", int, 50, "customers placing the orders (round-robin)"),
        ("--timeout", float, 10.0, "seconds an order may wait for its first offer"),
        ("--hosts", int, 2, "HUB_HOSTS"),
        ("--radius", float, 5000.0, "HUB_GRAB_RADIUS_M (the hub's default)"),
        ("--concurrency", int, 32, "set-up requests in flight"),
        ("--seed", int, 1, "random positions"),
    ):
        p.add_argument(flag, type=kind, default=default, help=text)
    p.add_argument("--modes", default="grab,auto", help="dispatch modes, in this order")
    p.add_argument(
        "--reveal-ms",
        type=float,
        help="set the dispatch policy's reveal_ms for every area and service (default: as is)",
    )
    p.add_argument("--keep", action="store_true", help="leave orders pending (no cancel)")
    p.add_argument(
        "--mysql-url",
        default="mysql://root@127.0.0.1:3306/orderhub_bench_dispatch",
        help="scratch database: DROPPED and re-created (refused while in use)",
    )
    p.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/11",
        help="scratch Redis db: FLUSHED (refused while other clients use it)",
    )
    p.add_argument("--json", dest="json_out", help="also write every figure to this file")
    p.add_argument("--workdir", help="where logs go (default: a new temp dir, kept)")
    args = p.parse_args(argv)
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if set(args.modes) - set(MODES):
        p.error(f"modes: any of {', '.join(MODES)}")
    if MysqlDsn.parse(args.mysql_url).database in FORBIDDEN_DATABASES:
        p.error("refusing to drop the demo or test database: pick a scratch one")
    redis_db = int(args.redis_url.rsplit("/", 1)[1]) if args.redis_url.count("/") >= 3 else 0
    if redis_db in FORBIDDEN_REDIS_DBS:
        p.error("refusing to flush Redis db 0 (demo) or 15 (tests): pick a scratch db")
    args.workdir = Path(args.workdir or tempfile.mkdtemp(prefix="orderhub-bench-dispatch-"))
    args.workdir.mkdir(parents=True, exist_ok=True)
    return args


def inside(lat: float, lng: float, poly: list) -> bool:
    """Ray casting: is (lat, lng) inside the polygon of [lat, lng] corners?"""
    hit = False
    for k in range(len(poly)):
        (a1, b1), (a2, b2) = poly[k], poly[k - 1]
        if (b1 > lng) != (b2 > lng) and lat < (a2 - a1) * (lng - b1) / (b2 - b1) + a1:
            hit = not hit
    return hit


def points(areas: list[dict], n: int, rnd: random.Random) -> list[tuple[float, float]]:
    """n random points, each in a random area (uniform inside its boundary)."""
    out = []
    while len(out) < n:
        poly = rnd.choice(areas)["boundary"]
        lats, lngs = [c[0] for c in poly], [c[1] for c in poly]
        lat, lng = rnd.uniform(min(lats), max(lats)), rnd.uniform(min(lngs), max(lngs))
        if inside(lat, lng, poly):
            out.append((lat, lng))
    return out


def ms(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


class Offers:
    """Every `order.offer` any provider socket got: first and last arrival, how many."""

    def __init__(self):
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.count: Counter = Counter()
        self.waiters: dict[int, asyncio.Future] = {}

    def on_offer(self, data) -> None:
        now = time.perf_counter()
        oid = data.get("orderId") if isinstance(data, dict) else None
        if oid is None:
            return
        self.first.setdefault(oid, now)
        self.last[oid] = now
        self.count[oid] += 1
        fut = self.waiters.pop(oid, None)
        if fut is not None and not fut.done():
            fut.set_result(now)


async def loop_lag(stop: asyncio.Event, lags: list[float]) -> None:
    """This process's event-loop lag: is the generator keeping up with its sockets?"""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        t = loop.time()
        await asyncio.sleep(0.05)
        lags.append((loop.time() - t - 0.05) * 1000)


async def run_mode(ctx: dict, mode: str, n: int, label: str) -> dict:
    """n orders in `mode` at args.rate per second; the figures of those orders."""
    args, world, offers = ctx["args"], ctx["world"], ctx["offers"]
    spots = points(world.areas, n, ctx["rnd"])
    lat_ms, post_ms, errors, missed, ids = [], [], [], [], []

    async def one(i: int) -> None:
        customer = ctx["customers"][i % len(ctx["customers"])]
        lat, lng = spots[i]
        order = dict(ORDER, serviceId=ctx["service_id"], lat=lat, lng=lng, dispatchMode=mode)
        key = f"{world.prefix}-{label}-{i}"  # a retried POST creates nothing twice
        t0 = time.perf_counter()
        try:
            body = await world.ok("POST", "/api/orders", customer.token, order, idem=key)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
            return
        t1 = time.perf_counter()
        oid = body["id"]
        ids.append(oid)
        post_ms.append((t1 - t0) * 1000)
        if oid not in offers.first:
            fut = offers.waiters.setdefault(oid, asyncio.get_running_loop().create_future())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(fut, max(0.0, args.timeout - (t1 - t0)))
            offers.waiters.pop(oid, None)
        first = offers.first.get(oid)
        if first is None or first - t0 > args.timeout:
            missed.append(oid)
        else:
            lat_ms.append((first - t0) * 1000)
        if not args.keep:
            path = f"/api/orders/{oid}/cancel"
            with contextlib.suppress(Exception):
                await world.ok("POST", path, customer.token, {"reason": "bench"}, also=(409,))

    loop = asyncio.get_running_loop()
    start, tasks, next_report = loop.time(), [], loop.time() + 5
    for i in range(n):
        await asyncio.sleep(max(0.0, start + i / args.rate - loop.time()))
        tasks.append(asyncio.create_task(one(i)))
        if label != "warmup" and loop.time() >= next_report:
            next_report += 5
            say(f"{mode}: {i + 1}/{n} sent, {len(lat_ms)} offered, {len(missed)} without")
    send_s = max(loop.time() - start, 1e-9)  # first to last POST sent
    await asyncio.gather(*tasks)
    await asyncio.sleep(1)  # the last grab fan-outs and cancels
    fan = [offers.count[o] for o in ids]
    spread = [(offers.last[o] - offers.first[o]) * 1000 for o in ids if o in offers.first]
    return {
        "mode": mode,
        "orders": n,
        "sentPerSecond": round((n - 1) / send_s, 2),
        "offered": len(lat_ms),
        "noOffer": len(missed),
        "failedPosts": len(errors),
        "errors": errors[:3],
        **{f"p{q}Ms": ms(pct(lat_ms, q)) for q in (50, 90, 99)},
        "maxMs": ms(max(lat_ms, default=None)),
        "postP50Ms": ms(pct(post_ms, 50)),
        "postP99Ms": ms(pct(post_ms, 99)),
        "fanoutP50": pct(fan, 50),
        "fanoutMax": max(fan, default=None),
        "firstToLastP99Ms": ms(pct(spread, 99)),
    }


async def bench(stack: Stack) -> dict:
    args = stack.args
    world = World(stack.hub_url, args.concurrency, f"bd{os.getpid()}")
    await world.setup()
    if args.reveal_ms is not None:
        policy = {"areaId": 0, "serviceId": 0, "config": {"reveal_ms": args.reveal_ms}}
        await world.ok("PUT", "/api/admin/dispatch/policies", world.admin_token, policy)
        say(f"policy for every area and service: reveal_ms = {args.reveal_ms:g}")
    service = world.services[0]
    rnd = random.Random(args.seed)
    offers = Offers()
    n = args.providers
    say(f"{n} providers (apply, approve, socket, online) and {args.customers} customers …")
    t = time.monotonic()
    sid = [service["id"]]
    conc = args.concurrency
    providers = await all_or_fail("providers", n, lambda i: world.provider(i, sid), conc)
    customers = await all_or_fail("customers", args.customers, world.customer, conc)
    spots = points(world.areas, n, rnd)

    async def online(i: int) -> None:
        sock = await world.connect(providers[i])
        sock.on("order.offer", offers.on_offer)
        await ack_ok(sock, "provider.online", {"lat": spots[i][0], "lng": spots[i][1]})

    await all_or_fail("online", n, online, conc)
    setup_s = round(time.monotonic() - t, 1)
    say(f"{n} providers online in {setup_s} s (service {service['id']} {service['name']})")
    try:
        hosts = (await stats_of(await host_handles(stack)))["pids"]
    except Exception:  # only for CPU figures
        hosts = []
    ctx = {"args": args, "world": world, "offers": offers, "rnd": rnd}
    ctx.update(customers=customers, service_id=service["id"])
    modes = {}
    for mode in args.modes:
        if args.warmup:
            say(f"{mode}: {args.warmup} warm-up orders …")
            await run_mode(ctx, mode, args.warmup, "warmup")
        say(f"{mode}: {args.orders} orders at {args.rate:g}/s …")
        meter = CpuMeter({"hub": [stack.hub_pid], "hosts": hosts, **service_pids()})
        stop, lags = asyncio.Event(), []
        lagging = asyncio.create_task(loop_lag(stop, lags))
        res = await run_mode(ctx, mode, args.orders, mode)
        stop.set()
        await lagging
        res["cpu"], res["loopLagP99Ms"] = meter.read(), ms(pct(lags, 99))
        say(f"{mode}: p50 {res['p50Ms']} p99 {res['p99Ms']} ms, no offer {res['noOffer']}")
        modes[mode] = res
    await world.close(providers)
    return {"setupSeconds": setup_s, "service": service["name"], **world.notes(), "modes": modes}


def table(report: dict) -> str:
    cols = ("mode", "orders", "offered", "no offer", "p50 ms", "p90 ms", "p99 ms", "max ms")
    cols += ("POST p50", "POST p99", "fan-out", "hub cpu", "hosts cpu", "mysql", "gen cpu")
    head = f"{cols[0]:<6}" + "".join(f"{c:>10}" for c in cols[1:])
    lines = [head, "-" * len(head)]
    for m in report.get("modes", {}).values():
        cpu = m["cpu"]
        vals = [m["orders"], m["offered"], m["noOffer"], m["p50Ms"], m["p90Ms"], m["p99Ms"]]
        vals += [m["maxMs"], m["postP50Ms"], m["postP99Ms"], m["fanoutP50"]]
        vals += [f"{cpu.get(k, 0):.0f}%" for k in ("hubCpuPct", "hostsCpuPct", "mysqlCpuPct")]
        vals.append(f"{cpu['generatorCpuPct']:.0f}%")
        cells = [
            "-" if v is None else f"{v:,.1f}" if isinstance(v, float) else str(v) for v in vals
        ]
        lines.append(f"{m['mode']:<6}" + "".join(f"{c:>10}" for c in cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    flags = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    report = {"startedAt": iso_ms(time.time()), "cpus": os.cpu_count(), "flags": flags}
    report["machineStart"] = machine_snapshot()
    say(f"{os.cpu_count()} cores, load {report['machineStart']['loadavg']}, logs in {args.workdir}")
    say("flags: " + " ".join(f"{k}={v}" for k, v in flags.items() if k != "json_out"))
    # The Stack sets HUB_GRAB_RADIUS_M from this module constant (100 m for bench_actors).
    stack_module.GRAB_RADIUS_M = args.radius
    stack = Stack(args, "dispatch", "sharded")
    try:
        stack.start()
        report.update(asyncio.run(bench(stack)))
    except Exception as exc:
        say(f"FAILED: {type(exc).__name__}: {exc} (hub log {stack.hub_log})")
        report["error"] = f"{type(exc).__name__}: {exc}"
    except KeyboardInterrupt:
        report["error"] = "interrupted"
    finally:
        stack.stop()
    report["machineEnd"] = machine_snapshot()
    print(f"\norder created -> first offer; {report['cpus']} cores; P={args.providers}")
    reveal = "" if args.reveal_ms is None else f", reveal_ms={args.reveal_ms:g}"
    print(
        f"N={args.orders}/mode at {args.rate:g}/s, hosts={args.hosts}, radius={args.radius:g} m"
        + reveal
    )
    print(table(report))
    start, end = report["machineStart"]["loadavg"], report["machineEnd"]["loadavg"]
    print(f"load average: start {start}, end {end}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2, ensure_ascii=False))
        say(f"figures written to {args.json_out}")
    return 1 if "error" in report else 0


if __name__ == "__main__":
    raise SystemExit(main())
