"""A mailbox: what makes an entity an actor. Messages run one at a time, in arrival order.

Holding no lock across entities, a mailbox costs nothing while idle (no task per entity);
a drain task exists only while messages wait.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

log = logging.getLogger("orderhub.actors")


class Mailbox:
    __slots__ = ("_draining", "_queue", "owner")

    def __init__(self, owner: str):
        self.owner = owner
        self._queue: deque = deque()
        self._draining = False

    async def ask(self, handler: Callable[..., Awaitable], *args):
        """Queue a message and wait for its answer."""
        future = asyncio.get_running_loop().create_future()
        self._queue.append((handler, args, future))
        self._kick()
        return await future

    def tell(self, handler: Callable[..., Awaitable], *args) -> None:
        """Queue a message without waiting (timers, notifications)."""
        self._queue.append((handler, args, None))
        self._kick()

    def _kick(self) -> None:
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._queue:
                handler, args, future = self._queue.popleft()
                try:
                    result = await handler(*args)
                except Exception as exc:
                    if future is None:
                        log.exception("%s: message %s failed", self.owner, handler.__name__)
                    elif not future.done():
                        future.set_exception(exc)
                else:
                    if future is not None and not future.done():
                        future.set_result(result)
        finally:
            self._draining = False
