"""``python -m load.bench_geo``: the geo index, Redis GEO (actors/geo.py) against H3 cells held
in process by the hosts, at a city's worth of online providers (docs/geo-index.md).

Measures location ticks (pipelined GEOADD as ``geo.place`` does, and grouped per service,
against moves in the hosts' H3 index, ``actors.h3_index.ProviderIndex``), nearest-provider
queries (``geo.nearest``'s GEOSEARCH against the index's grid_disk + haversine), and what H3
adds when an order's host is not its providers' host: a broadcast of every tick to every host
(pickled as Ray would) or a fan-out of every query. Ray is not started: a Ray call is counted
at RAY_CALL_MS of CPU, an earlier measurement.

Writes only keys under "bench-geo:" in the scratch Redis db, and deletes them at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import pickle
import random
import sys
import time

from actors import geo
from actors.h3_index import ProviderIndex
from adapters.redis import Keys, connect

CENTRE = (22.54, 114.06)  # Shenzhen
M_PER_DEG_LAT = 111_320.0
RAY_CALL_MS = 0.5  # CPU of one Ray actor call, both sides (measured earlier, not here)
TICKS_PER_S = 40  # the gateway's location tick, 25 ms
KEYS = Keys("bench-geo")  # every key this script writes: bench-geo:geo:svc:<id>
T0 = time.perf_counter()


def say(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def offset(lat: float, lng: float, north_m: float, east_m: float) -> tuple[float, float]:
    m_per_deg_lng = M_PER_DEG_LAT * math.cos(math.radians(lat))
    return lat + north_m / M_PER_DEG_LAT, lng + east_m / m_per_deg_lng


def make_city(args) -> tuple[dict, dict, list, list]:
    """Providers' positions and skills, `rounds` ticks of moves, order points (all seeded)."""
    rng, half = random.Random(args.seed), args.box_km * 500

    def anywhere() -> tuple[float, float]:
        return offset(*CENTRE, rng.uniform(-half, half), rng.uniform(-half, half))

    pos = {pid: anywhere() for pid in range(1, args.providers + 1)}
    skills = {pid: tuple(rng.sample(range(args.services), rng.randint(1, 3))) for pid in pos}
    moves, now = [], dict(pos)
    for _ in range(args.rounds):
        tick = []
        for pid, (lat, lng) in now.items():
            step = (rng.uniform(-args.move_m, args.move_m), rng.uniform(-args.move_m, args.move_m))
            now[pid] = offset(lat, lng, *step)
            tick.append((pid, *now[pid]))
        moves.append(tick)
    orders = [(rng.randrange(args.services), *anywhere()) for _ in range(args.queries)]
    return pos, skills, moves, orders


def pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))] if s else 0.0


def row(option, op, n, wall, cpu, lat_ms=None, server_cpu=None, hits=None) -> dict:
    return {
        "option": option,
        "operation": op,
        "per_s": n / wall,
        "p50_ms": pct(lat_ms, 0.5) if lat_ms else None,
        "p99_ms": pct(lat_ms, 0.99) if lat_ms else None,
        "host_cpu_us": cpu / n * 1e6,
        "redis_cpu_us": None if server_cpu is None else server_cpu / n * 1e6,
        "hits": None if hits is None else hits / n,
    }


async def redis_cpu(redis) -> float:
    info = await redis.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def bench_redis(args, pos, skills, moves, orders) -> list[dict]:
    redis = connect(args.redis_url, max_connections=args.inflight + 2)
    created = [KEYS.skill(s) for s in range(args.services)]
    rows = []
    try:
        await redis.delete(*created)

        async def per_fix(batch):  # what a host's tick does today: actors/geo.py place
            pipe = redis.pipeline(transaction=False)
            for pid, lat, lng in batch:
                geo.place(pipe, KEYS, skills[pid], pid, lat, lng)
            await pipe.execute()

        async def grouped(batch):  # one GEOADD per service per pipeline
            by_skill: dict[int, list] = {}
            for pid, lat, lng in batch:
                for sid in skills[pid]:
                    by_skill.setdefault(sid, []).extend((lng, lat, pid))
            pipe = redis.pipeline(transaction=False)
            for sid, values in by_skill.items():
                pipe.geoadd(KEYS.skill(sid), values)
            await pipe.execute()

        await grouped([(pid, lat, lng) for pid, (lat, lng) in pos.items()])  # the city
        for name, write in (("GEOADD per fix", per_fix), ("GEOADD per service", grouped)):
            say(f"redis: {name}, {len(moves)} ticks of {len(pos)} fixes, {args.batch}/pipeline")
            wall, cpu, srv, n = time.perf_counter(), time.process_time(), await redis_cpu(redis), 0
            for tick in moves:
                for i in range(0, len(tick), args.batch):
                    await write(tick[i : i + args.batch])
                n += len(tick)
            srv = await redis_cpu(redis) - srv
            rows.append(row("redis", f"update: {name}", n, *since(wall, cpu), server_cpu=srv))

        for radius in args.radii:
            for inflight in (1, args.inflight):
                say(f"redis: GEOSEARCH {radius / 1000:g} km COUNT {args.count}, {inflight} at once")
                todo, lat_ms, hits = iter(orders), [], [0]

                async def worker(radius=radius, todo=todo, lat_ms=lat_ms, hits=hits):
                    for sid, lat, lng in todo:
                        t = time.perf_counter()
                        found = await geo.nearest(redis, KEYS, sid, lat, lng, radius, args.count)
                        lat_ms.append((time.perf_counter() - t) * 1000)
                        hits[0] += len(found)

                await geo.nearest(redis, KEYS, 0, *CENTRE, radius, args.count)  # warm
                wall, cpu, srv = time.perf_counter(), time.process_time(), await redis_cpu(redis)
                await asyncio.gather(*(worker() for _ in range(inflight)))
                srv = await redis_cpu(redis) - srv
                wall, cpu = since(wall, cpu)
                op = f"query {radius / 1000:g} km ×{inflight}"
                rows.append(row("redis", op, len(orders), wall, cpu, lat_ms, srv, hits[0]))
    finally:
        await redis.delete(*created)
        await redis.aclose()
    return rows


