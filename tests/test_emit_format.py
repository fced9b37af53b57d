"""The hosts publish a tick's events in one Redis pipeline (actors/emit.py `Emitter.add_to`)
by writing python-socketio's pub/sub message themselves, because its public `emit` costs one
round trip per event. This test fails the day python-socketio publishes something else."""

from __future__ import annotations

import asyncio
import os

import orjson

from actors.emit import Emitter
from adapters.redis import connect

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


async def _published(channel: str, publish) -> dict:
    redis = connect(REDIS_URL)
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel)
    try:
        await publish()
        async with asyncio.timeout(10):
            async for message in pubsub.listen():
                if message["type"] == "message":
                    return orjson.loads(message["data"])
    finally:
        await pubsub.aclose()
        await redis.aclose()


async def test_pipeline_publishes_what_python_socketio_publishes():
    redis = connect(REDIS_URL)
    emitter = Emitter(REDIS_URL, "orderhub:test-emit-format", redis)
    event = ("provider.location", {"orderId": 7, "lat": 20.0, "lng": 110.3}, "order:7")

    async def by_the_library():
        await emitter.emit(*event)

    async def by_the_pipeline():
        pipe = redis.pipeline(transaction=False)
        emitter.add_to(pipe, [event])
        await pipe.execute()

    ours = await _published("orderhub:test-emit-format", by_the_pipeline)
    theirs = await _published("orderhub:test-emit-format", by_the_library)
    await redis.aclose()
    assert ours == theirs
    assert theirs["event"] == "provider.location" and theirs["room"] == "order:7"


async def test_several_events_are_one_message_that_keeps_their_order():
    redis = connect(REDIS_URL)
    emitter = Emitter(REDIS_URL, "orderhub:test-emit-format", redis)
    events = [
        ("order.offer", {"orderId": 7, "distanceM": 100}, "provider:1"),
        ("order.offer", {"orderId": 7, "distanceM": 900}, "provider:2"),
        ("console.update", {"type": "locations", "providers": []}, "staff"),
    ]

    async def by_the_pipeline():
        pipe = redis.pipeline(transaction=False)
        emitter.add_to(pipe, events)
        assert len(pipe) == 1
        await pipe.execute()

    message = await _published("orderhub:test-emit-format", by_the_pipeline)
    await redis.aclose()
    assert message["method"] == "emit" and message["namespace"] == "/"
    assert message["callback"] is None and not message["binary"]
    assert message["batch"] == [
        ["order.offer", {"orderId": 7, "distanceM": 100}, "provider:1"],
        ["order.offer", {"orderId": 7, "distanceM": 900}, "provider:2"],
        ["console.update", {"type": "locations", "providers": [], "kind": "locations"}, "staff"],
    ]
