"""The end-of-run report: one JSON document and one self-contained HTML page (inline SVG
charts, no scripts, no CDN)."""

from __future__ import annotations

import html
import math
import os
from pathlib import Path

import orjson

from load.checks import CHECKS, contention_summary
from load.metrics import Aggregator, add_buckets, percentiles, summarize

# The latencies every client feels; the bench compares these between hub and relay.
CLIENT_SERIES = (
    "REST call",
    "grab ack",
    "order created → first offer",
    "status change → watcher",
    "location → watcher",
    "chat send → delivery",
)
KEY_SERIES = (
    *CLIENT_SERIES,
    "order created → offer (each provider)",
    "grab won → order.taken (each provider)",
    "location.update ack",
    "reconnect (drop → connected)",
    "generator loop lag",
)
COLORS = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#7f7f7f",
    "#bcbd22",
]


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


# --- HTML --------------------------------------------------------------------------------------


def _esc(x) -> str:
    return html.escape(str(x))


def line_chart(
    title: str, xs: list, lines: dict[str, list], unit: str = "", w=560, h=220, log=False
) -> str:
    """An SVG line chart; ``lines`` maps a label to values (None = gap)."""
    pad_l, pad_r, pad_t, pad_b = 52, 10, 24, 34
    vals = [v for vs in lines.values() for v in vs if v is not None]
    if not xs or not vals:
        return f'<div class="chart"><h4>{_esc(title)}</h4><p class="muted">no data</p></div>'
    x0, x1 = min(xs), max(xs) or 1
    if x1 == x0:
        x1 = x0 + 1
    vmax = max(vals) or 1
    vmin = min(v for v in vals if v > 0) if log and any(v > 0 for v in vals) else 0
    if log:
        lo, hi = math.log10(max(vmin, 0.01)), math.log10(vmax * 1.2)
        if hi <= lo:
            hi = lo + 1

        def fy(v):
            v = max(v, 10**lo)
            return pad_t + (h - pad_t - pad_b) * (1 - (math.log10(v) - lo) / (hi - lo))

        ticks = [10**e for e in range(math.floor(lo), math.ceil(hi) + 1)]
        ticks = [t for t in ticks if 10**lo <= t <= 10**hi] or [10**lo, 10**hi]
    else:
        top = _nice(vmax * 1.1)

        def fy(v):
            return pad_t + (h - pad_t - pad_b) * (1 - v / top)

        ticks = [top * i / 4 for i in range(5)]

    def fx(x):
        return pad_l + (w - pad_l - pad_r) * (x - x0) / (x1 - x0)

    out = [
        f'<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img">',
        f'<text x="{pad_l}" y="15" class="t">{_esc(title)}</text>',
    ]
    for t in ticks:
        y = fy(t)
        out.append(f'<line x1="{pad_l}" x2="{w - pad_r}" y1="{y:.1f}" y2="{y:.1f}" class="g"/>')
        out.append(
            f'<text x="{pad_l - 4}" y="{y + 4:.1f}" class="a" text-anchor="end">'
            f"{_fmt(t)}{_esc(unit)}</text>"
        )
    for i in range(6):
        x = x0 + (x1 - x0) * i / 5
        out.append(
            f'<text x="{fx(x):.1f}" y="{h - pad_b + 14}" class="a" '
            f'text-anchor="middle">{x:.0f}s</text>'
        )
    for i, vs in enumerate(lines.values()):
        color = COLORS[i % len(COLORS)]
        pts, segs = [], []
        for x, v in zip(xs, vs, strict=False):
            if v is None:
                if pts:
                    segs.append(pts)
                pts = []
            else:
                pts.append(f"{fx(x):.1f},{fy(v):.1f}")
        if pts:
            segs.append(pts)
        for seg in segs:
            if len(seg) == 1:
                cx, cy = seg[0].split(",")
                out.append(f'<circle cx="{cx}" cy="{cy}" r="2" fill="{color}"/>')
            else:
                out.append(
                    f'<polyline fill="none" stroke="{color}" stroke-width="1.5" '
                    f'points="{" ".join(seg)}"/>'
                )
    out.append("</svg>")
    legend = "".join(
        f'<span class="lg"><i style="background:{COLORS[i % len(COLORS)]}"></i>{_esc(k)}</span>'
        for i, k in enumerate(lines)
    )
    svg = "".join(out)
    return f'<div class="chart">{svg}<div class="legend">{legend}</div></div>'


