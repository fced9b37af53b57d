"""``python -m load.bench_emit``: what a host's tick of fan-out costs, published through
python-socketio's public ``AsyncRedisManager.emit`` (one round trip per event) against one
Redis pipeline carrying the same messages (actors/emit.py ``Emitter.add_to``).

Prints per-tick wall time and CPU time per event for tick sizes a city produces (every
provider on an order sends a fix per tick, plus one console update).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

from actors.emit import Emitter
from adapters.redis import connect


async def _measure(redis_url: str, sizes: list[int], rounds: int) -> None:
    redis = connect(redis_url)
    emitter = Emitter(redis_url, "orderhub:bench-emit", redis)
    print(f"{'events/tick':>11} {'way':<22} {'ms/tick':>8} {'cpu µs/event':>13}")
    for size in sizes:
        events = [
            ("provider.location", {"orderId": i, "lat": 20.0, "lng": 110.3}, f"order:{i}")
            for i in range(size)
        ]

        # events bound now: each tick runs within this iteration, but say so (ruff B023)
        async def library(events=events):
            await asyncio.gather(*(emitter.emit(*e) for e in events))

        async def pipeline(events=events):
            pipe = redis.pipeline(transaction=False)
            emitter.add_to(pipe, events)
            await pipe.execute()

        for name, tick in (("AsyncRedisManager.emit", library), ("one pipeline", pipeline)):
            await tick()  # warm the connections
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(rounds):
                await tick()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(
                f"{size:>11} {name:<22} {wall / rounds * 1000:>8.2f}"
                f" {cpu / (rounds * size) * 1e6:>13.1f}"
            )
    await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m load.bench_emit", description=__doc__)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"))
    parser.add_argument("--sizes", default="1,10,100,500")
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    asyncio.run(_measure(args.redis, sizes, args.rounds))


if __name__ == "__main__":
    main()
