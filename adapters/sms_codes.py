"""SMS verification codes in Redis: issued under limits, stored hashed, good for 5 minutes and
for one use, shared by every hub process.

Keys (namespaced like every other, adapters/redis.py): per purpose and phone (its lookup HMAC,
never the number) the code's HMAC and the wrong guesses so far; a one-minute cooldown per phone;
a per-day count per phone. The phone's HMAC key is the phone vault's lookup key, so no key
holds a phone number in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

CODE_TTL_S = 300
COOLDOWN_S = 60
PER_DAY = 10
MAX_GUESSES = 5  # wrong guesses before the code is void


@dataclass(frozen=True)
class Refusal:
    code: str  # rate_limited | too_many_today
    retry_after: int


class SmsCodes:
    def __init__(
        self, redis, ns: str, hmac_key: bytes, cooldown_s: int = COOLDOWN_S, per_day: int = PER_DAY
    ):
        self.redis = redis
        self.ns = ns
        self.hmac_key = hmac_key
        self.cooldown_s = cooldown_s
        self.per_day = per_day

    def _digest(self, text: str) -> str:
        return hmac.new(self.hmac_key, text.encode(), hashlib.sha256).hexdigest()

    def _key(self, kind: str, purpose: str, phone: str) -> str:
        return f"{self.ns}:sms:{kind}:{purpose}:{self._digest(phone)[:32]}"

    async def may_send(self, purpose: str, phone: str) -> Refusal | None:
        """Takes the phone's one-a-minute slot and one of its ten a day; a Refusal when either
        is used up (the slot check is SET NX: two requests in the same second get one code)."""
        cool = self._key("cool", "any", phone)
        if self.cooldown_s and not await self.redis.set(cool, "1", nx=True, ex=self.cooldown_s):
            return Refusal("rate_limited", max(int(await self.redis.ttl(cool)), 1))
        day = int(time.time() // 86400)
        key = self._key(f"day{day}", "any", phone)
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, 86400 + 60)
        count, _ = await pipe.execute()
        if count > self.per_day:
            return Refusal("too_many_today", 86400 - int(time.time() % 86400))
        return None

    async def issue(self, purpose: str, phone: str) -> str:
        """A new 6-digit code for (purpose, phone), replacing any earlier one."""
        code = f"{secrets.randbelow(10**6):06d}"
        key = self._key("code", purpose, phone)
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(key)
        pipe.hset(key, mapping={"h": self._digest(f"{purpose}:{phone}:{code}"), "n": 0})
        pipe.expire(key, CODE_TTL_S)
        await pipe.execute()
        return code

    async def forget(self, purpose: str, phone: str) -> None:
        """A code that never reached the phone (the SMS was refused) is void."""
        await self.redis.delete(self._key("code", purpose, phone))

    async def check(self, purpose: str, phone: str, code: str) -> bool:
        """True exactly once for the right code within its 5 minutes; a wrong guess counts,
        and the fifth voids the code. Two requests with the right code: one wins (DEL)."""
        key = self._key("code", purpose, phone)
        guesses = await self.redis.hincrby(key, "n", 1)
        stored = await self.redis.hget(key, "h")
        if stored is None:  # expired, used, or never issued (hincrby made a stray key)
            await self.redis.delete(key)
            return False
        if not hmac.compare_digest(stored, self._digest(f"{purpose}:{phone}:{code}")):
            if guesses >= MAX_GUESSES:
                await self.redis.delete(key)
            return False
        return await self.redis.delete(key) == 1
