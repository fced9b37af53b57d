"""The WeChat sandbox: one Starlette app mounting one module per WeChat product.

Products: mini-program login (login.py), subscribe messages (subscribe.py) and, when given,
WeChat Pay API v3 (pay.py).
"""

from __future__ import annotations

from collections import Counter

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.aliyun_sign import Verifier, gateway_route
from sandbox.login import LoginProduct
from sandbox.pay import PayProduct
from sandbox.privacy_number import PrivacyNumberProduct
from sandbox.sms import SmsProduct
from sandbox.subscribe import SubscribeProduct


class _CountRequests:
    """Counts requests per path, so tests can assert how often a client called WeChat."""

    def __init__(self, app: ASGIApp, counts: Counter[str]) -> None:
        self.app = app
        self.counts = counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/sandbox/"):
            self.counts[scope["path"]] += 1
        await self.app(scope, receive, send)


def create_app(
    appid: str,
    secret: str,
    pay: PayProduct | None = None,
    aliyun_key: tuple[str, str] | None = None,
) -> Starlette:
    """`aliyun_key`: the AccessKey pair that Alibaba Cloud's products (SMS at sms.py, privacy
    numbers at privacy_number.py, both behind the signed gateway at /) accept."""
    counts: Counter[str] = Counter()
    login = LoginProduct(appid, secret)
    subscribe = SubscribeProduct(login)  # before login.routes: it notes the openids issued

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def stats(request: Request) -> JSONResponse:
        return JSONResponse({"requests": dict(counts)})

    routes = [
        Route("/sandbox/health", health, methods=["GET"]),
        Route("/sandbox/stats", stats, methods=["GET"]),
        *login.routes,
        *subscribe.routes,
        *(pay.routes if pay else []),
    ]
    if aliyun_key:
        sms, numbers = SmsProduct(), PrivacyNumberProduct(aliyun_key[1])
        verifier = Verifier({aliyun_key[0]: aliyun_key[1]})
        routes += [*gateway_route(verifier, {**sms.actions, **numbers.actions})]
        routes += [*sms.routes, *numbers.routes]
    app = Starlette(routes=routes)
    app.state.pay = pay
    app.state.subscribe = subscribe
    app.add_middleware(_CountRequests, counts=counts)
    return app
