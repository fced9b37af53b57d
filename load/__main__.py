"""``python -m load``: run a scenario against a hub, bench the hub against a bare relay, or
serve the relay.

    python -m load run --providers 2000 --customers 500 --rate 10/s --duration 5m
    python -m load run --scenario grab-storm --providers 1000 --duration 2m
    python -m load bench
    python -m load relay --port 8099
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from load.city import parse_centre, parse_duration, parse_mix, parse_rate
from load.config import RunConfig
from load.scenarios import SCENARIOS


def add_run_args(p: argparse.ArgumentParser) -> None:
    d = RunConfig()
    p.add_argument("--hub", default=d.hub, help="the hub's base URL (default %(default)s)")
    p.add_argument("--scenario", choices=SCENARIOS, default="steady")
    p.add_argument("--providers", type=int, default=d.providers)
    p.add_argument("--customers", type=int, default=d.customers)
    p.add_argument(
        "--rate", default="1/s", help="orders per second, e.g. 10/s or 600/m (the peak for rush)"
    )
    p.add_argument("--duration", default="1m", help="how long the load runs, e.g. 30s, 5m")
    p.add_argument("--procs", type=int, default=1, help="load-generating worker processes")
    p.add_argument("--cadence", default="4s", help="seconds between a provider's location updates")
    p.add_argument(
        "--time-scale",
        type=float,
        default=d.time_scale,
        help="work durations (travel, the job) are divided by this",
    )
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
    p.add_argument("--mix", default="grab=60,auto=30,direct=10", help="dispatch mode mix")
    p.add_argument("--urgent", type=float, default=d.urgent, help="share of urgent orders")
    p.add_argument("--quote", type=float, default=d.quote, help="share of jobs with a quote")
    p.add_argument("--chat", type=float, default=d.chat, help="share of orders with chat")
    p.add_argument(
        "--cancel", type=float, default=d.cancel, help="share of orders cancelled by the customer"
    )
    p.add_argument(
        "--decline", type=float, default=d.decline, help="share of auto/direct offers declined"
    )
    p.add_argument(
        "--interest",
        type=float,
        default=d.interest,
        help="chance an idle provider goes for a grab offer",
    )
    p.add_argument(
        "--reaction", type=float, default=d.reaction, help="median human reaction time in seconds"
    )
    p.add_argument(
        "--reconnect-at",
        default="",
        help="comma-separated seconds into the run when every client drops",
    )
    p.add_argument(
        "--storm-every",
        type=float,
        default=d.storm_every,
        help="grab-storm: seconds between storm orders",
    )
    p.add_argument("--drain", type=float, default=d.drain)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--admin-user", default=d.admin_user)
    p.add_argument("--admin-password", default=d.admin_password)
    p.add_argument(
        "--mysql-url",
        default=d.mysql_url,
        help="for the checks: the hub's database (default $MYSQL_URL)",
    )
    p.add_argument(
        "--no-db-checks",
        action="store_true",
        help="skip the MySQL checks (client-side checks still run)",
    )
    p.add_argument("--report-dir", default=d.report_dir)
    p.add_argument(
        "--name-prefix",
        default=d.name_prefix,
        help="user names are sandbox-<prefix>-p-<i> / -c-<i>",
    )
    p.add_argument(
        "--hub-pid",
        type=int,
        default=None,
        help="pid of the hub (for its CPU); found from the port when local",
    )
    p.add_argument("--label", default="")
    p.add_argument("--quiet", action="store_true")


def config_from(args: argparse.Namespace) -> RunConfig:
    return RunConfig(
        hub=args.hub,
        scenario=args.scenario,
        providers=args.providers,
        customers=args.customers,
        rate=parse_rate(args.rate),
        duration=parse_duration(args.duration),
        procs=args.procs,
        cadence=parse_duration(args.cadence),
        time_scale=args.time_scale,
        centre=parse_centre(args.centre),
        radius_m=args.radius,
        seed=args.seed,
        mix=parse_mix(args.mix),
        urgent=args.urgent,
        quote=args.quote,
        chat=args.chat,
        cancel=args.cancel,
        decline=args.decline,
        interest=args.interest,
        reaction=args.reaction,
        drain=args.drain,
        reconnect_at=[parse_duration(x) for x in args.reconnect_at.split(",") if x.strip()],
        storm_every=args.storm_every,
        admin_user=args.admin_user,
        admin_password=args.admin_password,
        mysql_url=args.mysql_url,
        report_dir=args.report_dir,
        name_prefix=args.name_prefix,
        hub_pid=args.hub_pid,
        quiet=args.quiet,
        label=args.label,
    )


def print_summary(report: dict) -> None:
    from load.checks import CHECKS

    print()
    print(f"== {report['config']['scenario']}: " + ("PASS" if report["ok"] else "FAIL") + " ==")
    for name in CHECKS:
        print(f"  {name:<42} {report['checks']['counts'].get(name)}")
    print("  latency ms                               count     p50     p95     p99")
    for name, s in report["summary"].items():
        if name.startswith("REST ") and name != "REST call":
            continue
        print(f"  {name[:38]:<38} {s['count']:>9} {_f(s['p50'])} {_f(s['p95'])} {_f(s['p99'])}")
    skipped = report["counters"].get("orders skipped (every customer busy)", 0)
    if skipped:
        print(
            f"  note: {skipped} orders were not placed because every customer already had two"
            " open orders: add --customers (or raise --time-scale) to reach --rate"
        )
    errs = report["errors"]
    if errs:
        print("  errors: " + ", ".join(f"{k} ×{v}" for k, v in list(errs.items())[:8]))
    c = report["contention"]
    if c.get("orders"):
        print(f"  contention: {c}")
    cap = report.get("capacity")
    if report["config"]["scenario"] == "ramp" and cap:
        for row in cap["windows"]:
            print("  ramp " + ", ".join(f"{k} {v}" for k, v in row.items()))
        print("  " + ", ".join(f"{k}: {v}" for k, v in cap.items() if k != "windows"))
    storm = report.get("grab_storm")
    if storm:
        for row in storm["orders"]:
            print("  storm order " + ", ".join(f"{k} {v}" for k, v in row.items()))
    print(f"  cpu: {report['cpu']}")
    print(f"  report: {report['files']['html']}  {report['files']['json']}")


def _f(v) -> str:
    return f"{v:>7.1f}" if isinstance(v, int | float) else f"{'-':>7}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="drive a running hub with a scenario")
    add_run_args(run)
    bench = sub.add_parser("bench", help="the same fixed scenario against the hub and a relay")
    add_run_args(bench)
    bench.add_argument("--relay-port", type=int, default=0)
    bench.add_argument("--relay-only", action="store_true", help="skip the hub (smoke test)")
    relay = sub.add_parser("relay", help="serve the bare python-socketio relay")
    relay.add_argument("--host", default="127.0.0.1")
    relay.add_argument("--port", type=int, default=8099)
    args = ap.parse_args(argv)

    if args.cmd == "relay":
        from load.relay import serve

        serve(args.host, args.port)
        return 0
    if args.cmd == "bench":
        from load.bench import bench_main

        return bench_main(args, config_from)

    from load.runner import run_load

    cfg = config_from(args)
    try:
        report = asyncio.run(run_load(cfg, use_mysql=not args.no_db_checks))
    except RuntimeError as e:
        print(f"\nerror: {e}", file=sys.stderr)
        return 2
    print_summary(report)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
