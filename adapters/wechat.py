"""The hub's WeChat adapter (mini-program login, subscribe messages), on wechatpy's real
WeChatClient aimed at WECHAT_API_BASE.

wechatpy is synchronous (requests): every call runs in a worker thread. wechatpy hard-codes
https://api.weixin.qq.com in places (the cgi-bin/token URL among them), so the client's HTTP
session refuses any URL outside api_base: a missed override fails loudly instead of sending
our secret to the real WeChat.

With a Redis URL the access token is shared by every process (adapters/wechat_token.py):
fetched once, renewed before it expires or when WeChat refuses it (40001/42001), by one
process at a time. Without one (a lone client in tests) wechatpy keeps it in memory.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from typing import Any

import redis
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry
from wechatpy import WeChatClient
from wechatpy.client.api.base import BaseWeChatAPI
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from adapters.redis import Keys
from adapters.settings import Settings
from adapters.wechat_token import SharedToken, TokenUnavailable

DEFAULT_APPID = "wx5a4d0c0ffee0hub1"
DEFAULT_SECRET = "sandbox-app-secret-change-me"
DEFAULT_API_BASE = "http://127.0.0.1:8100/"

REAL_API_BASE = "https://api.weixin.qq.com/"
TIMEOUT = (3.05, 5.0)  # (connect, read) seconds, per HTTP request


class WeChatError(Exception):
    """A WeChat errcode; -1 when WeChat could not be reached or answered nonsense."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class _PinnedSession(requests.Session):
    def __init__(self, api_base: str) -> None:
        super().__init__()
        self.api_base = api_base
        # A pooled keep-alive connection the server has just closed fails with
        # RemoteDisconnected before any byte is read; one retry of a GET is safe (WeChat's
        # login and token calls are GETs; the phone-number POST is not retried).
        retry = Retry(
            total=1, connect=1, read=1, status=0, allowed_methods=["GET"], raise_on_status=False
        )
        self.mount(api_base, HTTPAdapter(max_retries=retry))

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        target = url.decode() if isinstance(url, bytes) else url
        if not target.startswith(self.api_base):
            raise requests.exceptions.InvalidURL(f"refusing {target}: outside {self.api_base}")
        # wechatpy's token fetch passes no timeout at all, and its API calls pass None.
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = TIMEOUT
        # A redirect would bypass the check above.
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)


class _ThreadToken(SessionStorage):
    """What wechatpy reads back after fetch_access_token(): the token this thread holds."""

    def __init__(self, local: threading.local) -> None:
        self._local = local

    def get(self, key, default=None):
        return getattr(self._local, "token", default)

    def set(self, key, value, ttl=None):
        self._local.token = value

    def delete(self, key):
        self._local.token = None


class _Client(WeChatClient):
    def __init__(
        self,
        appid: str,
        secret: str,
        api_base: str,
        redis_url: str | None = None,
        token_key: str | None = None,
    ) -> None:
        super().__init__(appid, secret, timeout=TIMEOUT)
        self.api_base = api_base
        self._http = _PinnedSession(api_base)
        self._token_lock = threading.Lock()
        self._shared: SharedToken | None = None
        if redis_url:
            # Each thread knows the token it last used: the one to renew when it is refused.
            self._local = threading.local()
            self.session = _ThreadToken(self._local)
            key = token_key or f"wechat-token:{appid}"
            self._shared = SharedToken.from_url(redis_url, key, self._fetch_token)
        self.API_BASE_URL = api_base + "cgi-bin/"
        # wechatpy gives each client its own API group objects (wxa, datacube, …), some with
        # an absolute base URL of their own. vars(), not inspect.getmembers(): the latter
        # would read the access_token property and fetch a token right here.
        for api in vars(self).values():
            base = getattr(api, "API_BASE_URL", "")
            if isinstance(api, BaseWeChatAPI) and base.startswith(REAL_API_BASE):
                api.API_BASE_URL = api_base + base.removeprefix(REAL_API_BASE)

    def _token_params(self) -> dict[str, str]:
        return {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}

    def fetch_access_token(self) -> dict[str, Any] | None:
        """wechatpy calls this for a token it lacks and on 40001/42001 (then sends again)."""
        if self._shared is None:
            return self._fetch_access_token(
                url=self.api_base + "cgi-bin/token", params=self._token_params()
            )
        self._local.token = self._shared.renew(getattr(self._local, "token", None))
        return None

    def _fetch_token(self) -> dict[str, Any]:
        """GET cgi-bin/token (for SharedToken, which stores it)."""
        res = self._http.get(self.api_base + "cgi-bin/token", params=self._token_params())
        res.raise_for_status()
        result = res.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg"), client=self)
        return result

    @property
    def access_token(self) -> str:
        if self._shared is not None:
            self._local.token = self._shared.current()
            return self._local.token
        # Concurrent logins on a cold client would otherwise each fetch a token.
        with self._token_lock:
            return super().access_token


