"""``python -m load.bench_coupons``: a rush of coupon claims, two ways (docs/coupons.md).

1,000 claims at once of a template with a stock of 100 and a limit of 1 per customer, from 300
customers, against MariaDB through the hub's own claim (adapters/coupons.py `claim`, on a pool
of the hub's size), measured two ways:

- ``mysql``: the claim alone. Plain reads refuse the sold-out and those at their limit; the
  rest run the transaction whose conditional update (`issued < stock`) holds the stock.
- ``redis``: an atomic Redis counter in front (a Lua script: stock left, and this customer's
  count under the limit, checked and taken together); only the claims it lets through run the
  same MySQL transaction, and a claim MySQL refuses gives its Redis slot back.

Each round makes a fresh template; the approaches alternate. Printed per approach: the time
of the whole rush, claims per second, the latency percentiles, how many claims reached the
MySQL transaction, and the checks (exactly the stock claimed, nobody holding two).

Drops and recreates its own database (``--mysql-url``, default orderhub_bench_coupons) and
writes only keys under "bench-coupons:" in the Redis db, deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from collections import Counter

from adapters import accounts, coupons
from adapters.clock import utcnow
from adapters.migrate import migrate
from adapters.mysql import Database
from adapters.redis import connect
from load.stores import drop_database, wait_until_unused

PREFIX = "bench-coupons"
# Stock left (KEYS[1]) and the customer's count (KEYS[2] hash, field ARGV[1]) under the limit
# (ARGV[2]), taken together or not at all. -1: not set up; 0: sold out; -2: at the limit.
GATE = """
local left = redis.call('GET', KEYS[1])
if not left then return -1 end
if tonumber(left) <= 0 then return 0 end
local mine = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if mine >= tonumber(ARGV[2]) then return -2 end
redis.call('DECR', KEYS[1])
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
return 1
"""
GATE_REFUSAL = {0: "out_of_stock", -2: "limit_reached", -1: "not_set_up"}


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class RedisGate:
    def __init__(self, redis, template_id: int, per_user: int):
        self.redis = redis
        self.left = f"{PREFIX}:{template_id}:left"
        self.holders = f"{PREFIX}:{template_id}:holders"
        self.per_user = per_user
        self.script = redis.register_script(GATE)

    async def open(self, stock_left: int) -> None:
        await self.redis.set(self.left, stock_left, nx=True)

    async def take(self, user_id: int) -> int:
        return int(await self.script(keys=[self.left, self.holders], args=[user_id, self.per_user]))

    async def give_back(self, user_id: int) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.incr(self.left)
        pipe.hincrby(self.holders, user_id, -1)
        await pipe.execute()


async def rush(db, redis, args, users: list[int], approach: str) -> dict:
    made = await coupons.create_template(
        db,
        {
            "name": f"bench-{uuid.uuid4().hex[:6]}",
            "kind": "threshold",
            "amount_off": 1000,
            "threshold": 0,
            "valid_days": 1,
            "stock": args.stock,
            "per_user": args.per_user,
        },
    )
    gate = RedisGate(redis, made, args.per_user) if approach == "redis" else None
    if gate:
        await gate.open(args.stock)
    claimers = [users[i % len(users)] for i in range(args.claims)]
    reached = Counter()
    latencies: list[float] = []

    async def claim(user_id: int) -> str:
        t0 = time.perf_counter()
        try:
            if gate and (taken := await gate.take(user_id)) != 1:
                return GATE_REFUSAL[taken]
            reached["mysql"] += 1
            try:
                await coupons.claim(db, made, user_id, "claim", utcnow())
                return "claimed"
            except coupons.Refused as exc:
                if gate:
                    await gate.give_back(user_id)
                return exc.code
        finally:
            latencies.append((time.perf_counter() - t0) * 1000)

    started = time.perf_counter()
    outcomes = Counter(await asyncio.gather(*(claim(u) for u in claimers)))
    wall = time.perf_counter() - started
    held = await coupons.holders(db, made)
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))], 1)

    return {
        "approach": approach,
        "wall_s": round(wall, 3),
        "claims_per_s": round(args.claims / wall),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "max_ms": round(latencies[-1], 1),
        "reached_mysql": reached["mysql"],
        "outcomes": dict(outcomes),
        "claimed_rows": sum(held.values()),
        "most_held_by_one": max(held.values(), default=0),
        "ok": sum(held.values()) == args.stock == outcomes["claimed"]
        and max(held.values(), default=0) <= args.per_user,
    }


async def main(args) -> int:
    wait_until_unused(args.mysql_url, args.redis_url)
    drop_database(args.mysql_url)
    migrate(args.mysql_url, log=lambda _msg: None)
    db = await Database.connect(args.mysql_url, maxsize=args.pool)
    redis = connect(args.redis_url)
    try:
        users = []
        for i in range(args.users):
            user, _ = await accounts.wechat_user(db, f"bench-{i}", None, "customer", "bench")
            users.append(user["id"])
        runs: dict[str, list[dict]] = {"mysql": [], "redis": []}
        for r in range(args.rounds):
            for approach in ("mysql", "redis") if r % 2 == 0 else ("redis", "mysql"):
                result = await rush(db, redis, args, users, approach)
                runs[approach].append(result)
                say(json.dumps(result, ensure_ascii=False))
        print(
            f"\n{args.claims} concurrent claims, stock {args.stock}, limit {args.per_user},"
            f" {args.users} customers, MySQL pool {args.pool}, {args.rounds} rounds (median):"
        )
        print(
            f"{'approach':<9}{'wall s':>8}{'claims/s':>10}{'p50 ms':>9}{'p95 ms':>9}"
            f"{'p99 ms':>9}{'to MySQL':>10}  checks"
        )
        for approach, results in runs.items():

            def med(key: str, results=results):
                return statistics.median(x[key] for x in results)

            ok = all(x["ok"] for x in results)
            print(
                f"{approach:<9}{med('wall_s'):>8.3f}{med('claims_per_s'):>10.0f}"
                f"{med('p50_ms'):>9.1f}{med('p95_ms'):>9.1f}{med('p99_ms'):>9.1f}"
                f"{med('reached_mysql'):>10.0f}  "
                + (f"exactly the stock claimed, nobody above {args.per_user}" if ok else "FAILED")
            )
        return 0 if all(x["ok"] for rs in runs.values() for x in rs) else 1
    finally:
        keys = [k async for k in redis.scan_iter(f"{PREFIX}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
        await db.close()


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mysql-url", default="mysql://root@127.0.0.1:3306/orderhub_bench_coupons")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/1")
    p.add_argument("--claims", type=int, default=1000)
    p.add_argument("--stock", type=int, default=100)
    p.add_argument("--per-user", type=int, default=1)
    p.add_argument("--users", type=int, default=300)
    p.add_argument("--pool", type=int, default=20, help="MySQL connections (the hub's: 20)")
    p.add_argument("--rounds", type=int, default=3)
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
