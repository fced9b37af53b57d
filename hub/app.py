"""The hub: one ASGI app serving HTTP (Starlette) and Socket.IO on the same port."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
from dataclasses import dataclass

import socketio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException

from actors.emit import channel_for
from actors.notify import Notifier
from adapters import catalog as catalog_db
from adapters import providers as providers_db
from adapters import redis as redis_adapter
from adapters.mysql import Database, MysqlDsn
from adapters.orders import OrderStore
from adapters.payments import PaymentStore
from adapters.phones import PhoneVault
from adapters.privacy_numbers import PrivacyNumbers
from adapters.settings import Settings
from adapters.sms import SmsGateway
from adapters.sms_codes import SmsCodes
from adapters.subscriptions import SubscriptionStore
from adapters.wechat import WeChatLogin
from adapters.wechat_pay import gateway_for
from hub import console, metrics, openapi, secret_files
from hub.actor_gateway import ActorGateway
from hub.auth import TokenService
from hub.errors import (
    ApiError,
    api_error_handler,
    http_error_handler,
    store_error_handler,
    store_errors,
    unexpected_error_handler,
)
from hub.fanout import ResyncingRedisManager
from hub.ratelimit import RateLimiter
from hub.realtime import Realtime
from hub.router import to_starlette
from hub.routes import (
    alerts,
    auth,
    catalog,
    complaints,
    contact,
    coupons,
    dashboard,
    dispatch,
    earnings,
    exports,
    health,
    hosts,
    nearby,
    order_search,
    orders,
    payments,
    providers,
    reconciliation,
    reviews,
    sms,
    staff_actions,
    subscriptions,
    uploads,
)

log = logging.getLogger("orderhub")

ROUTERS = [
    health.router,
    hosts.router,
    openapi.router,
    auth.router,
    catalog.router,
    providers.router,
    nearby.router,
    orders.router,
    payments.router,
    reviews.router,
    sms.router,
    complaints.router,
    contact.router,
    earnings.router,
    reconciliation.router,
    dispatch.router,
    subscriptions.router,
    coupons.router,
    dashboard.router,
    order_search.router,
    alerts.router,
    staff_actions.router,
]


def endpoints():
    return [ep for r in ROUTERS for ep in r.endpoints]


@dataclass(frozen=True)
class Limits:
    login_per_min: int
    orders_per_min: int
    grabs_per_min: int  # per provider (the grab hall's fairness)


class Hub:
    """The services a request handler may use. Built once per process."""

    def __init__(self, settings: Settings, actors: ActorGateway):
        self.settings = settings
        self.actors = actors
        self.tokens = TokenService(
            secret_files.jwt_secret(settings.state_dir, settings.hub_secret), settings.token_ttl_s
        )
        self.vault = PhoneVault(secret_files.phone_key(settings.state_dir))
        self.wechat = WeChatLogin.for_settings(settings)  # its token shared in Redis
        self.limits = Limits(
            int(os.environ.get("HUB_LOGIN_PER_MIN", 600)),
            int(os.environ.get("HUB_ORDERS_PER_MIN", 60)),
            int(os.environ.get("HUB_GRABS_PER_MIN", 60)),
        )
        self._provider_ids: dict[int, int] = {}
        self._areas: list[dict] | None = None
        self.db: Database
        self.redis = redis_adapter.connect(settings.redis_url)
        self.keys = redis_adapter.Keys.for_database(settings.mysql_url)
        self.limiter = RateLimiter(self.redis, self.keys)
        self.pay = gateway_for(settings)  # WeChat Pay: prepay, paySign, notifications
        self.sms = SmsGateway(settings)  # Alibaba Cloud SMS: codes and staff alerts
        self.pls = PrivacyNumbers(settings)  # Alibaba Cloud privacy numbers: call records
        self.sms_codes = SmsCodes(
            self.redis,
            self.keys.ns,
            hashlib.sha256(b"sms-codes:" + secret_files.phone_key(settings.state_dir)).digest(),
        )

    async def provider_id(self, user_id: int) -> int | None:
        """The provider profile of a user (cached: it never changes once made)."""
        if (pid := self._provider_ids.get(user_id)) is not None:
            return pid
        row = await providers_db.for_user(self.db, user_id)
        if row is None:
            return None
        self._provider_ids[user_id] = row["id"]
        return row["id"]

    async def area_at(self, lat: float, lng: float) -> dict | bool | None:
        """The active area containing the point; None when no areas are set up; False when
        areas exist and the point is in none of them."""
        return await catalog_db.area_at(self.db, lat, lng)


def create_app(settings: Settings, actors: ActorGateway):
    hub = Hub(settings, actors)
    channel = channel_for(MysqlDsn.parse(settings.mysql_url).database)
    # the hosts' events; after Redis is lost, sockets are dropped to resync (hub/fanout.py)
    realtime = Realtime(hub, ResyncingRedisManager(settings.redis_url, channel=channel))
    hub.sio = realtime.sio
    metrics.install(hub, realtime.sio)  # /metrics: sockets, events, Redis (hub/metrics.py)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        hub.db = await Database.connect(settings.mysql_url, maxsize=20)
        metrics.instrument_db(hub.db)
        hub.orders = OrderStore(hub.db)
        hub.payments = PaymentStore(hub.db)
        hub.notifier = Notifier(settings, SubscriptionStore(hub.db), hub.redis, hub.keys)
        tasks = [
            asyncio.create_task(actors.run_batcher()),
            asyncio.create_task(actors.run_supervisor()),
            asyncio.create_task(metrics.run_socket_counter(realtime.sio)),
            asyncio.create_task(realtime.keep_presence()),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await hub.db.close()
            await hub.redis.aclose()
            await hub.pay.close()
            metrics.stop()

    app = Starlette(
        routes=to_starlette(endpoints()) + exports.routes() + uploads.routes() + console.routes(),
        exception_handlers={
            ApiError: api_error_handler,
            HTTPException: http_error_handler,
            **dict.fromkeys(store_errors(), store_error_handler),  # 503 while one restarts
            Exception: unexpected_error_handler,
        },
        lifespan=lifespan,
    )
    app.state.hub = hub
    app.state.endpoints = endpoints()
    asgi = socketio.ASGIApp(realtime.sio, other_asgi_app=app, socketio_path="/socket.io")
    return metrics.Observed(asgi, hub, realtime.sio)  # /metrics, request ids, HTTP figures
