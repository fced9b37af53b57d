"""The hub's stalls over a run: its cyclic-GC pauses per generation and its event-loop lag,
read from the hub's /metrics (hub/loop_stats.py) before and after the load, and differenced;
the Ray hosts' own as well (all hosts together; they reach /metrics every 10 s, so the last
seconds of a run may be missing).

A p99 over 100 ms with the hub's CPU well under a core is a pause, not saturation; these
figures say which (FIELD-NOTES "Tracking ceilings"). /metrics answers on the loopback (or with
HUB_METRICS_TOKEN, taken from the environment); a hub without these series gives None.
"""

from __future__ import annotations

import math
import os

import httpx
from prometheus_client.parser import text_string_to_metric_families

GC = "orderhub_gc_pause_seconds"
LAG = "orderhub_loop_lag_seconds"
# the Ray hosts' own, pushed through Redis (actors/metrics.py HostFigures)
HOST_GC = "orderhub_host_gc_pause_seconds"
HOST_LAG = "orderhub_host_loop_lag_seconds"


async def read(hub_url: str) -> dict | None:
    """{series key: {"buckets": {le: count}, "count": n, "sum": s}} of the two histograms."""
    headers = {}
    if token := os.environ.get("HUB_METRICS_TOKEN"):
        headers["Authorization"] = f"Bearer {token}"
    try:
        async with httpx.AsyncClient(timeout=15) as client:
            answer = await client.get(f"{hub_url}/metrics", headers=headers)
    except httpx.HTTPError:
        return None
    if answer.status_code != 200:
        return None
    return parse(answer.text)


def parse(text: str) -> dict | None:
    found: dict[str, dict] = {}
    for family in text_string_to_metric_families(text):
        if family.name not in (GC, LAG, HOST_GC, HOST_LAG):
            continue
        for s in family.samples:
            key = family.name + (f":{s.labels['generation']}" if "generation" in s.labels else "")
            entry = found.setdefault(key, {"buckets": {}, "count": 0.0, "sum": 0.0})
            if s.name.endswith("_bucket"):
                entry["buckets"][float(s.labels["le"])] = s.value
            elif s.name.endswith("_count"):
                entry["count"] = s.value
            elif s.name.endswith("_sum"):
                entry["sum"] = s.value
    return found or None


def _diff(after: dict, before: dict | None) -> dict:
    before = before or {"buckets": {}, "count": 0.0, "sum": 0.0}
    buckets = {le: n - before["buckets"].get(le, 0.0) for le, n in after["buckets"].items()}
    return {"buckets": buckets, "count": after["count"] - before["count"],
            "sum": after["sum"] - before["sum"]}  # fmt: skip


def _quantile(buckets: dict, q: float) -> float | None:
    """The upper bound of the bucket holding quantile q (cumulative buckets)."""
    total = buckets.get(math.inf, 0.0)
    if total <= 0:
        return None
    for le in sorted(buckets):
        if buckets[le] >= q * total:
            return le
    return math.inf


def _largest(buckets: dict) -> float | None:
    """The upper bound of the largest non-empty bucket: the longest pause, to a bucket."""
    below = 0.0
    top = None
    for le in sorted(buckets):
        if buckets[le] > below:
            top = le
        below = buckets[le]
    return top


def _ms(seconds: float | None) -> float | None:
    if seconds is None:
        return None
    return None if math.isinf(seconds) else round(seconds * 1000, 1)


def between(before: dict | None, after: dict | None) -> dict | None:
    """What happened between two reads: GC pauses per generation and the loop lag, of the hub
    and (under "hosts", when it reports them) of the Ray hosts together."""
    if not after:
        return None
    out = _summary(before or {}, after, GC, LAG)
    hosts = _summary(before or {}, after, HOST_GC, HOST_LAG)
    if hosts["gc"] or hosts.get("loop_lag"):
        out["hosts"] = hosts
    return out


def _summary(before: dict, after: dict, gc_name: str, lag_name: str) -> dict:
    out: dict = {"gc": {}}
    for key, series in sorted(after.items()):
        name = key.split(":")[0]
        if name not in (gc_name, lag_name):
            continue
        d = _diff(series, before.get(key))
        if name == gc_name:
            out["gc"][key.split(":")[1]] = {
                "count": int(d["count"]),
                "total_ms": round(d["sum"] * 1000, 1),
                "longest_ms_at_most": _ms(_largest(d["buckets"])),
            }
        else:
            out["loop_lag"] = {
                "samples": int(d["count"]),
                "p50_ms_at_most": _ms(_quantile(d["buckets"], 0.5)),
                "p99_ms_at_most": _ms(_quantile(d["buckets"], 0.99)),
                "max_ms_at_most": _ms(_largest(d["buckets"])),
                "mean_ms": round(d["sum"] * 1000 / d["count"], 2) if d["count"] else None,
            }
    return out


def line(stalls: dict | None) -> str:
    """One line for the terminal: GC per generation (count, total, longest) and loop lag, of
    the hub, then of the Ray hosts."""
    if not stalls or not (stalls.get("loop_lag") or {}).get("samples"):
        return "hub stalls: not measured (the hub's /metrics has no GC/loop-lag figures)"
    text = "hub stalls: " + _parts(stalls)
    if stalls.get("hosts"):
        text += " | Ray hosts: " + _parts(stalls["hosts"])
    return text


def _parts(stalls: dict) -> str:
    parts = [
        f"gen{g} {s['count']}× total {s['total_ms']} ms longest ≤{s['longest_ms_at_most']} ms"
        for g, s in stalls["gc"].items()
    ]
    lag = stalls.get("loop_lag") or {}
    if lag:
        parts.append(
            f"loop lag p50 ≤{lag['p50_ms_at_most']} p99 ≤{lag['p99_ms_at_most']}"
            f" max ≤{lag['max_ms_at_most']} ms (mean {lag['mean_ms']} ms)"
        )
    return "; ".join(parts)
