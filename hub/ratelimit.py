"""Fixed-window rate limits in Redis, shared by every hub process."""

from __future__ import annotations

import time

from hub.errors import TooMany


class RateLimiter:
    def __init__(self, redis, keys):
        self._redis = redis
        self._keys = keys

    async def hit(self, key: str, limit: int, window_s: int = 60) -> None:
        window = int(time.time() // window_s)
        rkey = self._keys.rate(key, window)
        pipe = self._redis.pipeline(transaction=False)
        pipe.incr(rkey)
        pipe.expire(rkey, window_s + 1)
        count, _ = await pipe.execute()
        if count > limit:
            retry = window_s - int(time.time() % window_s)
            raise TooMany(f"too many requests; retry in {retry} s", retryAfter=retry)


def client_ip(scope: dict) -> str:
    """The peer address (under ASGI environ's REMOTE_ADDR is always 127.0.0.1)."""
    client = scope.get("client")
    return client[0] if client else "unknown"