class WeChatLogin:
    def __init__(
        self,
        appid: str,
        secret: str,
        api_base: str,
        redis_url: str | None = None,
        token_key: str | None = None,
    ) -> None:
        self._client = _Client(appid, secret, api_base.rstrip("/") + "/", redis_url, token_key)

    @classmethod
    def for_settings(cls, s: Settings) -> WeChatLogin:
        """The deployment's client: its token shared in Redis by all its processes."""
        key = f"{Keys.for_database(s.mysql_url).ns}:wechat-token:{s.wechat_appid}"
        return cls(s.wechat_appid, s.wechat_secret, s.wechat_api_base, s.redis_url, key)

    @classmethod
    def from_env(cls) -> WeChatLogin:
        return cls(
            os.environ.get("WECHAT_APPID", DEFAULT_APPID),
            os.environ.get("WECHAT_SECRET", DEFAULT_SECRET),
            os.environ.get("WECHAT_API_BASE", DEFAULT_API_BASE),
        )

    def close(self) -> None:
        self._client._http.close()
        if self._client._shared is not None:
            self._client._shared.close()

    async def code_to_session(self, code: str) -> dict[str, str]:
        """wx.login() code → {"openid", "session_key", "unionid"?}."""
        result = await self._call(self._client.wxa.code_to_session, code)
        if not isinstance(result.get("openid"), str) or "session_key" not in result:
            raise WeChatError(-1, f"malformed jscode2session response: {sorted(result)}")
        return {k: result[k] for k in ("openid", "session_key", "unionid") if k in result}

    async def phone_number(self, phone_code: str) -> str:
        """getPhoneNumber button code → the mainland phone number, without country code."""
        # wechatpy 1.8.18 has no wrapper for this API; post() still handles the access token
        # (adding it, refetching and retrying on 40001/40014/42001).
        result = await self._call(
            self._client.post,
            "wxa/business/getuserphonenumber",
            data={"code": phone_code},
            api_base_url=self._client.api_base,
        )
        try:
            return str(result["phone_info"]["purePhoneNumber"])
        except (KeyError, TypeError):
            raise WeChatError(-1, "malformed getuserphonenumber response") from None

    async def send_subscribe_message(
        self, openid: str, template_id: str, data: dict[str, str], page: str | None = None
    ) -> int | None:
        """One subscribe message (one of the user's consents) → WeChat's msgid. WeChatError:
        43101 no consent left, 40003 unknown openid, 40037 template, 47003 a field's value."""
        result = await self._call(
            self._client.wxa.send_subscribe_message,
            openid,
            template_id,
            {key: {"value": value} for key, value in data.items()},
            page,
        )
        msgid = result.get("msgid")
        return msgid if isinstance(msgid, int) else None

    async def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            result = await asyncio.to_thread(fn, *args, **kwargs)
        except WeChatClientException as exc:
            if exc.errcode is None:  # wechatpy's wrapper for an HTTP error status
                status = getattr(exc.response, "status_code", "?")
                raise WeChatError(-1, f"WeChat API answered HTTP {status}") from exc
            raise WeChatError(int(exc.errcode), str(exc.errmsg)) from exc
        except requests.RequestException as exc:
            raise WeChatError(-1, f"WeChat API unreachable: {exc}") from exc
        except (TokenUnavailable, redis.RedisError) as exc:
            raise WeChatError(-1, f"no access token: {exc}") from exc
        if not isinstance(result, dict):  # wechatpy hands back the raw response if not JSON
            status = getattr(result, "status_code", "?")
            raise WeChatError(-1, f"WeChat API answered non-JSON (HTTP {status})")
        return result
