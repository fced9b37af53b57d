"""Cheap per-second metrics, mergeable across worker processes.

Each worker keeps, for the current wall-clock second, a log-bucketed latency histogram per
series (a dict bucket -> count: ~4 % resolution), counters and error counts; once a second
it ships a snapshot (a plain dict) to the parent, which merges them (``Aggregator``).

Latencies whose two ends happen in different processes (a customer creates an order, a
provider in another worker gets the offer) are recorded as *join marks*: ``start(series,
key, t)`` and ``end(series, key, t)`` with wall-clock times; the parent pairs them.
"""

from __future__ import annotations

import math
import os
import resource
import time
from collections import defaultdict

# --- histogram --------------------------------------------------------------------------

_MIN_MS = 0.05
_LOG_STEP = math.log(1.04)


def bucket_of(ms: float) -> int:
    if ms <= _MIN_MS:
        return 0
    return int(math.log(ms / _MIN_MS) / _LOG_STEP) + 1


def bucket_value(b: int) -> float:
    """A representative value (geometric middle) of bucket ``b`` in ms."""
    if b <= 0:
        return _MIN_MS
    return _MIN_MS * math.exp((b - 0.5) * _LOG_STEP)


def add_buckets(into: dict, other: dict) -> None:
    for b, n in other.items():
        into[b] = into.get(b, 0) + n


def percentiles(buckets: dict, qs=(0.5, 0.95, 0.99)) -> list[float | None]:
    total = sum(buckets.values())
    if not total:
        return [None for _ in qs]
    items = sorted(buckets.items())
    out = []
    for q in qs:
        rank = q * total
        acc = 0
        val = bucket_value(items[-1][0])
        for b, n in items:
            acc += n
            if acc >= rank:
                val = bucket_value(b)
                break
        out.append(round(val, 2))
    return out


def summarize(buckets: dict, max_ms: float | None = None) -> dict:
    n = sum(buckets.values())
    p50, p95, p99 = percentiles(buckets)
    out = {"count": n, "p50": p50, "p95": p95, "p99": p99}
    if buckets:
        out["max"] = round(max_ms, 2) if max_ms is not None else bucket_value(max(buckets))
        out["mean"] = round(sum(bucket_value(b) * c for b, c in buckets.items()) / n, 2)
    return out


# --- CPU ------------------------------------------------------------------------------------


def own_cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


