"""Who has a live socket, in Redis, for every hub process and every actor host to read.

One sorted set per user: each open socket is a member `<hub process>:<sid>` scored with the
time it lapses. A hub adds its socket on connect, removes it on disconnect and re-scores its
sockets every REFRESH_S; a hub that dies stops re-scoring, so its sockets lapse within TTL_S
instead of counting forever. A user is online while any member has not lapsed; members of
several hub processes (or tabs) count separately, so one closing does not hide another.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable

from adapters.redis import Keys

TTL_S = 60.0  # a socket not re-scored for this long no longer counts
REFRESH_S = 20.0  # how often a hub re-scores its sockets


def presence_key(keys: Keys, user_id: int) -> str:
    return f"{keys.ns}:presence:{user_id}"


class Presence:
    def __init__(self, redis, keys: Keys, ttl_s: float = TTL_S):
        self.redis = redis
        self.keys = keys
        self.ttl_s = ttl_s
        self.node = uuid.uuid4().hex[:12]  # this hub process

    def _member(self, sid: str) -> str:
        return f"{self.node}:{sid}"

    async def connected(self, user_id: int, sid: str) -> None:
        await self.refresh([(user_id, sid)])

    async def disconnected(self, user_id: int, sid: str) -> None:
        await self.redis.zrem(presence_key(self.keys, user_id), self._member(sid))

    async def refresh(self, sockets: Iterable[tuple[int, str]]) -> None:
        """Re-score this hub's sockets (user id, sid); drop lapsed members on the way."""
        now = time.time()
        pipe = self.redis.pipeline(transaction=False)
        for user_id, sid in sockets:
            key = presence_key(self.keys, user_id)
            pipe.zadd(key, {self._member(sid): now + self.ttl_s})
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.expire(key, int(self.ttl_s) + 1)
        await pipe.execute()


async def online(redis, keys: Keys, user_id: int) -> bool:
    """Whether the user has a socket open on any hub process now."""
    return await redis.zcount(presence_key(keys, user_id), time.time(), "+inf") > 0
