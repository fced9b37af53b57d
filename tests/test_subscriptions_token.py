"""The access token shared in Redis (adapters/wechat_token.py): many processes, each with
several threads sending at once, fetch it once between them, whether there is none yet, it is
due for renewal, or WeChat has expired it (42001). The sandbox counts /cgi-bin/token calls."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import redis.asyncio as aioredis
from conftest import REDIS_URL, serve_asgi

from adapters.wechat import WeChatLogin
from sandbox.app import create_app
from sandbox.subscribe import PAYMENT_DUE

APPID = "wx0sandbox0test0016"
SECRET = "test-secret-for-the-token"
PROCESSES, THREADS = 4, 5
DATA = {
    "character_string1": "OH20250607103456123456",
    "thing2": "电路维修",
    "amount3": "¥120.50",
    "time4": "2025-06-07 10:34",
    "thing5": "服务已完成，请及时支付",
}

# One process of senders: THREADS threads on one client (as a hub process or a host), all
# sending at `start` (epoch seconds); prints each send's errcode (0: delivered).
SENDER = """
import json, sys, threading, time
from adapters.wechat import WeChatLogin

appid, secret, template, base, redis_url, key, openid, start, threads = sys.argv[1:10]
client = WeChatLogin(appid, secret, base, redis_url, key)
data = json.loads(sys.stdin.read())
codes = []

def send():
    try:
        client._client.wxa.send_subscribe_message(
            openid, template, {k: {"value": v} for k, v in data.items()}
        )
        codes.append(0)
    except Exception as exc:
        codes.append(getattr(exc, "errcode", -1))

time.sleep(max(0.0, float(start) - time.time()))
workers = [threading.Thread(target=send) for _ in range(int(threads))]
for w in workers:
    w.start()
for w in workers:
    w.join()
print(json.dumps(codes))
"""


@dataclass
class Box:
    url: str
    http: httpx.AsyncClient
    key: str  # the token's Redis key for this test
    openid: str

    async def token_fetches(self) -> int:
        stats = (await self.http.get("/sandbox/stats")).json()["requests"]
        return stats.get("/cgi-bin/token", 0)

    async def senders(self) -> list[int]:
        """PROCESSES processes × THREADS threads sending together: every send's errcode."""
        start = time.time() + 2.0  # all processes up and waiting by then
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                SENDER,
                APPID,
                SECRET,
                PAYMENT_DUE,
                self.url,
                REDIS_URL,
                self.key,
                self.openid,
                str(start),
                str(THREADS),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            for _ in range(PROCESSES)
        ]
        outs = await asyncio.gather(*(p.communicate(json.dumps(DATA).encode()) for p in procs))
        return [code for out, _ in outs for code in json.loads(out)]

    async def senders_all_deliver_with_one_token_fetch(self) -> None:
        before = await self.token_fetches()
        codes = await self.senders()
        assert codes == [0] * PROCESSES * THREADS
        assert await self.token_fetches() == before + 1

    async def store_a_token(self) -> None:
        """One send from a client of its own, so the token is in Redis before the senders."""
        warm = WeChatLogin(APPID, SECRET, self.url, REDIS_URL, self.key)
        assert await warm.send_subscribe_message(self.openid, PAYMENT_DUE, DATA)
        warm.close()


@pytest.fixture
async def box() -> AsyncIterator[Box]:
    async with serve_asgi(create_app(APPID, SECRET)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            name = f"tok-{uuid.uuid4().hex[:8]}"
            login = WeChatLogin(APPID, SECRET, url)  # no Redis: its own token
            openid = (await login.code_to_session(f"sandbox-{name}"))["openid"]
            login.close()
            body = {"code": f"sandbox-{name}", "templateId": PAYMENT_DUE, "count": 100}
            assert (await http.post("/sandbox/subscribe/consent", json=body)).status_code == 200
            yield Box(url, http, f"test:wechat-token:{uuid.uuid4().hex}", openid)


async def test_a_cold_start_fetches_one_token_for_all(box: Box) -> None:
    await box.senders_all_deliver_with_one_token_fetch()


async def test_a_token_expired_at_wechat_is_renewed_once_for_all(box: Box) -> None:
    await box.store_a_token()
    await box.http.post("/sandbox/login/expire-tokens")  # every sender now gets 42001 first
    await box.senders_all_deliver_with_one_token_fetch()


async def test_a_token_due_for_renewal_is_renewed_once(box: Box) -> None:
    await box.store_a_token()
    redis = aioredis.from_url(REDIS_URL, decode_responses=True)
    stored = json.loads(await redis.get(box.key))
    stored["renewAt"] = time.time() - 1  # still valid, but due: one process renews it
    await redis.set(box.key, json.dumps(stored), keepttl=True)
    await box.senders_all_deliver_with_one_token_fetch()
    renewed = json.loads(await redis.get(box.key))
    assert renewed["token"] != stored["token"] and renewed["renewAt"] > time.time()
    await redis.delete(box.key)
    await redis.aclose()
