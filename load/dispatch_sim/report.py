"""The report: every figure as JSON, and one self-contained HTML page (inline SVG, the load
report's style, no scripts, no CDN) with a table and charts per metric and scenario."""

from __future__ import annotations

import json
from pathlib import Path

from load.charts import bar_chart, esc, html_table
from load.dispatch_sim.plots import histogram_chart, lorenz_chart
from load.report_html import CSS

# (key, column title): the figures table, in this order
FIGURES = (
    ("orders", "orders"),
    ("accepted_pct", "accepted %"),
    ("reached_alert", "reached alert"),
    ("expired", "expired"),
    ("pickup_mean_m", "pickup mean m"),
    ("pickup_p90_m", "pickup p90 m"),
    ("accept_mean_s", "to accept mean s"),
    ("accept_p90_s", "to accept p90 s"),
    ("offer_acceptance_pct", "offers accepted %"),
    ("gini", "Gini"),
    ("utilisation_pct", "utilisation %"),
)
CHARTED = (
    ("pickup_mean_m", "mean pickup distance (m)", "#1f77b4"),
    ("pickup_p90_m", "p90 pickup distance (m)", "#1f77b4"),
    ("accept_mean_s", "mean time to accept (s)", "#2ca02c"),
    ("accept_p90_s", "p90 time to accept (s)", "#2ca02c"),
    ("accepted_pct", "orders accepted (%)", "#ff7f0e"),
    ("reached_alert", "orders that reached the staff alert", "#d62728"),
    ("offer_acceptance_pct", "personal offers accepted (%)", "#ff7f0e"),
    ("gini", "Gini of orders per provider", "#9467bd"),
    ("utilisation_pct", "utilisation (% of provider time busy)", "#8c564b"),
)


def figures_rows(results: list[dict]) -> list[dict]:
    return [{"scenario": r["scenario"], **{t: r.get(k) for k, t in FIGURES}} for r in results]


def build(config: dict, results: list[dict]) -> dict:
    return {
        "config": config,
        "checks_ok": all(v == 0 for r in results for v in r["checks"].values()),
        "figures": figures_rows(results),
        "scenarios": {r["scenario"]: r for r in results},
    }