def bar_chart(title: str, items: list[tuple[str, float]], w=560, bar_h=18, color="#d62728") -> str:
    if not items:
        return f'<div class="chart"><h4>{_esc(title)}</h4><p class="muted">none</p></div>'
    items = items[:25]
    label_w = 300
    h = 30 + bar_h * len(items) + 6
    vmax = max(v for _, v in items) or 1
    out = [
        f'<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img">',
        f'<text x="4" y="15" class="t">{_esc(title)}</text>',
    ]
    for i, (k, v) in enumerate(items):
        y = 26 + i * bar_h
        bw = (w - label_w - 60) * v / vmax
        out.append(
            f'<text x="{label_w - 6}" y="{y + bar_h * 0.7:.1f}" class="a" '
            f'text-anchor="end">{_esc(k[:48])}</text>'
        )
        out.append(
            f'<rect x="{label_w}" y="{y + 2}" width="{bw:.1f}" height="{bar_h - 5}" '
            f'fill="{color}"/>'
        )
        out.append(
            f'<text x="{label_w + bw + 4:.1f}" y="{y + bar_h * 0.7:.1f}" class="a">{_fmt(v)}</text>'
        )
    out.append("</svg>")
    return f'<div class="chart">{"".join(out)}</div>'


def _mean(vals: list) -> float | None:
    vals = [v for v in vals if v is not None]
    return round(sum(vals) / len(vals), 2) if vals else None