_CLK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: int) -> tuple[int, float] | None:
    """(ppid, cpu seconds) of a process from /proc, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rfind(b")") + 2 :].split()
    # fields after the comm: state ppid ... utime(14) stime(15) in 1-based stat numbering
    return int(rest[1]), (int(rest[11]) + int(rest[12])) / _CLK


def proc_cpu_seconds(pid: int) -> float | None:
    """User+system CPU seconds of one process (None when it is gone)."""
    st = _proc_stat(pid)
    return None if st is None else st[1]


class ProcTreeCPU:
    """CPU seconds of a process and all its descendants (e.g. the hub and its Ray workers)."""

    def __init__(self, pid: int):
        self.pid = pid
        self.dead: float = 0.0  # cpu of descendants seen before that have exited
        self.last: dict[int, float] = {}

    def sample(self) -> float:
        children: dict[int, list[int]] = defaultdict(list)
        cpu: dict[int, float] = {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            st = _proc_stat(int(name))
            if st is None:
                continue
            children[st[0]].append(int(name))
            cpu[int(name)] = st[1]
        tree: dict[int, float] = {}
        stack = [self.pid]
        while stack:
            p = stack.pop()
            if p in cpu:
                tree[p] = cpu[p]
                stack.extend(children.get(p, ()))
        for p, c in self.last.items():
            if p not in tree:
                self.dead += c
        self.last = tree
        return self.dead + sum(tree.values())


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            parts = f.readline().split()[1:]
    except OSError:
        return 0.0, 0.0
    vals = [float(x) for x in parts]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    return sum(vals) - idle, sum(vals)


def find_listener_pid(port: int) -> int | None:
    """The pid of the process listening on TCP ``port`` on this machine (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    local, state, inode = cols[1], cols[3], cols[9]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        inodes.add(f"socket:[{inode}]")
        except OSError:
            continue
    if not inodes:
        return None
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{name}/fd"):
                try:
                    if os.readlink(f"/proc/{name}/fd/{fd}") in inodes:
                        return int(name)
                except OSError:
                    continue
        except OSError:
            continue
    return None


# --- worker side ---------------------------------------------------------------------------


class Metrics:
    """What one worker process records during the current second."""

    def __init__(self) -> None:
        self.lat: dict[str, dict[int, int]] = {}
        self.max: dict[str, float] = {}
        self.cnt: dict[str, int] = {}
        self.err: dict[str, int] = {}
        self.benign: dict[str, int] = {}
        self.starts: list[tuple[str, object, float]] = []
        self.ends: list[tuple[str, object, float]] = []
        self._cpu = own_cpu_seconds()

    def observe(self, series: str, ms: float) -> None:
        h = self.lat.get(series)
        if h is None:
            h = self.lat[series] = {}
        b = bucket_of(ms)
        h[b] = h.get(b, 0) + 1
        if ms > self.max.get(series, -1.0):
            self.max[series] = ms

    def inc(self, name: str, n: int = 1) -> None:
        self.cnt[name] = self.cnt.get(name, 0) + n

    def error(self, code: str, *, benign: bool = False) -> None:
        d = self.benign if benign else self.err
        d[code] = d.get(code, 0) + 1

    def start(self, series: str, key, t: float) -> None:
        self.starts.append((series, key, t))

    def end(self, series: str, key, t: float) -> None:
        self.ends.append((series, key, t))

    def snapshot(self, **extra) -> dict:
        cpu = own_cpu_seconds()
        snap = {
            "t": time.time(),
            "lat": self.lat,
            "max": self.max,
            "cnt": self.cnt,
            "err": self.err,
            "benign": self.benign,
            "starts": self.starts,
            "ends": self.ends,
            "cpu": cpu - self._cpu,
            **extra,
        }
        self._cpu = cpu
        self.lat, self.max, self.cnt, self.err, self.benign = {}, {}, {}, {}, {}
        self.starts, self.ends = [], []
        return snap


# --- parent side ---------------------------------------------------------------------------

# join series: name -> "first" (earliest end per key counts once) or "all" (every end counts)
JOIN_MODES = {
    "order created → first offer": "first",
    "order created → offer (each provider)": "all",
    "grab won → order.taken (each provider)": "all",
    "status change → watcher": "all",
    "chat send → delivery": "all",
}


class Aggregator:
    """Merges worker snapshots into per-second bins and run totals."""

    def __init__(self) -> None:
        self.t0: float | None = None
        self.bins: dict[int, dict] = {}
        self.tot_lat: dict[str, dict[int, int]] = {}
        self.tot_max: dict[str, float] = {}
        self.tot_cnt: dict[str, int] = defaultdict(int)
        self.tot_err: dict[str, int] = defaultdict(int)
        self.tot_benign: dict[str, int] = defaultdict(int)
        self.gauges: dict[int, dict] = {}
        self.cpu_workers: dict[int, float] = defaultdict(float)
        self.join_keys: dict[str, dict] = defaultdict(dict)  # "all" series: key -> n, max
        self._starts: dict[tuple, float] = {}
        self._ends: dict[tuple, list[float]] = defaultdict(list)

    def _bin(self, t: float) -> dict:
        s = int(t)
        b = self.bins.get(s)
        if b is None:
            b = self.bins[s] = {
                "lat": {},
                "cnt": defaultdict(int),
                "err": defaultdict(int),
                "cpu_gen": 0.0,
                "cpu_hub": None,
                "cpu_machine": None,
                "gauges": {},
            }
        return b

    def add(self, worker: int, snap: dict) -> None:
        b = self._bin(snap["t"] - 0.5)  # a snapshot covers the second before it
        for s, h in snap["lat"].items():
            add_buckets(b["lat"].setdefault(s, {}), h)
            add_buckets(self.tot_lat.setdefault(s, {}), h)
        for s, m in snap["max"].items():
            if m > self.tot_max.get(s, -1.0):
                self.tot_max[s] = m
        for k, n in snap["cnt"].items():
            b["cnt"][k] += n
            self.tot_cnt[k] += n
        for k, n in snap["err"].items():
            b["err"][k] += n
            self.tot_err[k] += n
        for k, n in snap["benign"].items():
            self.tot_benign[k] += n
        b["cpu_gen"] += snap["cpu"]
        self.cpu_workers[worker] += snap["cpu"]
        if "gauges" in snap:
            self.gauges[worker] = snap["gauges"]
        for series, key, t in snap["starts"]:
            self._starts[(series, key)] = t
        for series, key, t in snap["ends"]:
            self._ends[(series, key)].append(t)

    def add_cpu(self, t: float, gen: float = 0.0, hub: float | None = None, machine=None):
        b = self._bin(t - 0.5)
        b["cpu_gen"] += gen
        if hub is not None:
            b["cpu_hub"] = (b["cpu_hub"] or 0.0) + hub
        if machine is not None:
            b["cpu_machine"] = machine

    def gauge_sum(self) -> dict:
        out: dict = defaultdict(int)
        for g in self.gauges.values():
            for k, v in g.items():
                if isinstance(v, dict):
                    d = out.setdefault(k, defaultdict(int))
                    for kk, vv in v.items():
                        d[kk] += vv
                else:
                    out[k] += v
        return out

    def resolve_joins(self) -> dict:
        """Pair start/end marks into latency samples; returns counts of unpaired ends."""
        unpaired = defaultdict(int)
        for (series, key), ends in self._ends.items():
            t0 = self._starts.get((series, key))
            if t0 is None:
                unpaired[series] += len(ends)
                continue
            mode = JOIN_MODES.get(series, "all")
            pick = [min(ends)] if mode == "first" else ends
            if mode == "all":
                lat = sorted(max(0.0, (t - t0) * 1000) for t in ends)
                self.join_keys[series][key] = {
                    "n": len(lat),
                    "p50": round(lat[len(lat) // 2], 1),
                    "p99": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 1),
                    "max": round(lat[-1], 1),
                }
            for t in pick:
                ms = max(0.0, (t - t0) * 1000)
                b = self._bin(t)
                h = b["lat"].setdefault(series, {})
                k = bucket_of(ms)
                h[k] = h.get(k, 0) + 1
                th = self.tot_lat.setdefault(series, {})
                th[k] = th.get(k, 0) + 1
                if ms > self.tot_max.get(series, -1.0):
                    self.tot_max[series] = ms
        self._ends.clear()
        return dict(unpaired)

    def last_seconds(self, n: int = 1) -> list[dict]:
        keys = sorted(self.bins)[-n - 1 : -1] if len(self.bins) > 1 else []
        return [self.bins[k] for k in keys]
