"""Settings, read once from the environment (CONTRACT §1)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

SANDBOX_APPID = "wx5a4d0c0ffee0hub1"
SANDBOX_SECRET = "sandbox-app-secret-change-me"
# The sandbox's 待支付提醒 template (sandbox/subscribe.py PAYMENT_DUE); production sets its own.
SANDBOX_TEMPLATE_PAYMENT_DUE = "OhPayDue-uPc3lzyYBJOPqyiQoLe48OcjgcVnzSmsJT"
# Every subscribe-message template the hub sends (CONTRACT §13's template keys) → the
# sandbox's id (sandbox/subscribe.py); production sets each with WECHAT_TEMPLATE_<KEY>.
SANDBOX_TEMPLATES = {
    "order_accepted": "OhAccept-MJrNwlsnyWB37ukDsl0XCmOCYwGri2XurU",
    "order_departed": "OhDepart-kiLNvpiPFFBBcF9vdh4O9BFQ6xOZLNRq4S",
    "order_arrived": "OhArrive-qjZ9SnbGTrv4xhsEkTUps8GPyF7e23jV2P",
    "order_completed": "OhDone-FFVontxsoSNWGIVqJwjIHIGQ4RItDAjmNO3Y",
    "payment_due": SANDBOX_TEMPLATE_PAYMENT_DUE,
    "job_reminder": "OhJobTmr-Gd55i0i28JuUniMiRGAsJooV2E2LyjTtiT",
    "withdrawal_result": "OhWithdr-BWYijwvBB6EDKIUWCUqJQhfskzKQcCCOsx",
}


@dataclass(frozen=True)
class Settings:
    """Every field may come from the environment variable `ENV` names for it."""

    host: str = "127.0.0.1"
    port: int = 8000
    mysql_url: str = "mysql://root@127.0.0.1:3306/orderhub"
    redis_url: str = "redis://127.0.0.1:6379/0"
    ray_address: str | None = None
    wechat_api_base: str = "http://127.0.0.1:8100"
    wechat_pay_base: str = "http://127.0.0.1:8100"
    wechat_appid: str = SANDBOX_APPID
    wechat_secret: str = SANDBOX_SECRET
    # Absolute: Ray hosts read it too, from whatever directory their worker runs in.
    state_dir: Path = field(default_factory=lambda: Path("var").resolve())
    hub_secret: str | None = None
    # hub processes serving the port (hub/workers.py); 0: one per core
    workers: int = 0
    admin_user: str = "admin"
    admin_password: str | None = None
    # actors
    placement: str = "sharded"
    hosts: int = 2
    location_tick_s: float = 0.025
    # the hosts' GC (adapters/stalls.py): 0 keeps Python's; > 0 raises the thresholds, freezes
    # the heap once loaded and the young survivors every that many seconds (docs/profile.md:
    # at 5,000 providers the hosts' GC pauses went from 2.6 s in 4 minutes to 0.15 s)
    host_gc_freeze_s: float = 10.0
    offer_ttl_s: float = 60.0
    order_expiry_s: float = 900.0
    heartbeat_timeout_s: float = 30.0
    grab_radius_m: float = 5000.0
    max_offers: int = 2000
    # Alibaba Cloud SMS and privacy numbers (docs/aliyun-sandbox.md): the local sandbox by
    # default; AccessKey from the environment, else generated in the state dir
    aliyun_sms_base: str = "http://127.0.0.1:8100"
    aliyun_pls_base: str = "http://127.0.0.1:8100"
    aliyun_access_key_id: str | None = None
    aliyun_access_key_secret: str | None = None
    sms_sign_name: str = "到家服务"
    sms_template_code: str = "SMS_480100001"
    sms_template_alert: str = "SMS_480100002"
    pls_pool_key: str = "FC100000000000001"
    # a binding expires at Alibaba Cloud at accept + life + grace (a net under the release the
    # hub makes when the order ends: a lost release cannot keep a number bound for ever)
    axb_life_s: float = 8 * 3600.0
    axb_grace_s: float = 3600.0
    token_ttl_s: int = 7 * 24 * 3600
    # payments
    public_url: str | None = None  # how WeChat reaches the hub (notify URLs); else host:port
    pay_ttl_s: float = 900.0  # an unpaid prepay is closed after this
    pay_query_s: float = 15.0  # an open payment is asked about this often
    earnings_hold_s: float = 7 * 24 * 3600.0  # a provider's earnings are withdrawable after
    # reminders of unpaid completed orders: seconds after completion, one per interval
    pay_reminders_s: str = "86400,259200,604800"
    wechat_template_payment_due: str = SANDBOX_TEMPLATE_PAYMENT_DUE
    # a provider hears of a scheduled job this long before its slot (subscribe message)
    job_remind_before_s: float = 86400.0
    wechat_template_order_accepted: str = SANDBOX_TEMPLATES["order_accepted"]
    wechat_template_order_departed: str = SANDBOX_TEMPLATES["order_departed"]
    wechat_template_order_arrived: str = SANDBOX_TEMPLATES["order_arrived"]
    wechat_template_order_completed: str = SANDBOX_TEMPLATES["order_completed"]
    wechat_template_job_reminder: str = SANDBOX_TEMPLATES["job_reminder"]
    wechat_template_withdrawal_result: str = SANDBOX_TEMPLATES["withdrawal_result"]

    @property
    def templates(self) -> dict[str, str]:
        """Template key (CONTRACT §13) → the WeChat template id it is sent with."""
        return {key: getattr(self, f"wechat_template_{key}") for key in SANDBOX_TEMPLATES}

    @property
    def public_base(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @classmethod
    def from_env(cls) -> Settings:
        """Fields whose variable is set (and not empty), converted to the field's type."""
        values = {}
        for f in fields(cls):
            raw = os.environ.get(ENV.get(f.name, ""), "")
            if raw:
                values[f.name] = _PARSE.get(f.type, str)(raw)
        return cls(**values)