def exact(pos, skills, sid, lat, lng, radius_m, count) -> list[int]:
    found = sorted((geo.distance_m(lat, lng, *pos[pid]), pid) for pid in pos if sid in skills[pid])
    return [pid for d, pid in found if d <= radius_m][:count]


def bench_h3(args, pos, skills, moves, orders) -> list[dict]:
    rows = []
    for res in args.resolutions:
        index = ProviderIndex(res)
        for pid, (lat, lng) in pos.items():
            index.place(pid, skills[pid], lat, lng)
        say(f"h3 res {res}: {len(moves)} ticks of {len(pos)} moves")
        wall, cpu, n = time.perf_counter(), time.process_time(), 0
        for tick in moves:
            for pid, lat, lng in tick:
                index.place(pid, skills[pid], lat, lng)
            n += len(tick)
        rows.append(row("h3", f"res {res} update", n, *since(wall, cpu)))
        final = index.positions()
        for radius in args.radii:
            # the k the index picks (by where the point lies in its cell); warms its cache
            ks = sorted({index.rings(lat, lng, radius) for _, lat, lng in orders})
            k = "–".join(map(str, dict.fromkeys((ks[0], ks[-1]))))
            say(f"h3 res {res}: query {radius / 1000:g} km, grid_disk k={k}")
            for sid, lat, lng in orders[: args.check]:  # same answer as a scan of everyone
                got = [pid for pid, _ in index.nearest(sid, lat, lng, radius, args.count)]
                if got != exact(final, skills, sid, lat, lng, radius, args.count):
                    raise SystemExit(f"h3 res {res} k={k} missed providers at {lat},{lng}")
            lat_ms, hits = [], 0
            wall, cpu = time.perf_counter(), time.process_time()
            for sid, lat, lng in orders:
                t = time.perf_counter()
                hits += len(index.nearest(sid, lat, lng, radius, args.count))
                lat_ms.append((time.perf_counter() - t) * 1000)
            wall, cpu = since(wall, cpu)
            op = f"res {res} query {radius / 1000:g} km k={k}"
            rows.append(row("h3", op, len(orders), wall, cpu, lat_ms, hits=hits))
    return rows


def bench_broadcast(args, pos, skills, moves) -> list[dict]:
    """A broadcast tick: the batch pickled by its host (as Ray pickles an argument), unpickled
    and applied by a receiving host's index. Items carry the skills (empty would mean remove)."""
    say(f"broadcast: pickle, unpickle + apply at res {args.res}")
    index = ProviderIndex(args.res)
    for pid, (lat, lng) in pos.items():
        index.place(pid, skills[pid], lat, lng)
    batches = [
        [(pid, lat, lng, skills[pid]) for pid, lat, lng in tick[i : i + args.batch]]
        for tick in moves
        for i in range(0, len(tick), args.batch)
    ]
    n = sum(len(b) for b in batches)
    wall, cpu = time.perf_counter(), time.process_time()
    blobs = [pickle.dumps(b, protocol=5) for b in batches]
    send = row(
        "h3 broadcast", f"pickle ({sum(map(len, blobs)) / n:.0f} B/fix)", n, *since(wall, cpu)
    )
    wall, cpu = time.perf_counter(), time.process_time()
    for blob in blobs:
        for pid, lat, lng, sk in pickle.loads(blob):
            index.place(pid, sk, lat, lng)
    return [send, row("h3 broadcast", "unpickle + apply", n, *since(wall, cpu))]


def since(wall: float, cpu: float) -> tuple[float, float]:
    return time.perf_counter() - wall, time.process_time() - cpu


