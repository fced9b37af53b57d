"""Mini-program login product: access tokens, jscode2session and getuserphonenumber.

Speaks api.weixin.qq.com's protocol: same paths, parameters, JSON shapes and error codes,
errors included as HTTP 200 with an errcode body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TOKEN_TTL = 7200
# Expired tokens are remembered this long so they answer 42001 (expired), not 40001 (unknown).
_EXPIRED_GRACE = 3600.0

LOGIN_CODE = re.compile(r"sandbox-([A-Za-z0-9_.-]{1,64})")
PHONE_CODE = re.compile(r"sandbox-phone-(1[3-9][0-9]{9})")
RATELIMITED_CODE = "sandbox-ratelimited"
# unionid spans all apps of one open-platform account, so it must not depend on the appid.
_UNIONID_KEY = b"sandbox-open-platform"


def wechat_error(errcode: int, errmsg: str) -> JSONResponse:
    return JSONResponse({"errcode": errcode, "errmsg": errmsg})


def invalid_appid() -> JSONResponse:
    return wechat_error(40013, "invalid appid")


def invalid_secret() -> JSONResponse:
    return wechat_error(40125, "invalid appsecret")


def invalid_grant_type() -> JSONResponse:
    return wechat_error(40002, "invalid grant_type")


def invalid_code() -> JSONResponse:
    return wechat_error(40029, "invalid code")


def _wechat_id(key: bytes, name: str) -> str:
    """28 chars starting with "o", from the base64url alphabet, like a real openid/unionid."""
    digest = hmac.new(key, name.encode(), hashlib.sha256).digest()
    return "o" + base64.urlsafe_b64encode(digest).decode()[:27]


def openid_for(appid: str, name: str) -> str:
    return _wechat_id(appid.encode(), name)


def unionid_for(name: str) -> str:
    return _wechat_id(_UNIONID_KEY, name)


class LoginProduct:
    def __init__(self, appid: str, secret: str, token_ttl: int = TOKEN_TTL) -> None:
        self.appid = appid
        self.secret = secret
        self.token_ttl = token_ttl
        self._tokens: dict[str, float] = {}  # access_token -> monotonic expiry

    @property
    def routes(self) -> list[Route]:
        return [
            Route("/cgi-bin/token", self.token, methods=["GET"]),
            Route("/sns/jscode2session", self.jscode2session, methods=["GET"]),
            Route("/wxa/business/getuserphonenumber", self.phone_number, methods=["POST"]),
            Route("/sandbox/login/expire-tokens", self.expire_tokens, methods=["POST"]),
        ]

    def _check_app(self, appid: str | None, secret: str | None) -> JSONResponse | None:
        if appid != self.appid:
            return invalid_appid()
        if not secret or not hmac.compare_digest(secret.encode(), self.secret.encode()):
            return invalid_secret()
        return None

    def _check_token(self, token: str | None) -> JSONResponse | None:
        expires_at = self._tokens.get(token or "")
        if expires_at is None:
            return wechat_error(40001, "invalid credential, access_token is invalid or not latest")
        if expires_at <= time.monotonic():
            return wechat_error(42001, "access_token expired")
        return None

    async def token(self, request: Request) -> JSONResponse:
        q = request.query_params
        if q.get("grant_type") != "client_credential":
            return invalid_grant_type()
        if error := self._check_app(q.get("appid"), q.get("secret")):
            return error
        now = time.monotonic()
        self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now - _EXPIRED_GRACE}
        token = secrets.token_urlsafe(102)
        self._tokens[token] = now + self.token_ttl
        return JSONResponse({"access_token": token, "expires_in": self.token_ttl})

    async def jscode2session(self, request: Request) -> JSONResponse:
        q = request.query_params
        if error := self._check_app(q.get("appid"), q.get("secret")):
            return error
        if q.get("grant_type") != "authorization_code":
            return invalid_grant_type()
        code = q.get("js_code", "")
        if code == RATELIMITED_CODE:
            return wechat_error(45011, "api minute-quota reach limit mustslower retry next minute")
        match = LOGIN_CODE.fullmatch(code)
        if match is None:
            return invalid_code()
        name = match.group(1)
        return JSONResponse(
            {
                "openid": openid_for(self.appid, name),
                # A fresh key per login, as WeChat may rotate it on every wx.login().
                "session_key": base64.b64encode(secrets.token_bytes(16)).decode(),
                "unionid": unionid_for(name),
            }
        )

    async def phone_number(self, request: Request) -> JSONResponse:
        if error := self._check_token(request.query_params.get("access_token")):
            return error
        # Clients (wechatpy among them) often send JSON without a JSON content type.
        try:
            body = json.loads(await request.body())
        except ValueError:
            return wechat_error(47001, "data format error")
        code = body.get("code") if isinstance(body, dict) else None
        match = PHONE_CODE.fullmatch(code) if isinstance(code, str) else None
        if match is None:
            return invalid_code()
        phone = match.group(1)
        return JSONResponse(
            {
                "errcode": 0,
                "errmsg": "ok",
                "phone_info": {
                    # Mainland numbers come without the country prefix in both fields.
                    "phoneNumber": phone,
                    "purePhoneNumber": phone,
                    "countryCode": "86",
                    "watermark": {"timestamp": int(time.time()), "appid": self.appid},
                },
            }
        )

    async def expire_tokens(self, request: Request) -> JSONResponse:
        """Sandbox control: expire every token now, to exercise clients' 42001 handling."""
        now = time.monotonic()
        self._tokens = {token: min(exp, now) for token, exp in self._tokens.items()}
        return JSONResponse({"expired": len(self._tokens)})
