"""The end-of-run report: the figures of a run gathered into one document (capacity of a
ramp, grab storms, payments, CPU, the checks), written as JSON and as an HTML page
(load/report_html.py)."""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from load.checks import contention_summary
from load.metrics import Aggregator, add_buckets, percentiles, summarize
from load.pay_checks import payment_figures
from load.report_html import render_html
from load.series import KEY_SERIES


def build(cfg, agg: Aggregator, merged: dict, checks: dict, meta: dict) -> dict:
    t0 = meta["t0"]
    t_end = t0 + cfg.duration
    secs = [s for s in sorted(agg.bins) if t0 - 1 <= s <= t_end + cfg.drain]
    series = sorted(agg.tot_lat, key=lambda s: (s not in KEY_SERIES, s))
    timeline = []
    for s in secs:
        b = agg.bins[s]
        row = {"t": s - int(t0), "count": {}, "p50": {}, "p95": {}, "p99": {}}
        for name, h in b["lat"].items():
            row["count"][name] = sum(h.values())
            row["p50"][name], row["p95"][name], row["p99"][name] = percentiles(h)
        row["cnt"] = dict(b["cnt"])
        row["errors"] = sum(b["err"].values())
        row["cpu_gen"] = round(b["cpu_gen"], 3)
        row["cpu_hub"] = None if b["cpu_hub"] is None else round(b["cpu_hub"], 3)
        row["cpu_machine"] = b["cpu_machine"]
        row["gauges"] = b.get("gauges") or {}
        timeline.append(row)
    run_secs = [r for r in timeline if 0 <= r["t"] < cfg.duration] or timeline
    dur = max(1, len(run_secs))
    summary = {}
    for name in series:
        s = summarize(agg.tot_lat[name], agg.tot_max.get(name))
        s["per_s"] = round(sum(r["count"].get(name, 0) for r in run_secs) / dur, 2)
        summary[name] = s
    gen = [r["cpu_gen"] for r in run_secs]
    hub = [r["cpu_hub"] for r in run_secs if r["cpu_hub"] is not None]
    mach = [r["cpu_machine"] for r in run_secs if r["cpu_machine"] is not None]
    cpu = {
        "generator mean cores": round(sum(gen) / len(gen), 3) if gen else None,
        "generator p95 cores": _pct(gen, 0.95),
        "hub mean cores": round(sum(hub) / len(hub), 3) if hub else None,
        "hub p95 cores": _pct(hub, 0.95),
        "machine mean busy (0-1)": round(sum(mach) / len(mach), 3) if mach else None,
        "hub pid": meta.get("hub_pid"),
    }
    totals = {k: v for k, v in sorted(agg.tot_cnt.items())}
    storm = storm_summary(agg, merged)
    capacity = capacity_table(agg, t0, timeline, cfg)
    return {
        "config": cfg.to_dict(),
        "meta": {k: v for k, v in meta.items() if k != "t0"},
        "ok": checks["ok"],
        "checks": checks,
        "summary": summary,
        "counters": totals,
        "counters_per_s": {k: round(v / dur, 2) for k, v in totals.items()},
        "errors": dict(sorted(agg.tot_err.items(), key=lambda kv: -kv[1])),
        "expected_errors": dict(sorted(agg.tot_benign.items(), key=lambda kv: -kv[1])),
        "contention": contention_summary(merged.get("contention", {})),
        "grab_storm": storm,
        "capacity": capacity,
        "features": merged.get("features", {}),
        "payments": payment_figures(totals, checks),
        "cpu": cpu,
        "timeline": timeline,
    }


