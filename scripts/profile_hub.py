"""Profile the hub and a Ray host under location load (issue #15): flame graphs and a table.

    python scripts/profile_hub.py --providers 1000,3000 --seconds 30 --tag -after
    python scripts/profile_hub.py --providers 4000 --ramp 5m          # the ramp instead
    python scripts/profile_hub.py --providers 4000 --ramp 5m --hub-root /tmp/before  # a
        # `git worktree add --detach /tmp/before <commit>`: that commit's hub, today's load
    python scripts/profile_hub.py --table docs/profiles/hub-3000-before.txt.gz

Starts the WeChat sandbox and a hub on the scratch stores of the environment (MYSQL_URL,
REDIS_URL, ORDERHUB_STATE_DIR: use your own, the database is reused so reruns skip the
providers' sign-up), then for each provider count runs the load simulator (steady, 4 s cadence,
1 order/s, 2 generator processes) and, once that many providers are online, samples the hub
process and the busiest Ray host with py-spy (`pip install -e '.[profile]'`; needs ptrace: root) for
`--seconds`. Writes `<out>/{hub,host}-<n>.txt` (collapsed stacks) and `.svg` (flame graphs),
and prints where the samples fall (self time by area) with the machine's load average.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from load.metrics import ProcTreeCPU, proc_cpu_seconds  # noqa: E402
from load.processes import HubProcess, Stores, free_port, hub_env, start_sandbox  # noqa: E402

PY = sys.executable
PYSPY = str(Path(PY).with_name("py-spy"))

# Where a sample's innermost frames are: the first rule whose pattern a frame matches, looking
# from the innermost frame outwards, names the sample's area.
AREAS = (
    ("GC (cyclic collector)", r"gc_collect|collect_generation|gc_collect_main|deduce_unreachable"),
    ("pydantic validation", r"pydantic|validate_python|model_validate"),
    ("JSON encode/decode", r"orjson|jsonio\.py|json/"),
    ("Redis client", r"redis/"),
    ("Ray calls (client side)", r"ray/_private|ray/actor|_raylet|ray/util|ray/_common"),
    ("MySQL client", r"aiomysql|pymysql"),
    ("prometheus metrics", r"prometheus_client|hub/metrics\.py|actors/metrics\.py"),
    ("Socket.IO / Engine.IO", r"socketio/|engineio/|socket_edge\.py"),
    ("websockets / uvicorn / HTTP", r"websockets/|uvicorn/|httptools|h11|starlette/"),
    ("hub realtime handlers", r"hub/realtime\.py|hub/actor_gateway\.py"),
    ("host location tick", r"actors/host_providers\.py|actors/emit\.py|actors/privacy\.py"),
    ("provider actors, index", r"actors/(provider|candidates|geo|h3_index|placement)\.py"),
    ("other orderhub code", r"/(hub|actors|adapters)/"),
    ("asyncio / uvloop loop", r"asyncio/|uvloop|selectors|epoll"),
)


def area_of(stack: str) -> str:
    frames = stack.split(";")
    for frame in reversed(frames):
        for name, pattern in AREAS:
            if re.search(pattern, frame):
                return name
    return "other (interpreter, C)"


def summarise(collapsed: Path) -> list[tuple[str, int, float]]:
    """Self-time samples by area from py-spy's collapsed ("raw") output."""
    counts: Counter[str] = Counter()
    for line in _read(collapsed).splitlines():
        stack, _, n = line.rpartition(" ")
        if stack and n.isdigit():
            counts[area_of(stack)] += int(n)
    total = sum(counts.values()) or 1
    return [(a, n, 100 * n / total) for a, n in counts.most_common()]


def _read(path: Path) -> str:
    """Collapsed stacks, as py-spy wrote them or gzipped (docs/profiles keeps them so)."""
    return gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()


def table(paths: list[str]) -> None:
    """`--table FILE...`: the self-time-by-area table of stored profiles."""
    for path in paths:
        print(path)
        for name, samples, share in summarise(Path(path)):
            print(f"    {share:5.1f} %  {samples:6d}  {name}")