# Field → environment variable (CONTRACT §1 and README); max_offers has none.
ENV = {
    "host": "HUB_HOST",
    "port": "HUB_PORT",
    "mysql_url": "MYSQL_URL",
    "redis_url": "REDIS_URL",
    "ray_address": "RAY_ADDRESS",
    "wechat_api_base": "WECHAT_API_BASE",
    "wechat_pay_base": "WECHAT_PAY_BASE",
    "wechat_appid": "WECHAT_APPID",
    "wechat_secret": "WECHAT_SECRET",
    "state_dir": "ORDERHUB_STATE_DIR",
    "hub_secret": "HUB_SECRET",
    "workers": "HUB_WORKERS",
    "admin_user": "HUB_ADMIN_USER",
    "admin_password": "HUB_ADMIN_PASSWORD",
    "placement": "HUB_PLACEMENT",
    "hosts": "HUB_HOSTS",
    "location_tick_s": "HUB_LOCATION_TICK_S",
    "host_gc_freeze_s": "HUB_HOST_GC_FREEZE_S",
    "offer_ttl_s": "HUB_OFFER_TTL_S",
    "order_expiry_s": "HUB_ORDER_EXPIRY_S",
    "heartbeat_timeout_s": "HUB_HEARTBEAT_TIMEOUT_S",
    "grab_radius_m": "HUB_GRAB_RADIUS_M",
    "token_ttl_s": "HUB_TOKEN_TTL_S",
    "aliyun_sms_base": "ALIYUN_SMS_BASE",
    "aliyun_pls_base": "ALIYUN_PLS_BASE",
    "aliyun_access_key_id": "ALIYUN_ACCESS_KEY_ID",
    "aliyun_access_key_secret": "ALIYUN_ACCESS_KEY_SECRET",
    "sms_sign_name": "ALIYUN_SMS_SIGN_NAME",
    "sms_template_code": "ALIYUN_SMS_TEMPLATE_CODE",
    "sms_template_alert": "ALIYUN_SMS_TEMPLATE_ALERT",
    "pls_pool_key": "ALIYUN_PLS_POOL_KEY",
    "axb_life_s": "HUB_AXB_LIFE_S",
    "axb_grace_s": "HUB_AXB_GRACE_S",
    "public_url": "HUB_PUBLIC_URL",
    "pay_ttl_s": "HUB_PAY_TTL_S",
    "pay_query_s": "HUB_PAY_QUERY_S",
    "earnings_hold_s": "HUB_EARNINGS_HOLD_S",
    "pay_reminders_s": "HUB_PAY_REMINDERS_S",
    "wechat_template_payment_due": "WECHAT_TEMPLATE_PAYMENT_DUE",
    "job_remind_before_s": "HUB_JOB_REMIND_BEFORE_S",
    **{f"wechat_template_{key}": f"WECHAT_TEMPLATE_{key.upper()}" for key in SANDBOX_TEMPLATES},
}
# Field types as written (annotations are strings under `from __future__ import annotations`).
_PARSE = {"int": int, "float": float, "Path": lambda raw: Path(raw).resolve()}
