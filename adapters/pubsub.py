"""python-socketio's Redis manager with one bounded publisher.

`socketio.AsyncRedisManager` publishes each emit with `await redis.publish(...)` on a client
whose pool has no limit: when the process stalls (a GC pause, a slow Redis), every waiting
emit takes a connection of its own — ~9,700 connections near Redis's `maxclients`, then
"Cannot publish to redis… retrying" and nothing delivered (FIELD-NOTES "Tracking ceilings").

Here an emit puts its message on a queue and waits until it is published (as before: when
`emit` returns the message is in Redis, so it still precedes whatever the caller does next);
one task per process publishes what has queued, many messages per round trip (a pipeline),
on one connection. So a pause costs one connection and one bigger pipeline, never thousands of
connections, and messages leave in the order they were emitted. The queue is bounded: when
Redis is gone for long, the oldest messages are dropped and counted (publishing is not
durable anyway: clients recover missed order events from MySQL by `seq`). The listener keeps
python-socketio's own connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

import redis.asyncio as aioredis
import socketio

from adapters import jsonio

log = logging.getLogger("orderhub.pubsub")

MAX_QUEUED = 100_000  # messages held while Redis does not answer
PER_ROUND_TRIP = 500  # messages in one pipeline


class QueuedRedisManager(socketio.AsyncRedisManager):
    def __init__(self, url: str, channel: str, write_only: bool = False):
        super().__init__(url, channel=channel, write_only=write_only, json=jsonio)
        self._queue: deque[tuple[str, asyncio.Future]] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._out: aioredis.Redis | None = None
        self.dropped = 0

    async def _publish(self, data) -> None:
        """Queue `data` for the publisher task (started on the first emit, on this loop) and
        wait until it is published (or given up: an emit never raises for Redis)."""
        loop = asyncio.get_running_loop()
        if len(self._queue) >= MAX_QUEUED:
            _, waiting = self._queue.popleft()
            waiting.set_result(False)
            self.dropped += 1
            if self.dropped % 1000 == 1:
                log.error("redis publisher behind: %s messages dropped so far", self.dropped)
        done = loop.create_future()
        self._queue.append((self.json.dumps(data), done))
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run())
        await asyncio.shield(done)  # a cancelled emitter leaves the message to be published

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                size = min(PER_ROUND_TRIP, len(self._queue))
                batch = [self._queue.popleft() for _ in range(size)]
                sent = await self._send([message for message, _ in batch])
                for _, done in batch:
                    if not done.done():
                        done.set_result(sent)

    async def _send(self, batch: list[str]) -> bool:
        """One pipeline; on an error a fresh connection and one more try, then the batch is
        given up (logged), as python-socketio's own publish does."""
        for attempt in (1, 2):
            try:
                if self._out is None:
                    # one connection: this task is its only user
                    self._out = aioredis.Redis.from_url(self.redis_url, max_connections=1)
                pipe = self._out.pipeline(transaction=False)
                for message in batch:
                    pipe.publish(self.channel, message)
                await pipe.execute()
                return True
            except Exception as exc:
                out, self._out = self._out, None
                if out is not None:
                    await _close_quietly(out)
                if attempt == 2:
                    log.error("cannot publish %s messages to redis: %r", len(batch), exc)
                else:
                    await asyncio.sleep(0.2)
        return False


async def _close_quietly(client: aioredis.Redis) -> None:
    try:
        await client.aclose()
    except Exception:
        pass