def ramp_table(paths: list[str]) -> None:
    """`--ramp-table REPORT.json...`: per ramp report, the most providers online while the p50
    and the p99 of location → watcher stayed under 100 ms (the report's own rule: two 10 s
    windows in a row over it end the search), deliveries, acks and the checks. On a saturated
    machine the p99 rule stops at the first windows; the p50 one still tells runs apart."""
    for path in paths:
        r = orjson.loads(Path(path).read_bytes())
        windows = r["capacity"]["windows"]
        best = {}
        for q in ("p50 ms", "p99 ms"):
            most, over = 0, 0
            for w in windows:
                ok = w["p50 ms"] is not None and w[q] is not None and w[q] < 100
                over = 0 if ok else over + 1
                if over >= 2:
                    break
                if ok:
                    most = max(most, w["providers online"])
            best[q] = most
        s = r["summary"]
        bad = {k: v for k, v in r["checks"]["counts"].items() if v}
        print(
            f"{Path(path).name}: most online with p50 < 100 ms {best['p50 ms']}, with p99 < 100"
            f" ms {best['p99 ms']}; location → watcher {s['location → watcher']['count']}"
            f" delivered, acks {s['location.update ack']['count']}; hub"
            f" {r['cpu']['hub mean cores']} cores, machine busy"
            f" {r['cpu'].get('machine mean busy (0-1)')}; checks not 0: {bad or 'none'}"
        )


def load_avg() -> str:
    return "load average {:.2f}, {:.2f}, {:.2f}".format(*os.getloadavg())


def host_pids(hub_pid: int) -> list[int]:
    """The Ray worker processes running an EntityHost under this hub's embedded Ray."""
    tree = ProcTreeCPU(hub_pid)
    tree.sample()
    found = []
    for pid in tree.last:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"EntityHost" in f.read():
                    found.append(pid)
        except OSError:
            continue
    return found


def busiest(pids: list[int]) -> int:
    """The pid that used the most CPU over two seconds."""
    before = {p: proc_cpu_seconds(p) or 0.0 for p in pids}
    time.sleep(2)
    return max(pids, key=lambda p: (proc_cpu_seconds(p) or 0.0) - before[p])


