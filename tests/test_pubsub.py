"""The bounded Redis publisher (adapters/pubsub.py): thousands of emits at once leave on one
connection, every message arrives, in the order emitted, decoded by a listening
python-socketio manager as its own."""

from __future__ import annotations

import asyncio
import os
import secrets

import orjson
import redis.asyncio as aioredis

from adapters.pubsub import QueuedRedisManager

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


async def test_a_burst_of_emits_uses_one_connection_and_keeps_order():
    channel = f"orderhub:test-pubsub-{secrets.token_hex(4)}"
    listener = aioredis.Redis.from_url(REDIS_URL)
    sub = listener.pubsub(ignore_subscribe_messages=True)
    await sub.subscribe(channel)
    manager = QueuedRedisManager(REDIS_URL, channel, write_only=True)
    n = 3000
    try:
        # all at once, as emits pile up after a pause
        await asyncio.gather(
            *[manager.emit("order.status", {"i": i}, to=f"order:{i}") for i in range(n)]
        )
        got = []
        deadline = asyncio.get_running_loop().time() + 20
        while len(got) < n:
            assert asyncio.get_running_loop().time() < deadline, f"{len(got)} of {n} arrived"
            message = await sub.get_message(timeout=1)  # None: the subscription's own message
            if message is not None:
                got.append(orjson.loads(message["data"]))
        assert [m["data"][0]["i"] for m in got] == list(range(n))
        assert {m["method"] for m in got} == {"emit"} and got[0]["room"] == "order:0"
        pool = manager._out.connection_pool
        assert len(list(pool._get_in_use_connections())) + len(pool._available_connections) == 1
        assert manager.dropped == 0
    finally:
        await sub.aclose()
        await listener.aclose()
        if manager._out is not None:
            await manager._out.aclose()
