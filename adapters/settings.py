"""Settings, read once from the environment (CONTRACT §1)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

SANDBOX_APPID = "wx5a4d0c0ffee0hub1"
SANDBOX_SECRET = "sandbox-app-secret-change-me"


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    mysql_url: str = "mysql://root@127.0.0.1:3306/orderhub"
    redis_url: str = "redis://127.0.0.1:6379/0"
    ray_address: str | None = None
    wechat_api_base: str = "http://127.0.0.1:8100"
    wechat_pay_base: str = "http://127.0.0.1:8100"
    wechat_appid: str = SANDBOX_APPID
    wechat_secret: str = SANDBOX_SECRET
    state_dir: Path = field(default_factory=lambda: Path("var"))
    hub_secret: str | None = None
    admin_user: str = "admin"
    admin_password: str | None = None
    # actors
    placement: str = "sharded"
    hosts: int = 2
    location_tick_s: float = 0.025
    offer_ttl_s: float = 60.0
    order_expiry_s: float = 900.0
    heartbeat_timeout_s: float = 30.0
    grab_radius_m: float = 5000.0
    max_offers: int = 2000
    token_ttl_s: int = 7 * 24 * 3600

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ.get
        return cls(
            host=env("HUB_HOST", cls.host),
            port=_int("HUB_PORT", cls.port),
            mysql_url=env("MYSQL_URL", cls.mysql_url),
            redis_url=env("REDIS_URL", cls.redis_url),
            ray_address=env("RAY_ADDRESS") or None,
            wechat_api_base=env("WECHAT_API_BASE", cls.wechat_api_base),
            wechat_pay_base=env("WECHAT_PAY_BASE", cls.wechat_pay_base),
            wechat_appid=env("WECHAT_APPID", cls.wechat_appid),
            wechat_secret=env("WECHAT_SECRET", cls.wechat_secret),
            state_dir=Path(env("ORDERHUB_STATE_DIR", "var")),
            hub_secret=env("HUB_SECRET") or None,
            admin_user=env("HUB_ADMIN_USER", cls.admin_user),
            admin_password=env("HUB_ADMIN_PASSWORD") or None,
            placement=env("HUB_PLACEMENT", cls.placement),
            hosts=_int("HUB_HOSTS", cls.hosts),
            location_tick_s=_float("HUB_LOCATION_TICK_S", cls.location_tick_s),
            offer_ttl_s=_float("HUB_OFFER_TTL_S", cls.offer_ttl_s),
            order_expiry_s=_float("HUB_ORDER_EXPIRY_S", cls.order_expiry_s),
            heartbeat_timeout_s=_float("HUB_HEARTBEAT_TIMEOUT_S", cls.heartbeat_timeout_s),
            grab_radius_m=_float("HUB_GRAB_RADIUS_M", cls.grab_radius_m),
            token_ttl_s=_int("HUB_TOKEN_TTL_S", cls.token_ttl_s),
        )