def pyspy(pid: int, seconds: int, out: Path) -> subprocess.Popen:
    """Collapsed stacks of `pid` over `seconds` (`out`.txt): only samples holding the GIL
    (Python's work, not waiting in epoll), native frames too (the GC is in C)."""
    return subprocess.Popen(
        [PYSPY, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "100",
         "--gil", "--native", "--format", "raw", "-o", f"{out}.txt"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def flamegraph(collapsed: Path, svg: Path, title: str) -> None:
    """A static SVG flame graph of collapsed stacks (root at the bottom; hover for names)."""
    root: dict = {"n": 0, "kids": {}}
    for line in _read(collapsed).splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        node = root
        node["n"] += int(n)
        for frame in stack.split(";"):
            node = node["kids"].setdefault(frame, {"n": 0, "kids": {}})
            node["n"] += int(n)
    width, row = 1800.0, 16
    rects: list[tuple] = []
    deepest = [0]

    def walk(node: dict, x: float, depth: int) -> None:
        for name, kid in sorted(node["kids"].items()):
            w = width * kid["n"] / max(1, root["n"])
            if w >= 0.5:
                deepest[0] = max(deepest[0], depth)
                rects.append((x, depth, w, name, kid["n"]))
                walk(kid, x, depth + 1)
            x += w

    walk(root, 0.0, 0)
    height = (deepest[0] + 3) * row
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height}"'
        f' font-family="monospace" font-size="11">',
        f"<text x='4' y='13'>{_esc(title)}: {root['n']} samples (hover a frame)</text>",
    ]
    for x, depth, w, name, n in rects:
        y = height - (depth + 1) * row
        hue = 10 + sum(name.split(" ")[0].encode()) % 50
        label = name.split(" (")[0][: int(w / 7)] if w > 30 else ""
        parts.append(
            f"<g><title>{_esc(name)}: {n} samples ({100 * n / max(1, root['n']):.1f} %)</title>"
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 1}"'
            f' fill="hsl({hue},80%,60%)"/>'
            f'<text x="{x + 2:.1f}" y="{y + 11}">{_esc(label)}</text></g>'
        )
    parts.append("</svg>")
    svg.write_text("\n".join(parts))


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def run_load(hub: HubProcess, sandbox_url: str, password: str, mysql: str, n: int, args):
    """The load simulator: steady for a profile, or the ramp (`--ramp DURATION`)."""
    scenario, duration = ("ramp", args.ramp) if args.ramp else ("steady", f"{args.seconds + 60}s")
    cmd = [PY, "-m", "load", "run", "--hub", hub.url, "--sandbox", sandbox_url,
           "--admin-password", password, "--mysql-url", mysql, "--scenario", scenario,
           "--providers", str(n), "--customers", str(300 if args.ramp else max(50, n // 10)),
           "--rate", "1/s", "--cadence", "4s",
           "--radius", "10000", "--procs", "2", "--duration", duration,
           "--report-dir", str(args.reports)]  # fmt: skip
    print("[profile] load:", " ".join(cmd[2:]), flush=True)
    return subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def start_hub(env: dict, logdir: Path, root: Path) -> HubProcess:
    """`python -m hub` of the checkout at `root` (this one, or a `git worktree` of the
    commit to compare with), after its seed."""
    log = logdir / "hub.log"
    subprocess.run([PY, "-m", "hub", "seed"], env=env, cwd=root, check=True,
                   stdout=(logdir / "seed.log").open("ab"), stderr=subprocess.STDOUT)  # fmt: skip
    proc = subprocess.Popen([PY, "-m", "hub"], env=env, cwd=root, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    hub = HubProcess(f"http://127.0.0.1:{env['HUB_PORT']}", int(env["HUB_PORT"]), proc, env, log)
    hub.ready_timeout = 300
    try:
        hub.wait_ready()
    except Exception:
        hub.stop()
        raise
    return hub


def ramp(n: int, hub, sandbox_url, password, mysql, args) -> None:
    """The ramp: `n` providers going online over 80 % of the run; its capacity lines."""
    print(f"[ramp] {n} providers over {args.ramp}; {load_avg()}", flush=True)
    load = run_load(hub, sandbox_url, password, mysql, n, args)
    lines = list(load.stdout)
    load.wait()
    start = max((i for i, ln in enumerate(lines) if ln.startswith("== ")), default=0)
    print("".join(lines[start:]), flush=True)
    print(f"[ramp] done; {load_avg()}", flush=True)


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # the hub is stopped on the way out
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--providers", default="1000,3000", help="comma-separated counts")
    ap.add_argument("--seconds", type=int, default=30, help="py-spy sampling time")
    ap.add_argument("--out", default="docs/profiles", help="where the svg/txt go")
    ap.add_argument("--reports", default="reports/profile", help="the load reports")
    ap.add_argument("--tag", default="", help="suffix of the file names (e.g. -after)")
    ap.add_argument(
        "--hub-env", action="append", default=[], help="NAME=VALUE for the hub (repeatable)"
    )
    ap.add_argument("--hub-root", default=str(ROOT), help="the checkout whose hub runs")
    ap.add_argument("--ramp", default="", help="run the ramp for this long (e.g. 5m) instead")
    ap.add_argument("--table", nargs="+", help="only print the table of stored profiles")
    ap.add_argument("--ramp-table", nargs="+", help="only summarise ramp reports (json)")
    args = ap.parse_args()
    if args.table:
        table(args.table)
        return 0
    if args.ramp_table:
        ramp_table(args.ramp_table)
        return 0
    out = ROOT / args.out
    out.mkdir(parents=True, exist_ok=True)
    stores = Stores(
        os.environ["MYSQL_URL"], os.environ["REDIS_URL"], Path(os.environ["ORDERHUB_STATE_DIR"])
    )
    stores.state_dir.mkdir(parents=True, exist_ok=True)
    logdir = stores.state_dir / "profile-logs"
    logdir.mkdir(exist_ok=True)
    # the admin account outlives a run (the database is reused): so does its password
    saved = stores.state_dir / "profile-admin-password"
    if not saved.exists():
        saved.write_text(secrets.token_urlsafe(12))
    password = saved.read_text().strip()
    extra = dict(kv.split("=", 1) for kv in args.hub_env)
    sandbox = start_sandbox(logdir / "sandbox.log", stores.state_dir)
    hub = None
    try:
        env = hub_env(
            free_port(),
            stores,
            sandbox.url,
            password,
            HUB_LOGIN_PER_MIN=1000000,
            HUB_ORDERS_PER_MIN=100000,
            **extra,
        )
        hub = start_hub(env, logdir, Path(args.hub_root))
        print(
            f"[profile] hub pid {hub.proc.pid} at {hub.url} from {args.hub_root}"
            f" ({_commit(Path(args.hub_root))}); {extra or ''} {load_avg()}",
            flush=True,
        )
        for n in [int(x) for x in args.providers.split(",")]:
            if args.ramp:
                ramp(n, hub, sandbox.url, password, stores.mysql_url, args)
            else:
                profile_at(n, hub, sandbox.url, password, stores.mysql_url, out, args)
    finally:
        if hub is not None:
            hub.stop()
        sandbox.stop()
    return 0


def _commit(root: Path) -> str:
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "-uno"],
                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    return head + (" + uncommitted changes" if dirty else "")


def profile_at(n, hub, sandbox_url, password, mysql, out: Path, args) -> None:
    load = run_load(hub, sandbox_url, password, mysql, n, args)
    lines: list[str] = []
    online = [0]

    def read():
        for line in load.stdout:
            lines.append(line)
            if m := re.search(r" online (\d+)", line):
                online[0] = int(m.group(1))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.time() + 900
    while online[0] < n * 0.97 and load.poll() is None and time.time() < deadline:
        time.sleep(1)
    if load.poll() is not None:
        print("".join(lines[-40:]))
        raise SystemExit(f"the load run ended before {n} providers were online")
    time.sleep(8)  # the first watchers and orders settle
    hosts = host_pids(hub.proc.pid)
    host = busiest(hosts) if hosts else None
    print(
        f"[profile] {n} providers: {online[0]} online; sampling hub {hub.proc.pid}"
        f" and host {host} for {args.seconds} s; {load_avg()}",
        flush=True,
    )
    watched = [p for p in (hub.proc.pid, host) if p]
    cpu0, t0 = {p: proc_cpu_seconds(p) or 0.0 for p in watched}, time.time()
    spies = [pyspy(hub.proc.pid, args.seconds, out / f"hub-{n}{args.tag}")]
    if host:
        spies.append(pyspy(host, args.seconds, out / f"host-{n}{args.tag}"))
    for spy in spies:
        spy.wait()
    used = {p: ((proc_cpu_seconds(p) or 0.0) - cpu0[p]) / (time.time() - t0) for p in watched}
    print(
        f"[profile] cpu over the sample: hub {used[hub.proc.pid]:.2f} cores"
        + (f", host {used[host]:.2f} cores" if host else "")
        + f"; {load_avg()}",
        flush=True,
    )
    load.wait()
    reader.join(5)
    start = max((i for i, ln in enumerate(lines) if ln.startswith("== ")), default=len(lines))
    keep = ("== ", "double", "events lost", "offers never", "acknowledged", "paid in",
            "ledger", "refunds above", "location", "hub stalls", "cpu:")  # fmt: skip
    print("".join(ln for ln in lines[start:] if ln.strip().startswith(keep)), flush=True)
    for who in ("hub", "host") if host else ("hub",):
        path = out / f"{who}-{n}{args.tag}.txt"
        if not path.exists():
            continue
        title = f"{who} at {n} providers{args.tag} ({_commit(Path(args.hub_root))})"
        flamegraph(path, path.with_suffix(".svg"), title)
        packed = path.with_suffix(".txt.gz")
        packed.write_bytes(gzip.compress(path.read_bytes()))
        path.unlink()
        print(f"[profile] {who} at {n} providers: self time by area ({packed.name})")
        for name, samples, share in summarise(packed):
            print(f"    {share:5.1f} %  {samples:6d}  {name}")


if __name__ == "__main__":
    raise SystemExit(main())