def costs(args, rows) -> list[str]:
    """CPU in ms: per second of fixes at --fix-rate over --hosts hosts, and per query."""
    f, h, res = args.fix_rate, args.hosts, args.res
    get = {(r["option"], r["operation"].split(" (")[0]): r for r in rows}
    redis_w, local = get[("redis", "update: GEOADD per fix")], get[("h3", f"res {res} update")]
    bcast = (
        get[("h3 broadcast", "pickle")]["host_cpu_us"]
        + get[("h3 broadcast", "unpickle + apply")]["host_cpu_us"]
    )
    calls = TICKS_PER_S * h * (h - 1)  # each host's tick to each other host
    lines = [
        f"fixes at {f:,}/s over {h} hosts, H3 res {res}; CPU ms per second, all hosts together:",
        f"  redis GEO     hosts {f * redis_w['host_cpu_us'] / 1000:6.1f}"
        f" + redis server {f * redis_w['redis_cpu_us'] / 1000:.1f}",
        f"  h3 fan-out    hosts {f * local['host_cpu_us'] / 1000:6.1f} (each host indexes its own)",
        f"  h3 broadcast  hosts {f * (local['host_cpu_us'] + (h - 1) * bcast) / 1000:6.1f}"
        f" + {calls} Ray calls/s × {RAY_CALL_MS} ms = {calls * RAY_CALL_MS:.0f}",
        "per query, CPU ms:",
    ]
    for radius in args.radii:
        km = f"{radius / 1000:g} km"
        rq = get[("redis", f"query {km} ×1")]
        hq = next(r for k, r in get.items() if k[1].startswith(f"res {res} query {km} "))
        q = hq["host_cpu_us"] / 1000
        lines.append(
            f"  {km}: redis host {rq['host_cpu_us'] / 1000:.3f} + server"
            f" {rq['redis_cpu_us'] / 1000:.3f} | h3 broadcast {q:.3f}"
            f" | h3 fan-out {h} × {q:.3f} + {h - 1} Ray × {RAY_CALL_MS}"
            f" = {h * q + (h - 1) * RAY_CALL_MS:.3f} (+ a Ray round trip of latency)"
        )
    return lines


def table(rows: list[dict]) -> str:
    def num(v, fmt):
        return "" if v is None else format(v, fmt)

    head = (
        f"{'option':<13} {'operation':<32} {'per s':>9} {'p50 ms':>7} {'p99 ms':>7}"
        f" {'host µs/op':>10} {'redis µs/op':>11} {'hits':>5}"
    )
    out = [head, "-" * len(head)]
    for r in rows:
        out.append(
            f"{r['option']:<13} {r['operation']:<32} {r['per_s']:>9,.0f}"
            f" {num(r['p50_ms'], '.3f'):>7} {num(r['p99_ms'], '.3f'):>7}"
            f" {r['host_cpu_us']:>10.1f} {num(r['redis_cpu_us'], '.1f'):>11}"
            f" {num(r['hits'], '.1f'):>5}"
        )
    return "\n".join(out)


class Help(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The docstring as written, and every flag's default."""


def main() -> None:
    p = argparse.ArgumentParser(
        prog="python -m load.bench_geo",
        description=__doc__,
        formatter_class=Help,
    )
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="scratch db")
    p.add_argument("--providers", type=int, default=10_000, help="online providers")
    p.add_argument("--services", type=int, default=10, help="services; each provider has 1–3")
    p.add_argument("--box-km", type=float, default=30.0, help="side of the city box")
    p.add_argument("--seed", type=int, default=10, help="for the city and the orders")
    p.add_argument("--rounds", type=int, default=3, help="ticks in which every provider moves")
    p.add_argument("--move-m", type=float, default=50.0, help="largest move per tick, per axis")
    p.add_argument("--batch", type=int, default=250, help="fixes per pipeline / tick batch")
    p.add_argument("--queries", type=int, default=2000, help="order points per measurement")
    p.add_argument("--radii", default="3000,5000,7000", help="query radii in metres")
    p.add_argument("--count", type=int, default=50, help="nearest providers per query")
    p.add_argument("--inflight", type=int, default=8, help="concurrent Redis queries")
    p.add_argument("--resolutions", default="7,8,9", help="H3 resolutions to try")
    p.add_argument("--check", type=int, default=100, help="H3 answers checked against a scan")
    p.add_argument("--res", type=int, default=8, help="H3 resolution for the broadcast/costs")
    p.add_argument("--hosts", type=int, default=2, help="hosts, for the architecture costs")
    p.add_argument("--fix-rate", type=int, default=10_000, help="fixes/s, for the costs")
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args()
    args.radii = [float(r) for r in args.radii.split(",")]
    args.resolutions = [int(r) for r in args.resolutions.split(",")]
    if args.res not in args.resolutions:
        p.error("--res must be one of --resolutions")

    say(f"city: {args.providers:,} providers, {args.services} services, {args.box_km:g} km box")
    pos, skills, moves, orders = make_city(args)
    rows = asyncio.run(bench_redis(args, pos, skills, moves, orders))
    rows += bench_h3(args, pos, skills, moves, orders)
    rows += bench_broadcast(args, pos, skills, moves)
    lines = costs(args, rows)
    print(table(rows))
    print("\n".join(["", *lines]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "rows": rows, "costs": lines}, f, indent=1)


if __name__ == "__main__":
    main()
