"""``python -m load``: run a scenario against a hub, bench the hub against a bare relay, or
serve the relay.

    python -m load run --providers 2000 --customers 500 --rate 10/s --duration 5m
    python -m load run --scenario grab-storm --providers 1000 --duration 2m
    python -m load run --own-hub --duration 2m --pay-faults lost=0.1,duplicate=0.1
    python -m load bench
    python -m load relay --port 8099
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

from load.run_args import add_run_args, config_from
from load.summary import print_summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="drive a running hub with a scenario")
    add_run_args(run)
    run.add_argument(
        "--own-hub",
        action="store_true",
        help="start a throw-away hub for the run (sandbox and hub on free ports, a fresh"
        " database, Redis db 13) and stop it after; --hub, --sandbox, --mysql-url unused",
    )
    run.add_argument(
        "--hub-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="with --own-hub: a setting of that hub, e.g. HUB_PAY_QUERY_S=5 (repeatable)",
    )
    bench = sub.add_parser("bench", help="the same fixed scenario against the hub and a relay")
    add_run_args(bench)
    bench.add_argument("--relay-port", type=int, default=0)
    bench.add_argument("--relay-only", action="store_true", help="skip the hub (smoke test)")
    relay = sub.add_parser("relay", help="serve the bare python-socketio relay")
    relay.add_argument("--host", default="127.0.0.1")
    relay.add_argument("--port", type=int, default=8099)
    args = ap.parse_args(argv)

    # Imported on demand: `relay` needs no run machinery, `run` no relay.
    if args.cmd == "relay":
        from load.relay import serve

        serve(args.host, args.port)
        return 0
    if args.cmd == "bench":
        from load.bench import bench_main

        return bench_main(args)

    from load.runner import run_load

    try:
        cfg = config_from(args)
    except ValueError as e:
        ap.error(str(e))
    if bad := [kv for kv in args.hub_env if "=" not in kv]:
        ap.error(f"--hub-env {bad[0]!r}: NAME=VALUE")
    own = None
    try:
        if args.own_hub:
            own = _own_hub(args.hub_env)
            cfg = own.config(cfg)
        report = asyncio.run(run_load(cfg, use_mysql=not args.no_db_checks))
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print(f"\nerror: {e}", file=sys.stderr)
        return 2
    finally:
        if own is not None:
            own.stop()
    print_summary(report)
    return 0 if report["ok"] else 1


def _own_hub(settings: list[str]):
    from load.own_hub import OwnHub

    logdir = Path(tempfile.mkdtemp(prefix="orderhub-run-"))
    print(f"[run] starting a throw-away hub (logs in {logdir}) ...", flush=True)
    own = OwnHub(logdir, **dict(kv.split("=", 1) for kv in settings))
    try:
        own.start()
    except BaseException:
        own.stop()
        raise
    return own


if __name__ == "__main__":
    sys.exit(main())
