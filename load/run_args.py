"""The flags of ``python -m load run`` and ``python -m load bench``, and the RunConfig they
make."""

from __future__ import annotations

import argparse

from load.city import parse_centre, parse_duration, parse_mix, parse_rate
from load.config import RunConfig
from load.pay_checks import parse_pay_faults
from load.scenarios import SCENARIOS

# Flags whose value goes to RunConfig as it is: (flag, its type, help). The default is
# RunConfig's; the RunConfig field is the flag's name with "_" for "-".
PLAIN = (
    ("--providers", int, None),
    ("--customers", int, None),
    ("--procs", int, "load-generating worker processes"),
    ("--time-scale", float, "work durations (travel, the job) are divided by this"),
    ("--urgent", float, "share of urgent orders"),
    ("--quote", float, "share of jobs with a quote"),
    ("--chat", float, "share of orders with chat"),
    ("--cancel", float, "share of orders cancelled by the customer"),
    ("--decline", float, "share of auto/direct offers declined"),
    ("--interest", float, "chance an idle provider goes for a grab offer"),
    ("--reaction", float, "median human reaction time in seconds"),
    ("--storm-every", float, "grab-storm: seconds between storm orders"),
    (
        "--sandbox",
        str,
        "the WeChat sandbox the hub pays through: its cashier pays (default $WECHAT_PAY_BASE,"
        " else port $WECHAT_SANDBOX_PORT or 8100 here); '' pays nothing",
    ),
    (
        "--pay-check",
        float,
        "seconds without the paid event before GET /api/payments/{id} (0: never asks)",
    ),
    ("--pay-settle", float, "checks: the most seconds to wait for WeChat's paid trades"),
    ("--refund", float, "share of paid orders staff partly refund"),
    ("--review", float, "share of completed orders reviewed"),
    ("--drain", float, None),
    ("--seed", int, None),
    ("--admin-user", str, None),
    ("--admin-password", str, None),
    ("--mysql-url", str, "for the checks: the hub's database (default $MYSQL_URL)"),
    ("--report-dir", str, None),
    ("--name-prefix", str, "user names are sandbox-<prefix>-p-<i> / -c-<i>"),
    ("--label", str, None),
)
# Flags given as text and parsed: (flag, default text, help).
PARSED = (
    ("--rate", "1/s", "orders per second, e.g. 10/s or 600/m (the peak for rush)"),
    ("--duration", "1m", "how long the load runs, e.g. 30s, 5m"),
    ("--cadence", "4s", "seconds between a provider's location updates"),
    ("--mix", "grab=60,auto=30,direct=10", "dispatch mode mix"),
    ("--reconnect-at", "", "comma-separated seconds into the run when every client drops"),
    (
        "--pay-faults",
        "",
        "the sandbox's fault rates for the run, e.g. lost=0.1,duplicate=0.1,late=0.05:delay_s=70",
    ),
    ("--pay-mix", "success=90,cancel=6,fail=4", "outcomes at the cashier"),
)


def dest(flag: str) -> str:
    return flag.removeprefix("--").replace("-", "_")


def add_run_args(p: argparse.ArgumentParser) -> None:
    d = RunConfig()
    p.add_argument("--hub", default=d.hub, help="the hub's base URL (default %(default)s)")
    p.add_argument("--scenario", choices=SCENARIOS, default=d.scenario)
    for flag, kind, text in PLAIN:
        p.add_argument(flag, type=kind, default=getattr(d, dest(flag)), help=text)
    for flag, default, text in PARSED:
        p.add_argument(flag, default=default, help=text)
    p.add_argument(
        "--city-centre",
        "--city-center",
        dest="centre",
        default=f"{d.centre[0]},{d.centre[1]}",
        help="lat,lng (default Haikou)",
    )
    p.add_argument(
        "--radius",
        type=float,
        default=d.radius_m,
        help="metres around the centre where providers and orders are",
    )
    p.add_argument(
        "--no-db-checks",
        action="store_true",
        help="skip the MySQL checks (client-side checks still run)",
    )
    p.add_argument(
        "--hub-pid",
        type=int,
        default=None,
        help="pid of the hub (for its CPU); found from the port when local",
    )
    p.add_argument("--quiet", action="store_true")


def config_from(args: argparse.Namespace) -> RunConfig:
    return RunConfig(
        **{dest(flag): getattr(args, dest(flag)) for flag, _, _ in PLAIN},
        hub=args.hub,
        scenario=args.scenario,
        rate=parse_rate(args.rate),
        duration=parse_duration(args.duration),
        cadence=parse_duration(args.cadence),
        mix=parse_mix(args.mix),
        pay_mix=parse_mix(args.pay_mix, ("success", "cancel", "fail"), "cashier outcome"),
        pay_faults=parse_pay_faults(args.pay_faults),
        reconnect_at=[parse_duration(x) for x in args.reconnect_at.split(",") if x.strip()],
        centre=parse_centre(args.centre),
        radius_m=args.radius,
        hub_pid=args.hub_pid,
        quiet=args.quiet,
    )
