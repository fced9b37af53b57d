"""What the Redis rebuild (actors/rebuild.py) costs a starting hub, for N listed providers:
after the database changed (stale keys wiped, all written again), after a flush (all written
again), and in the steady state (everything agrees: nothing written). Prints the figures.

    .venv/bin/python -m load.bench_rebuild --providers 2000 \\
        --mysql-url mysql://root@127.0.0.1:3306/orderhub_bench_rebuild --redis-url redis://127.0.0.1:6379/7

The database is dropped and created again; the Redis db's keys of that database are replaced.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time

import orjson

from actors import rebuild
from adapters import redis as redis_adapter
from adapters.migrate import migrate
from adapters.mysql import Database, MysqlDsn
from load.stores import drop_database


async def _seed(db: Database, n: int) -> None:
    rows = [("provider", f"bench-rebuild-{i}", f"p{i}") for i in range(n)]
    await db.executemany("INSERT INTO users (role, openid, nickname) VALUES (%s, %s, %s)", rows)
    users = await db.fetch_all("SELECT id FROM users WHERE openid LIKE 'bench-rebuild-%%'")
    rnd = random.Random(7)
    providers = [
        (
            u["id"],
            f"C{u['id']}",
            orjson.dumps([1, 2, 3]).decode(),
            20.0 + rnd.random() * 0.1,
            110.3 + rnd.random() * 0.1,
        )
        for u in users
    ]
    await db.executemany(
        "INSERT INTO providers (user_id, name, certificate_no, certificate_type, skills,"
        " service_areas, verification, work_status, last_lat, last_lng, location_at)"
        " VALUES (%s, '师傅', %s, 'low_voltage', %s, '[]', 'approved', 'online', %s, %s,"
        " UTC_TIMESTAMP(3))",
        providers,
    )


async def _stale(redis, keys, n: int) -> None:
    """Another database's keys: n + 30 providers online with every skill."""
    pipe = redis.pipeline(transaction=False)
    pipe.set(keys.origin(), "another database")
    for pid in range(1, n + 31):
        pipe.geoadd(keys.skill(1), (110.3, 20.0, pid))
        card = {"online": True, "verified": True, "skills": [1], "areas": [], "capacity": 1}
        pipe.hset(keys.cards(), str(pid), orjson.dumps(card))
    await pipe.execute()


async def _timed(label: str, db, redis, keys) -> None:
    async def alive(_pid: int) -> bool:
        return True

    started = time.perf_counter()
    figures = await rebuild.providers(db, redis, keys, alive)
    took = time.perf_counter() - started
    print(f"{label:<28} {took * 1000:8.0f} ms   {figures}")


async def main(args) -> None:
    if MysqlDsn.parse(args.mysql_url).database == "orderhub":
        raise SystemExit("refusing the demo database `orderhub`")
    drop_database(args.mysql_url)
    migrate(args.mysql_url, log=lambda _m: None)
    db = await Database.connect(args.mysql_url, maxsize=4)
    redis = redis_adapter.connect(args.redis_url, max_connections=8)
    keys = redis_adapter.Keys.for_database(args.mysql_url)
    try:
        await _seed(db, args.providers)
        await _stale(redis, keys, args.providers)
        print(f"{args.providers} providers listed in MySQL")
        await _timed("database changed (wipe)", db, redis, keys)
        await _timed("steady state", db, redis, keys)
        await redis.delete(*[k async for k in redis.scan_iter(match=f"{keys.ns}:*")])
        await _timed("after a flush", db, redis, keys)
    finally:
        await redis.delete(*[k async for k in redis.scan_iter(match=f"{keys.ns}:*")] or ["-"])
        await redis.aclose()
        await db.close()
        drop_database(args.mysql_url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--providers", type=int, default=2000)
    parser.add_argument("--mysql-url", default="mysql://root@127.0.0.1:3306/orderhub_bench_rebuild")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    asyncio.run(main(parser.parse_args()))
