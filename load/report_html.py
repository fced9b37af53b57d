"""The report as one self-contained HTML page: checks, latency and throughput tables, charts
over time, errors, contention, ramp capacity, grab storms, CPU and counters."""

from __future__ import annotations

import orjson

from load.charts import bar_chart, esc, fmt, html_table, line_chart
from load.checks import CHECKS
from load.series import KEY_SERIES
from load.summary import payment_line

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
        f"<title>orderhub load: {esc(cfg['scenario'])}</title><style>{CSS}</style></head><body>",
        f"<h1>orderhub load report: {esc(cfg['scenario'])} {esc(cfg.get('label') or '')}</h1>",
        f"<p>{verdict}</p>",
        "<p>"
        + esc(
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
        parts.append(f"<tr><td>{esc(name)}</td><td class='{cls}'>{n}</td></tr>")
    parts.append("</table>")
    if any(checks.get("examples", {}).values()):
        parts.append(
            "<details><summary>examples</summary><pre>"
            + esc(
                orjson.dumps(
                    checks["examples"], option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
                ).decode()
            )
            + "</pre></details>"
        )
    parts.append(
        "<p class='muted'>"
        + esc("; ".join(f"{k}: {v}" for k, v in checks.get("info", {}).items()))
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
            f"<tr><td>{esc(name)}</td><td>{s['count']:,}</td><td>{fmt(s['per_s'])}</td>"
            f"<td>{fmt(s['p50'])}</td><td>{fmt(s['p95'])}</td><td>{fmt(s['p99'])}</td>"
            f"<td>{fmt(s.get('max'))}</td></tr>"
        )
    parts.append(
        "</table><details><summary>per REST endpoint</summary><table><tr><th>endpoint"
        "</th><th>count</th><th>p50</th><th>p95</th><th>p99</th><th>max</th></tr>"
    )
    for name, s in r["summary"].items():
        if name.startswith("REST ") and name != "REST call":
            parts.append(
                f"<tr><td>{esc(name[5:])}</td><td>{s['count']:,}</td><td>{fmt(s['p50'])}</td>"
                f"<td>{fmt(s['p95'])}</td><td>{fmt(s['p99'])}</td><td>{fmt(s.get('max'))}"
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
    pay = r.get("payments") or {}
    parts.append(f"</div><h2 id='payments'>Payments</h2><p>{esc(payment_line(pay))}</p>")
    if pay.get("details"):
        parts.append("<p class='muted'>" + esc(orjson.dumps(pay["details"]).decode()) + "</p>")
    parts.append("<h2 id='contention'>Grab contention</h2>")
    c = r["contention"]
    parts.append(
        "<table>"
        + "".join(
            f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>"
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
        parts.append(f"<h2 id='capacity'>Capacity (ramp)</h2><p><b>{esc(best)}</b></p>")
        parts.append(html_table(keys, cap["windows"]))
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
        parts.append(html_table(list(storm["orders"][0]), storm["orders"]))
    parts.append(
        "<h2 id='cpu'>CPU (cores)</h2><p>"
        + esc("; ".join(f"{k}: {v}" for k, v in r["cpu"].items()))
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
            f"<tr><td>{esc(k)}</td><td>{v:,}</td><td>{fmt(r['counters_per_s'].get(k))}</td></tr>"
        )
    parts.append("</table>")
    if r.get("meta"):
        parts.append(
            "<h2>Run</h2><pre>"
            + esc(
                orjson.dumps(
                    r["meta"], option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
                ).decode()
            )
            + "</pre>"
        )
    parts.append("</body></html>")
    return "".join(parts)
