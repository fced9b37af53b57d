"""``python -m load bench``: one fixed scenario against the hub, then against a bare
python-socketio relay (load/relay.py), with the same clients and the same load in the same
invocation; prints hub/relay throughput and latency ratios.

If no hub answers at ``--hub``, the bench starts its own (WeChat sandbox + ``python -m
hub`` on free ports, a fresh database ``orderhub_bench_<random>`` dropped afterwards, Redis
db 13 flushed first) and stops it afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import orjson

from load.report import CLIENT_SERIES

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
COMPARE = (*CLIENT_SERIES, "location.update ack", "generator loop lag")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/health", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


def _wait(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        if _healthy(url):
            return
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not become healthy in {timeout:.0f}s")


def _spawn(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        args, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


class OwnHub:
    """A throw-away hub for the bench when none is running."""

    def __init__(self, logdir: Path):
        self.logdir = logdir
        self.procs: list[subprocess.Popen] = []
        self.port = _free_port()
        sandbox_port = _free_port()
        self.password = secrets.token_urlsafe(12)
        base = os.environ.get("MYSQL_URL", "mysql://root@127.0.0.1:3306/orderhub")
        self.database = f"orderhub_bench_{secrets.token_hex(4)}"  # its own, dropped after
        self.mysql_url = base.rsplit("/", 1)[0] + "/" + self.database
        self.env = {
            **os.environ,
            "MYSQL_URL": self.mysql_url,
            "REDIS_URL": "redis://127.0.0.1:6379/13",
            "HUB_PORT": str(self.port),
            "WECHAT_SANDBOX_PORT": str(sandbox_port),
            "WECHAT_API_BASE": f"http://127.0.0.1:{sandbox_port}",
            "WECHAT_PAY_BASE": f"http://127.0.0.1:{sandbox_port}",
            "HUB_ADMIN_PASSWORD": self.password,
            "ORDERHUB_STATE_DIR": str(logdir / "state"),
            "HUB_LOGIN_PER_MIN": "1000000",
            "HUB_ORDERS_PER_MIN": "100000",
            "RAY_AUTH_MODE": "disabled",
            "PYTHONUNBUFFERED": "1",
        }
        self.url = f"http://127.0.0.1:{self.port}"
        self.sandbox_url = f"http://127.0.0.1:{sandbox_port}"

    def start(self) -> None:
        import redis

        redis.Redis.from_url(self.env["REDIS_URL"]).flushdb()
        sb = _spawn([sys.executable, "-m", "sandbox"], self.env, self.logdir / "sandbox.log")
        self.procs.append(sb)
        subprocess.run(
            [sys.executable, "-m", "hub", "seed"],
            env=self.env,
            check=True,
            stdout=(self.logdir / "seed.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        hub = _spawn([sys.executable, "-m", "hub"], self.env, self.logdir / "hub.log")
        self.procs.append(hub)
        _wait(self.url, hub, 240)

    def stop(self) -> None:
        for p in reversed(self.procs):
            _stop(p)
        self.procs = []
        with contextlib.suppress(Exception):
            import pymysql

            from load.checks import _mysql_params

            params = _mysql_params(self.mysql_url)
            params.pop("db")
            conn = pymysql.connect(**params, autocommit=True)
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{self.database}`")
            conn.close()


def bench_main(args, config_from) -> int:
    from load.__main__ import print_summary
    from load.runner import run_load

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
            if not _healthy(cfg.hub):
                print(f"[bench] no hub at {cfg.hub}: starting one (logs in {logdir}) ...")
                own = OwnHub(logdir)
                own.start()
                cfg = replace(
                    cfg,
                    hub=own.url,
                    admin_password=own.password,
                    mysql_url=own.mysql_url,
                    hub_pid=None,
                )
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
        port = args.relay_port or _free_port()
        relay_url = f"http://127.0.0.1:{port}"
        relay = _spawn(
            [sys.executable, "-m", "load", "relay", "--port", str(port)],
            dict(os.environ),
            logdir / "relay.log",
        )
        _wait(relay_url, relay, 60)
        print(f"[bench] 2/2 relay at {relay_url}")
        reports["relay"] = asyncio.run(
            run_load(
                replace(
                    cfg, hub=relay_url, hub_pid=relay.pid, admin_password="relay", label="relay"
                ),
                use_mysql=False,
                stem=f"bench-relay-{time.strftime('%Y%m%d-%H%M%S')}",
            )
        )
        print_summary(reports["relay"])
    finally:
        _stop(relay)
        if own is not None:
            own.stop()
    table = compare(reports)
    print()
    print(render_table(table, cfg))
    out = Path(cfg.report_dir) / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(
        orjson.dumps(
            {
                "config": cfg.to_dict(),
                "comparison": table,
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
