"""WeChat's access token, shared in Redis by every hub process and actor host.

WeChat gives one app one valid token at a time (a new one retires the last within minutes)
and limits how often it is fetched, so processes must not each fetch their own. The token is
stored once with the time it should be renewed (a few minutes before it expires); whoever
needs a new one takes a Redis lock, looks again (someone may have just renewed it), and only
then fetches; the others wait for the new token instead of fetching too (no stampede). A token
WeChat refused (40001/42001) is renewed the same way, once, whoever noticed it first.

Synchronous (redis-py): wechatpy calls it from its worker threads.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import redis

log = logging.getLogger("orderhub.wechat")

RENEW_BEFORE_S = 300.0  # renew this long before expiry (at most half the token's life)
LOCK_S = 15.0  # a fetch holds the lock at most this long (a dead holder's lock lapses)
WAIT_S = 20.0  # how long a process waits for another's fetch before giving up
POLL_S = 0.05

_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"


class TokenUnavailable(Exception):
    pass


@dataclass(frozen=True)
class Stored:
    token: str
    renew_at: float  # epoch seconds
    expires_at: float


class SharedToken:
    def __init__(self, client: redis.Redis, key: str, fetch: Callable[[], dict]):
        self.redis = client
        self.key = key
        self.lock_key = key + ":lock"
        self.fetch = fetch  # → WeChat's {"access_token", "expires_in"}; raises on an errcode
        self._release = client.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str, key: str, fetch: Callable[[], dict]) -> SharedToken:
        client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5)
        return cls(client, key, fetch)

    def close(self) -> None:
        self.redis.close()

    def current(self) -> str:
        """A token to use now: the stored one; renewed first when it is due (by one process
        only: the others go on using the stored one while it is still valid)."""
        now = time.time()
        stored = self._read()
        if stored is not None and now < stored.renew_at:
            return stored.token
        if stored is not None and now < stored.expires_at - 5:
            return self._renew_if_free(stored)
        return self.renew(stored.token if stored else None)

    def renew(self, stale: str | None) -> str:
        """A token other than `stale` (the one WeChat refused, or none): fetched by whoever
        holds the lock; everyone else waits for it."""
        deadline = time.monotonic() + WAIT_S
        while True:
            if (fresh := self._fresh(stale)) is not None:
                return fresh
            owner = uuid.uuid4().hex
            if self.redis.set(self.lock_key, owner, nx=True, px=int(LOCK_S * 1000)):
                try:
                    if (fresh := self._fresh(stale)) is not None:  # renewed meanwhile
                        return fresh
                    return self._fetch_and_store()
                finally:
                    self._release(keys=[self.lock_key], args=[owner])
            if time.monotonic() > deadline:
                raise TokenUnavailable("no access token: another process's fetch never ended")
            time.sleep(POLL_S)

    def _renew_if_free(self, stored: Stored) -> str:
        owner = uuid.uuid4().hex
        if not self.redis.set(self.lock_key, owner, nx=True, px=int(LOCK_S * 1000)):
            return stored.token  # another process is renewing it
        try:
            again = self._read()
            if again is not None and again.token != stored.token:
                return again.token
            try:
                return self._fetch_and_store()
            except Exception:  # the stored one is still valid: renew on the next call
                log.exception("renewing the access token before expiry failed")
                return stored.token
        finally:
            self._release(keys=[self.lock_key], args=[owner])

    def _fresh(self, stale: str | None) -> str | None:
        stored = self._read()
        if stored is None or stored.token == stale or time.time() >= stored.renew_at:
            return None
        return stored.token

    def _fetch_and_store(self) -> str:
        result = self.fetch()
        token, life = result["access_token"], float(result.get("expires_in", 7200))
        now = time.time()
        stored = {
            "token": token,
            "renewAt": now + life - min(RENEW_BEFORE_S, life / 2),
            "expiresAt": now + life,
        }
        self.redis.set(self.key, json.dumps(stored), px=max(int(life * 1000), 1))
        log.info("fetched a new access token (valid %.0f s)", life)
        return token

    def _read(self) -> Stored | None:
        raw = self.redis.get(self.key)
        if raw is None:
            return None
        try:
            value = json.loads(raw)
            return Stored(value["token"], float(value["renewAt"]), float(value["expiresAt"]))
        except (ValueError, KeyError, TypeError):
            return None
