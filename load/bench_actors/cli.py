"""``python -m load.bench_actors``: the flags, one stack per phase, the report."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import ray

from adapters.mysql import MysqlDsn
from load.bench_actors.basics import iso_ms, say
from load.bench_actors.locations import locations_phase
from load.bench_actors.memory import memory_phase
from load.bench_actors.meters import machine_snapshot
from load.bench_actors.stack import Stack
from load.bench_actors.table import table

FORBIDDEN_DATABASES = {"orderhub", "orderhub_test"}  # the demo's and the test suite's
FORBIDDEN_REDIS_DBS = {0, 15}  # the demo's and the test suite's
# The numeric flags, in --help's order: (flag, type, default, help).
NUMBERS = (
    ("--sharded-orders", int, 2000, "orders to create"),
    ("--sharded-providers", int, 2000, "providers to bring online"),
    ("--dedicated-orders", int, 30, "orders (each ~120 MB RSS: a process)"),
    ("--dedicated-providers", int, 30, "providers (likewise)"),
    ("--hosts", int, 2, "HUB_HOSTS of the sharded hubs"),
    ("--concurrency", int, 32, "requests in flight (sharded, locations)"),
    ("--dedicated-concurrency", int, 8, "requests in flight"),
    ("--customers", int, 100, "customers placing the orders"),
    ("--warmup", int, 10, "sharded: uncounted entities first"),
    ("--settle", float, 3.0, "seconds before reading memory"),
    ("--loc-providers", int, 200, "P: provider/watcher pairs"),
    ("--duration", float, 20.0, "seconds per rate step"),
    ("--drain", float, 5.0, "seconds to wait for stragglers"),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m load.bench_actors",
        description="Memory per entity, creation rate and location relay through a real hub.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--phases",
        default="sharded,dedicated,locations",
        help="comma-separated, any of: sharded, dedicated, locations",
    )
    for flag, kind, default, text in NUMBERS:
        p.add_argument(flag, type=kind, default=default, help=text)
    p.add_argument(
        "--rates",
        default="500,1000,2000",
        help="location updates per second (all providers together), one step each",
    )
    p.add_argument(
        "--mysql-url",
        default=os.environ.get("BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/orderhub_bench"),
        help="scratch database: DROPPED and re-created per phase (refused while in use)",
    )
    p.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
        help="scratch Redis db: FLUSHED per phase (refused while other clients use it)",
    )
    p.add_argument("--json", dest="json_out", help="also write every figure to this file")
    p.add_argument("--workdir", help="where logs go (default: a new temp dir, kept)")
    args = p.parse_args(argv)
    args.phases = [x.strip() for x in args.phases.split(",") if x.strip()]
    unknown = set(args.phases) - {"sharded", "dedicated", "locations"}
    if unknown:
        p.error(f"unknown phases {sorted(unknown)}")
    args.rates = [float(x) for x in args.rates.split(",") if x.strip()]
    if MysqlDsn.parse(args.mysql_url).database in FORBIDDEN_DATABASES:
        p.error("refusing to drop the demo or test database: pick a scratch one")
    redis_db = int(args.redis_url.rsplit("/", 1)[1]) if args.redis_url.count("/") >= 3 else 0
    if redis_db in FORBIDDEN_REDIS_DBS:
        p.error("refusing to flush Redis db 0 (demo) or 15 (tests): pick a scratch db")
    args.workdir = Path(args.workdir or tempfile.mkdtemp(prefix="orderhub-bench-"))
    args.workdir.mkdir(parents=True, exist_ok=True)
    return args


def run_phase(args, name: str) -> dict:
    placement = "dedicated" if name == "dedicated" else "sharded"
    stack = Stack(args, name, placement)
    try:
        stack.start()
        if name == "sharded":
            coro = memory_phase(
                stack, args.sharded_orders, args.sharded_providers, args.concurrency
            )
        elif name == "dedicated":
            coro = memory_phase(
                stack, args.dedicated_orders, args.dedicated_providers, args.dedicated_concurrency
            )
        else:
            coro = locations_phase(stack)
        result = asyncio.run(coro)
        result["hubLog"] = str(stack.hub_log)
        return result
    except Exception as exc:
        say(f"{name}: FAILED: {type(exc).__name__}: {exc} (hub log {stack.hub_log})")
        return {"error": f"{type(exc).__name__}: {exc}", "hubLog": str(stack.hub_log)}
    finally:
        say(f"{name}: stopping the stack …")
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    say(f"logs in {args.workdir}")
    report = {
        "startedAt": iso_ms(time.time()),
        "command": " ".join(
            ["python -m load.bench_actors", *(sys.argv[1:] if argv is None else argv)]
        ),
        "python": platform.python_version(),
        "ray": ray.__version__,
        "machine": {"cpus": os.cpu_count(), "start": machine_snapshot()},
        "config": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in vars(args).items()
            if k != "json_out"
        },
        "phases": {},
    }
    interrupted = False
    try:
        for name in args.phases:
            report["phases"][name] = run_phase(args, name)
    except KeyboardInterrupt:
        interrupted = True
        say("interrupted: reporting what was measured")
    report["machine"]["end"] = machine_snapshot()
    print()
    print(table(report))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2, ensure_ascii=False))
        say(f"figures written to {args.json_out}")
    failed = interrupted or any("error" in p for p in report["phases"].values())
    return 1 if failed else 0