def _table(keys: list[str], rows: list[dict]) -> str:
    head = "".join(f"<th>{_esc(k)}</th>" for k in keys)
    body = "".join(
        "<tr>" + "".join(f"<td>{_fmt(row.get(k))}</td>" for k in keys) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _nice(v: float) -> float:
    if v <= 0:
        return 1
    e = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * e:
            return m * e
    return 10 * e


def _fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        if v >= 100 or v == int(v):
            return f"{v:,.0f}"
        if v >= 1:
            return f"{v:.1f}"
        return f"{v:.2f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


CSS = """
body{font:14px/1.4 system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC",sans-serif;
margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;
text-align:right}th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}
.ok{color:#2a7d2a;font-weight:600}.bad{color:#c62828;font-weight:600}.muted{color:#888}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{border:1px solid #eee;padding:6px}
svg .t{font-size:13px;font-weight:600}svg .a{font-size:10px;fill:#555}
svg .g{stroke:#eee}.legend{font-size:11px;max-width:560px}
.lg{margin-right:10px;white-space:nowrap}.lg i{display:inline-block;width:10px;height:3px;
margin-right:4px;vertical-align:middle}
code{background:#f5f5f5;padding:1px 4px}
"""


def render_html(r: dict) -> str:
    cfg = r["config"]
    tl = r["timeline"]
    xs = [row["t"] for row in tl]
    checks = r["checks"]
    verdict = (
        '<span class="ok">PASS: every correctness check is 0</span>'
        if r["ok"]
        else '<span class="bad">FAIL: a correctness check is not 0</span>'
    )
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>orderhub load: {_esc(cfg['scenario'])}</title><style>{CSS}</style></head><body>",
        f"<h1>orderhub load report: {_esc(cfg['scenario'])} {_esc(cfg.get('label') or '')}</h1>",
        f"<p>{verdict}</p>",
        "<p>"
        + _esc(
            f"hub {cfg['hub']} · {cfg['providers']} providers · {cfg['customers']} customers · "
            f"rate {cfg['rate']}/s · {cfg['duration']:.0f}s · cadence {cfg['cadence']}s · "
            f"time-scale {cfg['time_scale']} · procs {cfg['procs']} · seed {cfg['seed']} · "
            f"started {r['meta'].get('started', '')}"
        )
        + "</p>",
        "<h2 id='checks'>Correctness checks</h2><table><tr><th>check</th><th>count</th></tr>",
    ]
    for name in CHECKS:
        n = checks["counts"].get(name, 0)
        cls = "ok" if n == 0 else "bad"
        parts.append(f"<tr><td>{_esc(name)}</td><td class='{cls}'>{n}</td></tr>")
    parts.append("</table>")
    if any(checks.get("examples", {}).values()):
        parts.append(
            "<details><summary>examples</summary><pre>"
            + _esc(
                orjson.dumps(
                    checks["examples"], option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
                ).decode()
            )
            + "</pre></details>"
        )
    parts.append(
        "<p class='muted'>"
        + _esc("; ".join(f"{k}: {v}" for k, v in checks.get("info", {}).items()))
        + "</p>"
    )

    # latency summary table
    parts.append(
        "<h2>Latency (ms) and throughput</h2><table><tr><th>series</th><th>count</th>"
        "<th>per s</th><th>p50</th><th>p95</th><th>p99</th><th>max</th></tr>"
    )
    for name, s in r["summary"].items():
        if name.startswith("REST ") and name != "REST call":
            continue
        parts.append(
            f"<tr><td>{_esc(name)}</td><td>{s['count']:,}</td><td>{_fmt(s['per_s'])}</td>"
            f"<td>{_fmt(s['p50'])}</td><td>{_fmt(s['p95'])}</td><td>{_fmt(s['p99'])}</td>"
            f"<td>{_fmt(s.get('max'))}</td></tr>"
        )
    parts.append(
        "</table><details><summary>per REST endpoint</summary><table><tr><th>endpoint"
        "</th><th>count</th><th>p50</th><th>p95</th><th>p99</th><th>max</th></tr>"
    )
    for name, s in r["summary"].items():
        if name.startswith("REST ") and name != "REST call":
            parts.append(
                f"<tr><td>{_esc(name[5:])}</td><td>{s['count']:,}</td><td>{_fmt(s['p50'])}</td>"
                f"<td>{_fmt(s['p95'])}</td><td>{_fmt(s['p99'])}</td><td>{_fmt(s.get('max'))}"
                "</td></tr>"
            )
    parts.append("</table></details>")

    present = [s for s in KEY_SERIES if s in r["summary"]]
    parts.append("<h2>Throughput over time (per second)</h2><div class='charts'>")
    parts.append(
        line_chart(
            "events per second", xs, {s: [row["count"].get(s, 0) for row in tl] for s in present}
        )
    )
    parts.append(
        line_chart(
            "socket messages per second",
            xs,
            {
                "in (hub → clients)": [row["cnt"].get("socket msgs in", 0) for row in tl],
                "out (clients → hub)": [row["cnt"].get("socket msgs out", 0) for row in tl],
                "REST calls": [row["cnt"].get("rest", 0) for row in tl],
            },
        )
    )
    parts.append(
        "</div><h2>Latency over time: p50 / p95 / p99 (ms, log scale)</h2><div class='charts'>"
    )
    for s in present:
        parts.append(
            line_chart(
                s,
                xs,
                {
                    "p50": [row["p50"].get(s) for row in tl],
                    "p95": [row["p95"].get(s) for row in tl],
                    "p99": [row["p99"].get(s) for row in tl],
                },
                unit="",
                log=True,
            )
        )
    parts.append("</div><h2 id='errors'>Errors</h2><div class='charts'>")
    parts.append(bar_chart("errors by code", list(r["errors"].items())))
    parts.append(
        bar_chart(
            "expected refusals (races the scenario provokes)",
            list(r["expected_errors"].items()),
            color="#999",
        )
    )
    parts.append(line_chart("errors per second", xs, {"errors": [row["errors"] for row in tl]}))
    parts.append("</div><h2 id='contention'>Grab contention</h2>")
    c = r["contention"]
    parts.append(
        "<table>"
        + "".join(
            f"<tr><td>{_esc(k)}</td><td>{_esc(v)}</td></tr>"
            for k, v in c.items()
            if k != "orders by attempts"
        )
        + "</table>"
    )
    order = ["1", "2", "3", "4", "5", "6-20", "21-100", ">100"]
    hist = c.get("orders by attempts", {})
    parts.append(
        "<div class='charts'>"
        + bar_chart(
            "orders by number of grab attempts",
            [(k, hist[k]) for k in order if k in hist],
            color="#1f77b4",
        )
        + "</div>"
    )
    cap = r.get("capacity")
    if cfg["scenario"] == "ramp" and cap and cap.get("windows"):
        keys = list(cap["windows"][0])
        best = "; ".join(f"{k}: {v}" for k, v in cap.items() if k != "windows")
        parts.append(f"<h2 id='capacity'>Capacity (ramp)</h2><p><b>{_esc(best)}</b></p>")
        parts.append(_table(keys, cap["windows"]))
        parts.append(
            "<div class='charts'>"
            + line_chart(
                "providers online",
                xs,
                {"online": [(row.get("gauges") or {}).get("providers online") for row in tl]},
            )
            + line_chart(
                "location → watcher p99 (ms, log)",
                xs,
                {"p99": [row["p99"].get("location → watcher") for row in tl]},
                log=True,
            )
            + "</div>"
        )
    storm = r.get("grab_storm")
    if storm and storm.get("orders"):
        parts.append("<h2 id='storm'>Grab storm: per storm order</h2>")
        parts.append(_table(list(storm["orders"][0]), storm["orders"]))
    parts.append(
        "<h2 id='cpu'>CPU (cores)</h2><p>"
        + _esc("; ".join(f"{k}: {v}" for k, v in r["cpu"].items()))
        + "</p><div class='charts'>"
    )
    parts.append(
        line_chart(
            "CPU cores used",
            xs,
            {
                "load generator": [row["cpu_gen"] for row in tl],
                "hub (process tree)": [row["cpu_hub"] for row in tl],
                "whole machine": [
                    None if row["cpu_machine"] is None else row["cpu_machine"] * 2 for row in tl
                ],
            },
        )
    )
    parts.append(
        "</div><h2>Counters</h2><table><tr><th>counter</th><th>total</th><th>per s</th></tr>"
    )
    for k, v in r["counters"].items():
        parts.append(
            f"<tr><td>{_esc(k)}</td><td>{v:,}</td><td>{_fmt(r['counters_per_s'].get(k))}</td></tr>"
        )
    parts.append("</table>")
    if r.get("meta"):
        parts.append(
            "<h2>Run</h2><pre>"
            + _esc(
                orjson.dumps(
                    r["meta"], option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
                ).decode()
            )
            + "</pre>"
        )
    parts.append("</body></html>")
    return "".join(parts)