def capacity_table(
    agg: Aggregator,
    t0: float,
    timeline: list[dict],
    cfg,
    window: int = 10,
    limit_ms: float = 100.0,
    other_max: float = 0.5,
) -> dict:
    """Per ``window`` seconds: providers online, location updates/s, location → watcher
    p50/p99, CPU of the hub, the generator and everything else; and the most providers
    online before p99 went over ``limit_ms`` (two windows in a row over the limit end the
    search, so one noisy window does not), over all windows and over the windows in which
    other processes used at most ``other_max`` cores (a shared machine's other work would
    otherwise decide the figure)."""
    series = "location → watcher"
    ncpu = os.cpu_count() or 1
    rows = []
    run = [r for r in timeline if 0 <= r["t"] < cfg.duration]
    for i in range(0, len(run), window):
        chunk = run[i : i + window]
        h: dict = {}
        lag: dict = {}
        for r in chunk:
            b = agg.bins.get(int(t0) + r["t"])
            if b is not None and series in b["lat"]:
                add_buckets(h, b["lat"][series])
            if b is not None and "generator loop lag" in b["lat"]:
                add_buckets(lag, b["lat"]["generator loop lag"])
        p50, _p95, p99 = percentiles(h)
        rows.append(
            {
                "t": chunk[0]["t"],
                "providers online": max(
                    (r.get("gauges") or {}).get("providers online", 0) for r in chunk
                ),
                "location updates per s": round(
                    sum(r["cnt"].get("locations sent", 0) for r in chunk) / len(chunk), 1
                ),
                "samples": sum(h.values()),
                "p50 ms": p50,
                "p99 ms": p99,
                "generator loop lag p99 ms": percentiles(lag)[2],
                "hub cores": _mean([r["cpu_hub"] for r in chunk]),
                "generator cores": _mean([r["cpu_gen"] for r in chunk]),
                "machine busy": _mean([r["cpu_machine"] for r in chunk]),
            }
        )
        row = rows[-1]
        if row["machine busy"] is not None:
            # what else ran: the whole machine less the hub's tree and the generator (this
            # includes MySQL and Redis working for the hub, hence a generous threshold)
            other = (
                row["machine busy"] * ncpu - (row["hub cores"] or 0) - (row["generator cores"] or 0)
            )
            row["other cores"] = round(max(0.0, other), 2)
        else:
            row["other cores"] = None

    def most(rows: list[dict]) -> int:
        best, over = 0, 0
        for row in rows:
            if row["p99 ms"] is None:
                continue
            if row["p99 ms"] < limit_ms:
                best = max(best, row["providers online"])
                over = 0
            else:
                over += 1
                if over >= 2:
                    break
        return best

    best = most(rows)
    quiet = [r for r in rows if r["other cores"] is not None and r["other cores"] <= other_max]
    return {
        f"most providers online with p99 < {limit_ms:g} ms, windows where other processes"
        f" used <= {other_max:g} cores": most(quiet),
        "quiet windows": len(quiet),
        "windows": rows,
        f"most providers online with p99 < {limit_ms:g} ms": best,
        "cadence s": cfg.cadence,
    }


def storm_summary(agg: Aggregator, merged: dict) -> dict | None:
    """Per storm order: how many providers got the offer and how fast, grabs, winners."""
    offers = agg.join_keys.get("order created → offer (each provider)")
    if not offers:
        return None
    taken = agg.join_keys.get("grab won → order.taken (each provider)", {})
    contention = merged.get("contention", {})
    winners: dict = {}
    for oid, pid, _how, _t in merged.get("wins", []):
        winners.setdefault(oid, set()).add(pid)
    rows = []
    for oid in sorted(offers):
        o, t = offers[oid], taken.get(oid, {})
        attempts, lost = contention.get(oid, [0, 0])
        rows.append(
            {
                "orderId": oid,
                "providers offered": o["n"],
                "offer fan-out p50 ms": o["p50"],
                "offer fan-out p99 ms": o["p99"],
                "offer fan-out max ms": o["max"],
                "grab attempts": attempts,
                "already_taken": lost,
                "winners": len(winners.get(oid, ())),
                "order.taken received": t.get("n", 0),
                "taken fan-out p99 ms": t.get("p99"),
                "taken fan-out max ms": t.get("max"),
            }
        )
    return {"orders": rows}


def _pct(vals: list, q: float):
    if not vals:
        return None
    v = sorted(vals)
    return round(v[min(len(v) - 1, int(q * len(v)))], 3)


def write(report: dict, directory: str, stem: str) -> tuple[Path, Path]:
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    jp = d / f"{stem}.json"
    hp = d / f"{stem}.html"
    jp.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    hp.write_text(render_html(report), encoding="utf-8")
    return jp, hp


def _mean(vals: list) -> float | None:
    vals = [v for v in vals if v is not None]
    return round(sum(vals) / len(vals), 2) if vals else None
