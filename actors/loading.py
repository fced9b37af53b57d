"""Loading an entity once, however many messages ask for it at the same moment."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


class LoadOnce:
    """The first caller for a key runs `load`; callers that come while it runs wait for its
    result instead of loading (and starting) a second copy of the entity."""

    def __init__(self) -> None:
        self._pending: dict[Any, asyncio.Future] = {}

    async def __call__(self, key, load: Callable[[], Awaitable]):
        if (pending := self._pending.get(key)) is not None:
            return await pending
        future = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            result = await load()
        except BaseException as exc:
            future.set_exception(exc)
            raise
        else:
            future.set_result(result)
            return result
        finally:
            self._pending.pop(key, None)
