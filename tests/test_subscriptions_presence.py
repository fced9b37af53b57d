"""Socket presence in Redis (adapters/presence.py), as several hub processes keep it: a user is
online while any process holds a socket of theirs, and the sockets of a process that died
stop counting once they lapse."""

from __future__ import annotations

import asyncio
import uuid

from conftest import REDIS_URL

from adapters.presence import Presence, online
from adapters.redis import Keys
from adapters.redis import connect as redis_connect


async def test_sockets_on_several_hub_processes_count_separately() -> None:
    redis = redis_connect(REDIS_URL, 4)
    keys = Keys(f"presence-test-{uuid.uuid4().hex[:8]}")
    hub_a, hub_b = Presence(redis, keys), Presence(redis, keys)
    try:
        user = 42
        assert not await online(redis, keys, user)
        await hub_a.connected(user, "sid-1")
        await hub_b.connected(user, "sid-1")  # the same sid on another process: another socket
        await hub_b.connected(user, "sid-2")
        await hub_a.disconnected(user, "sid-1")
        assert await online(redis, keys, user)  # still open on hub B
        await hub_b.disconnected(user, "sid-1")
        assert await online(redis, keys, user)
        await hub_b.disconnected(user, "sid-2")
        assert not await online(redis, keys, user)
        assert not await online(redis, keys, user + 1)
    finally:
        await redis.aclose()


async def test_the_sockets_of_a_dead_hub_lapse_and_a_live_hubs_do_not() -> None:
    redis = redis_connect(REDIS_URL, 4)
    keys = Keys(f"presence-test-{uuid.uuid4().hex[:8]}")
    dead, alive = Presence(redis, keys, ttl_s=0.6), Presence(redis, keys, ttl_s=0.6)
    try:
        await dead.connected(1, "s")  # this process dies: never refreshes, never disconnects
        await alive.connected(2, "s")
        for _ in range(4):  # the live process re-scores its sockets (the hub: every 20 s)
            await asyncio.sleep(0.25)
            await alive.refresh([(2, "s")])
        assert not await online(redis, keys, 1)
        assert await online(redis, keys, 2)
    finally:
        await redis.aclose()
