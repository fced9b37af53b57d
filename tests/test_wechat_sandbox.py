"""The WeChat sandbox as a real subprocess, driven through the hub's wechatpy-based adapter."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Iterator
from pathlib import Path

import httpx
import pytest

from adapters.wechat import WeChatError, WeChatLogin
from sandbox.login import openid_for

APPID = "wx0sandbox0test0001"
SECRET = "test-secret-for-the-sandbox"
REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("wechat-sandbox") / "sandbox.log"
    env = {
        **os.environ,
        "WECHAT_SANDBOX_PORT": str(port),
        "WECHAT_APPID": APPID,
        "WECHAT_SECRET": SECRET,
    }
    # A log file, not a pipe: uvicorn's access log would fill an unread pipe and stall it.
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sandbox"], cwd=REPO, env=env, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                pytest.fail(f"sandbox exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{url}/sandbox/health", timeout=1).json() == {"status": "ok"}:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"sandbox not healthy after 20 s:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            returncode = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    assert returncode == 0, log_path.read_text()
    assert f"WeChat sandbox listening on {url}" in log_path.read_text()


@pytest.fixture(scope="module")
def login(sandbox_url: str) -> Iterator[WeChatLogin]:
    client = WeChatLogin(APPID, SECRET, sandbox_url)
    yield client
    client.close()


def _token_fetches(sandbox_url: str) -> int:
    stats = httpx.get(f"{sandbox_url}/sandbox/stats").json()
    return stats["requests"].get("/cgi-bin/token", 0)


async def _errcode(call: Awaitable[object]) -> int:
    with pytest.raises(WeChatError) as info:
        await call
    return info.value.errcode


async def test_same_code_gives_same_identity(login: WeChatLogin) -> None:
    first = await login.code_to_session("sandbox-alice")
    second = await login.code_to_session("sandbox-alice")
    assert first["openid"] == second["openid"]
    assert first["unionid"] == second["unionid"]
    assert len(first["openid"]) == 28 and first["openid"].startswith("o")
    assert first["session_key"]


async def test_different_names_give_different_openids(login: WeChatLogin) -> None:
    names = ["alice", "bob", "carol.w", "dave_2", "e-" + "x" * 62]
    sessions = [await login.code_to_session(f"sandbox-{name}") for name in names]
    assert len({s["openid"] for s in sessions}) == len(names)


async def test_openid_depends_on_the_appid(sandbox_url: str) -> None:
    # A real openid is per app: the same user gets another one under another appid.
    login = WeChatLogin(APPID, SECRET, sandbox_url)
    session = await login.code_to_session("sandbox-alice")
    assert session["openid"] == openid_for(APPID, "alice") != openid_for("wxother", "alice")


@pytest.mark.parametrize(
    "code", ["081Kq4Ga1GhL3I0ntGIa1mBZ5D0Kq4G9", "sandbox-", "sandbox-" + "x" * 65, "sandbox-a b"]
)
async def test_bad_code_is_40029(login: WeChatLogin, code: str) -> None:
    assert await _errcode(login.code_to_session(code)) == 40029


async def test_ratelimited_code_is_45011(login: WeChatLogin) -> None:
    with pytest.raises(WeChatError) as info:
        await login.code_to_session("sandbox-ratelimited")
    assert info.value.errcode == 45011
    assert "minute-quota" in info.value.errmsg


async def test_wrong_secret_is_40125(sandbox_url: str) -> None:
    login = WeChatLogin(APPID, "not-the-secret", sandbox_url)
    assert await _errcode(login.code_to_session("sandbox-alice")) == 40125


async def test_wrong_appid_is_40013(sandbox_url: str) -> None:
    login = WeChatLogin("wx0000000000000000", SECRET, sandbox_url)
    assert await _errcode(login.code_to_session("sandbox-alice")) == 40013


async def test_phone_number(login: WeChatLogin) -> None:
    assert await login.phone_number("sandbox-phone-13800138000") == "13800138000"


@pytest.mark.parametrize(
    "code", ["sandbox-phone-12345", "sandbox-phone-23800138000", "sandbox-alice", ""]
)
async def test_bad_phone_code_is_40029(login: WeChatLogin, code: str) -> None:
    assert await _errcode(login.phone_number(code)) == 40029


async def test_phone_number_raw_protocol(sandbox_url: str) -> None:
    endpoint = f"{sandbox_url}/wxa/business/getuserphonenumber"
    async with httpx.AsyncClient() as http:
        missing = await http.post(endpoint, json={"code": "sandbox-phone-13800138000"})
        bogus = await http.post(
            endpoint, params={"access_token": "bogus"}, json={"code": "sandbox-phone-13800138000"}
        )
        token = (
            await http.get(
                f"{sandbox_url}/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": APPID, "secret": SECRET},
            )
        ).json()
        ok = await http.post(
            endpoint,
            params={"access_token": token["access_token"]},
            json={"code": "sandbox-phone-13912345678"},
        )
    # WeChat reports errors with HTTP 200 and an errcode body.
    assert missing.status_code == 200 and missing.json()["errcode"] == 40001
    assert bogus.json()["errcode"] == 40001
    assert token["expires_in"] == 7200
    info = ok.json()["phone_info"]
    assert ok.json()["errcode"] == 0
    assert info["purePhoneNumber"] == info["phoneNumber"] == "13912345678"
    assert info["countryCode"] == "86"
    assert info["watermark"]["appid"] == APPID


async def test_token_wrong_grant_type_is_40002(sandbox_url: str) -> None:
    async with httpx.AsyncClient() as http:
        reply = await http.get(
            f"{sandbox_url}/cgi-bin/token",
            params={"grant_type": "password", "appid": APPID, "secret": SECRET},
        )
    assert reply.json() == {"errcode": 40002, "errmsg": "invalid grant_type"}


async def test_token_fetched_once_across_logins(sandbox_url: str) -> None:
    before = _token_fetches(sandbox_url)
    login = WeChatLogin(APPID, SECRET, sandbox_url)
    # Concurrent first calls on a cold client must share one token fetch too.
    await asyncio.gather(*(login.code_to_session(f"sandbox-user{i}") for i in range(6)))
    for i in range(4):
        await login.code_to_session(f"sandbox-again{i}")
    await login.phone_number("sandbox-phone-13800138000")
    assert _token_fetches(sandbox_url) - before == 1


async def test_expired_token_is_refreshed(sandbox_url: str) -> None:
    login = WeChatLogin(APPID, SECRET, sandbox_url)
    await login.phone_number("sandbox-phone-13800138000")
    before = _token_fetches(sandbox_url)
    stale = login._client.access_token
    async with httpx.AsyncClient() as http:
        await http.post(f"{sandbox_url}/sandbox/login/expire-tokens")
        expired = await http.post(
            f"{sandbox_url}/wxa/business/getuserphonenumber",
            params={"access_token": stale},
            json={"code": "sandbox-phone-13800138000"},
        )
    assert expired.json()["errcode"] == 42001
    # wechatpy sees 42001, fetches a new token and retries.
    assert await login.phone_number("sandbox-phone-13800138001") == "13800138001"
    assert _token_fetches(sandbox_url) - before == 1


async def test_unreachable_wechat_is_errcode_minus_1() -> None:
    login = WeChatLogin(APPID, SECRET, f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(WeChatError) as info:
        await login.code_to_session("sandbox-alice")
    assert info.value.errcode == -1
    assert "unreachable" in info.value.errmsg


async def test_nothing_goes_to_the_real_wechat(login: WeChatLogin) -> None:
    # wechatpy hard-codes the real host in some APIs: the adapter's session must refuse them.
    client = login._client
    assert "weixin.qq.com" not in client.API_BASE_URL + client.wxa.API_BASE_URL
    with pytest.raises(WeChatError) as info:
        await login._call(client.customservice.get_session, "o-someone")
    assert info.value.errcode == -1
    assert "refusing https://api.weixin.qq.com/" in info.value.errmsg
