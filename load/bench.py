"""``python -m load bench``: one fixed scenario against the hub, then against a bare
python-socketio relay (load/relay.py), with the same clients and the same load in the same
invocation; prints hub/relay throughput and latency ratios.

If no hub answers at ``--hub``, the bench starts its own (load/own_hub.py: WeChat sandbox +
``python -m hub`` on free ports, a fresh database ``orderhub_bench_<random>`` dropped
afterwards, Redis db 13 flushed first) and stops it afterwards.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import orjson

from load.hub_stalls import line as stalls_line
from load.own_hub import OwnHub, healthy
from load.processes import PY, free_port, spawn, stop, wait_http
from load.run_args import config_from
from load.runner import run_load
from load.series import CLIENT_SERIES, PAY_SERIES
from load.summary import print_summary

# The fixed scenario (any of these can still be overridden on the command line).
BENCH_DEFAULTS = {
    "scenario": "steady",
    "providers": 300,
    "customers": 60,
    "rate": "3/s",
    "duration": "60s",
    "cadence": "2s",
    "time_scale": 60.0,
    "seed": 7,
    "name_prefix": "bench",
}
COMPARE = (*CLIENT_SERIES, *PAY_SERIES, "location.update ack", "generator loop lag")


def bench_main(args) -> int:
    argv = sys.argv[1:]
    for key, value in BENCH_DEFAULTS.items():
        flag = "--" + key.replace("_", "-")
        if not any(a == flag or a.startswith(flag + "=") for a in argv):
            setattr(args, key, value)
    cfg = config_from(args)
    logdir = Path(tempfile.mkdtemp(prefix="orderhub-bench-"))
    own: OwnHub | None = None
    relay = None
    reports = {}
    try:
        if not args.relay_only:
            if not healthy(cfg.hub):
                print(f"[bench] no hub at {cfg.hub}: starting one (logs in {logdir}) ...")
                own = OwnHub(logdir)
                own.start()
                cfg = own.config(cfg)
            print(f"[bench] 1/2 hub at {cfg.hub}")
            reports["hub"] = asyncio.run(
                run_load(
                    replace(cfg, label="hub"),
                    use_mysql=not args.no_db_checks,
                    stem=f"bench-hub-{time.strftime('%Y%m%d-%H%M%S')}",
                )
            )
            print_summary(reports["hub"])
            if own is not None:
                own.stop()
                own = None
        port = args.relay_port or free_port()
        relay_url = f"http://127.0.0.1:{port}"
        relay_log = logdir / "relay.log"
        relay = spawn([PY, "-m", "load", "relay", "--port", str(port)], os.environ, relay_log)
        wait_http(f"{relay_url}/api/health", 60, relay, relay_log)
        print(f"[bench] 2/2 relay at {relay_url}")
        reports["relay"] = asyncio.run(
            run_load(
                replace(
                    cfg,
                    hub=relay_url,
                    hub_pid=relay.pid,
                    admin_password="relay",
                    label="relay",
                    sandbox="",  # the relay takes no payments
                    pay_faults={},
                ),
                use_mysql=False,
                stem=f"bench-relay-{time.strftime('%Y%m%d-%H%M%S')}",
            )
        )
        print_summary(reports["relay"])
    finally:
        stop(relay, timeout=30)
        if own is not None:
            own.stop()
    table = compare(reports)
    print()
    print(render_table(table, cfg))
    print(stalls_line((reports.get("hub") or {}).get("hub_stalls")))
    out = Path(cfg.report_dir) / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(
        orjson.dumps(
            {
                "config": cfg.to_dict(),
                "comparison": table,
                "hub_stalls": (reports.get("hub") or {}).get("hub_stalls"),
                "reports": {k: r["files"] for k, r in reports.items()},
            },
            option=orjson.OPT_INDENT_2,
        )
    )
    print(f"[bench] comparison written to {out}")
    return 0 if all(r["ok"] for r in reports.values()) else 1


def compare(reports: dict) -> list[dict]:
    """Rows of (metric, hub, relay, ratio hub/relay)."""
    rows = []
    hub, relay = reports.get("hub"), reports.get("relay")

    def add(metric: str, h, r) -> None:
        ratio = (
            round(h / r, 2)
            if isinstance(h, int | float) and isinstance(r, int | float) and r
            else None
        )
        rows.append({"metric": metric, "hub": h, "relay": r, "hub/relay": ratio})

    def per_s(rep, key):
        return rep["counters_per_s"].get(key) if rep else None

    for key in (
        "socket msgs in",
        "socket msgs out",
        "rest",
        "orders won",
        "orders completed",
        "locations received",
        "payments paid",
    ):
        add(f"{key} per s", per_s(hub, key), per_s(relay, key))
    for s in COMPARE:
        for q in ("p50", "p99"):
            h = hub["summary"].get(s, {}).get(q) if hub else None
            r = relay["summary"].get(s, {}).get(q) if relay else None
            add(f"{s} {q} ms", h, r)
    add(
        "server CPU mean cores",
        hub["cpu"]["hub mean cores"] if hub else None,
        relay["cpu"]["hub mean cores"] if relay else None,
    )
    add(
        "generator CPU mean cores",
        hub["cpu"]["generator mean cores"] if hub else None,
        relay["cpu"]["generator mean cores"] if relay else None,
    )
    return rows


def render_table(rows: list[dict], cfg) -> str:
    head = (
        f"bench: {cfg.scenario}, {cfg.providers} providers, {cfg.customers} customers, "
        f"{cfg.rate:g}/s, {cfg.duration:.0f}s, cadence {cfg.cadence:g}s"
    )
    lines = [head, f"{'metric':<40} {'hub':>10} {'relay':>10} {'hub/relay':>10}"]
    for r in rows:
        lines.append(f"{r['metric'][:40]:<40} {_f(r['hub'])} {_f(r['relay'])} {_f(r['hub/relay'])}")
    return "\n".join(lines)


def _f(v) -> str:
    if v is None:
        return f"{'-':>10}"
    return f"{v:>10.2f}" if isinstance(v, float) else f"{v:>10}"