def write(report: dict, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    j, h = out_dir / "dispatch-sim.json", out_dir / "dispatch-sim.html"
    j.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    h.write_text(render_html(report), encoding="utf-8")
    return j, h


def _grab_rows(results: list[dict]) -> list[dict]:
    rows = []
    for r in results:
        if "grab" not in r:
            continue
        g, c, ex = r["grab"], r["counts"], r["exclusions"]
        rows.append(
            {
                "scenario": r["scenario"],
                "grab wins": g["grab_wins"],
                "wins to lowest-latency 10 % (%)": g["wins_lowest_latency_decile_pct"],
                "wins to fastest-reacting 10 % (%)": g["wins_fastest_reaction_decile_pct"],
                "grabs that win (%)": g["grab_success_pct"],
                "… of the lowest-latency 10 % (%)": g["grab_success_lowest_latency_decile_pct"],
                "… of the fastest-reacting 10 % (%)": g["grab_success_fastest_reaction_decile_pct"],
                "Gini of grab wins": g["grab_gini"],
                "grabs lost": c.get("grabs lost", 0),
                "refused: rate limit": c.get("grabs refused: rate limit", 0),
                "not grabbed in time (% of orders)": g["fell_through_pct"],
                "kept out: offer cap": ex.get("too_many_offers", 0),
                "kept out: cooling down": ex.get("cooling_down", 0),
                "cool-downs": r["cooldowns_started"],
            }
        )
    return rows


def _window_rows(results: list[dict]) -> list[dict]:
    rows = []
    for r in results:
        w = r.get("window")
        if not w:
            continue
        for name in ("optimal", "greedy"):
            rows.append(
                {
                    "run (live matcher)": r["scenario"],
                    "matcher on the same windows": name,
                    "windows": w["windows"],
                    "orders matched": w[name]["matched"],
                    "total pickup km": w[name]["total_km"],
                    "mean pickup m": w[name]["mean_m"],
                }
            )
    return rows


def _first_of_each_group(results: list[dict]) -> list[dict]:
    firsts: dict[str, dict] = {}
    for r in results:
        firsts.setdefault(r["group"], r)
    return list(firsts.values())


def render_html(report: dict) -> str:
    cfg, results = report["config"], list(report["scenarios"].values())
    verdict = (
        '<span class="ok">PASS: every check is 0</span>'
        if report["checks_ok"]
        else '<span class="bad">FAIL: a check is not 0</span>'
    )
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>orderhub dispatch simulation</title><style>{CSS}</style></head><body>",
        "<h1>orderhub dispatch simulation</h1>",
        f"<p>{verdict}</p><p>"
        + esc(
            f"{cfg['providers']:,} providers · {cfg['per_min']:g} orders/min · "
            f"{cfg['duration_s']:.0f} s measured after a {cfg['warmup_s']:.0f} s warm-up · "
            f"{cfg['job_minutes'][0]:g}–{cfg['job_minutes'][1]:g} min on site · "
            f"seed {cfg['seed']} · {cfg['wall_s']:.0f} s wall on {cfg['jobs']} process(es)"
        )
        + "</p><p class='muted'>The real engine (actors/dispatch) on a simulated clock; "
        f"command: <code>{esc(cfg['command'])}</code></p>",
        "<h2>Figures</h2>",
        html_table(["scenario", *[t for _, t in FIGURES]], report["figures"]),
        "<h2>Per metric</h2><div class='charts'>",
    ]
    for key, title, color in CHARTED:
        items = [(r["scenario"], r[key]) for r in results if r.get(key) is not None]
        parts.append(bar_chart(title, items, color=color))
    groups = {"first of each group": _first_of_each_group(results)}
    for group in dict.fromkeys(r["group"] for r in results):
        groups[group] = [r for r in results if r["group"] == group]
    parts.append("</div><h2>Pickup distance</h2><div class='charts'>")
    for group, rs in groups.items():
        parts.append(
            histogram_chart(
                f"pickup distance: {group}",
                rs[0]["pickup_histogram"]["step_m"],
                {r["scenario"]: r["pickup_histogram"]["counts"] for r in rs},
            )
        )
    parts.append("</div><h2>How evenly orders spread (Lorenz curves)</h2><div class='charts'>")
    for group, rs in groups.items():
        parts.append(
            lorenz_chart(
                f"orders per provider: {group}",
                {f"{r['scenario']} (Gini {r['gini']})": r["lorenz"] for r in rs},
            )
        )
    parts.append("</div>")
    grab = _grab_rows(results)
    if grab:
        parts.append("<h2>Grab hall fairness</h2>")
        parts.append(html_table(list(grab[0]), grab))
        parts.append(
            "<p class='muted'>A hall where network latency or quick fingers did not matter "
            "would give each tenth of the providers about 10 % of the wins, and their grabs "
            "would win as often as everyone's.</p>"
        )
    window = _window_rows(results)
    if window:
        parts.append("<h2>Matching window: optimal against greedy on the same windows</h2>")
        parts.append(html_table(list(window[0]), window))
    parts.append("<h2>How orders were taken</h2>")
    hows = sorted({h for r in results for h in r["taken_by"]})
    parts.append(
        html_table(
            ["scenario", *hows],
            [{"scenario": r["scenario"], **r["taken_by"]} for r in results],
        )
    )
    parts.append(
        "<h2>Exclusions by filter (per screening of a candidate, the warm-up included)</h2>"
    )
    reasons = list(dict.fromkeys(k for r in results for k in r["exclusions"]))
    parts.append(
        html_table(
            ["scenario", *reasons],
            [{"scenario": r["scenario"], **r["exclusions"]} for r in results],
        )
    )
    parts.append("<h2>Counters (the warm-up included)</h2>")
    counters = list(dict.fromkeys(k for r in results for k in r["counts"]))
    parts.append(
        html_table(
            ["scenario", *counters], [{"scenario": r["scenario"], **r["counts"]} for r in results]
        )
    )
    parts.append("<h2>Checks (each must be 0)</h2>")
    checks = list(results[0]["checks"]) if results else []
    parts.append(
        html_table(
            ["scenario", *checks], [{"scenario": r["scenario"], **r["checks"]} for r in results]
        )
    )
    parts.append("<h2>Scenarios</h2><table><tr><th>scenario</th><th>what</th></tr>")
    parts += [f"<tr><td>{esc(r['scenario'])}</td><td>{esc(r['about'])}</td></tr>" for r in results]
    parts.append("</table><h2>Policy (defaults)</h2><pre>")
    parts.append(esc(json.dumps(cfg["policy"], indent=1)) + "</pre></body></html>")
    return "".join(parts)
