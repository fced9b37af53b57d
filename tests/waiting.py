"""Waiting without hiding failures: poll until something holds, or until a socket event arrives.

Both fail with an AssertionError that names what was awaited and what was last seen, instead of
a bare TimeoutError; neither catches anything, so an assertion failing inside a check is
reported as it is.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable


async def until(check: Callable, what: str, timeout: float = 15, interval: float = 0.1):
    """Call `check()` (plain or async) until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout} s for {what}; last seen: {value!r}")
        await asyncio.sleep(interval)


async def arrival(
    sock,
    event: str,
    timeout: float = 15,
    where: Callable[[dict], bool] | None = None,
    what: str = "",
    **match,
) -> dict:
    """The first `event` that `sock` (a conftest.Socket) got whose data has the `match` items
    and satisfies `where` (described by `what`): already received, or within `timeout`."""

    def first() -> dict | None:
        return next((d for d in sock.of(event, **match) if where is None or where(d)), None)

    wanted = " ".join([f"a {event} event", *(f"{k}={v!r}" for k, v in match.items()), what])
    return await until(first, wanted.strip(), timeout, interval=0.02)
