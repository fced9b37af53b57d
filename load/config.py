"""The run's settings (one dataclass, picklable, shared by the parent and the workers)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from load.city import HAIKOU


def default_admin_password() -> str | None:
    pw = os.environ.get("HUB_ADMIN_PASSWORD")
    if pw:
        return pw
    state = Path(os.environ.get("ORDERHUB_STATE_DIR", "var")) / "admin-password"
    try:
        return state.read_text().strip() or None
    except OSError:
        return None


def default_sandbox() -> str:
    """The WeChat sandbox the hub pays through, as `make run` points it: $WECHAT_PAY_BASE,
    else port $WECHAT_SANDBOX_PORT (8100) on this machine."""
    base = os.environ.get("WECHAT_PAY_BASE")
    if base:
        return base.rstrip("/")
    return f"http://127.0.0.1:{os.environ.get('WECHAT_SANDBOX_PORT', '8100')}"


@dataclass
class RunConfig:
    hub: str = "http://127.0.0.1:8000"
    scenario: str = "steady"
    providers: int = 200
    customers: int = 50
    rate: float = 1.0  # orders per second (the peak for "rush")
    duration: float = 60.0  # seconds of load, after set-up
    procs: int = 1
    cadence: float = 4.0  # seconds between location updates
    time_scale: float = 30.0  # work durations are divided by this
    centre: tuple[float, float] = HAIKOU
    radius_m: float = 4000.0  # providers and orders are placed within this of the centre
    seed: int = 1
    mix: dict[str, float] = field(default_factory=lambda: {"grab": 0.6, "auto": 0.3, "direct": 0.1})
    urgent: float = 0.2
    quote: float = 0.3  # share of jobs where the provider quotes and the customer confirms
    chat: float = 0.5  # share of orders where the customer writes to the provider
    cancel: float = 0.03  # share of orders the customer cancels while pending
    decline: float = 0.1  # share of auto/direct offers a provider declines
    interest: float = 0.1  # chance an idle provider goes for a grab offer it sees
    reaction: float = 1.5  # median human reaction time, seconds
    drain: float = 5.0  # seconds after the load stops before the final checks
    reconnect_at: list[float] = field(default_factory=list)  # seconds into the run
    storm_every: float = 15.0  # grab-storm: a new storm order every N seconds
    # payments (CONTRACT §6) through the sandbox's cashier, and reviews (§8)
    sandbox: str = field(default_factory=default_sandbox)  # "": no cashier, nothing is paid
    pay_mix: dict[str, float] = field(
        default_factory=lambda: {"success": 0.9, "cancel": 0.06, "fail": 0.04}
    )
    pay_faults: dict[str, dict] = field(default_factory=dict)  # the sandbox's fault rates
    pay_check: float = 5.0  # seconds without the `paid` event before GET /api/payments/{id}
    pay_settle: float = 45.0  # checks: how long WeChat's paid trades may take to be paid here
    refund: float = 0.05  # share of paid orders that staff partly refund (asked twice at once)
    review: float = 0.7  # share of completed orders the customer reviews
    admin_user: str = field(default_factory=lambda: os.environ.get("HUB_ADMIN_USER", "admin"))
    admin_password: str | None = field(default_factory=default_admin_password)
    mysql_url: str = field(
        default_factory=lambda: os.environ.get("MYSQL_URL", "mysql://root@127.0.0.1:3306/orderhub")
    )
    report_dir: str = "reports"
    name_prefix: str = "load"
    setup_concurrency: int = 24
    hub_pid: int | None = None
    quiet: bool = False
    label: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("admin_password", None)
        return d
