"""The few lines a run prints when it ends: the verdict, every check, the client latencies
and what else stands out (skipped orders, errors, contention, ramp and storm tables)."""

from __future__ import annotations

from load.checks import CHECKS
from load.hub_stalls import line as stalls_line


def print_summary(report: dict) -> None:
    print()
    print(f"== {report['config']['scenario']}: " + ("PASS" if report["ok"] else "FAIL") + " ==")
    for name in CHECKS:
        print(f"  {name:<42} {report['checks']['counts'].get(name)}")
    print("  latency ms                               count     p50     p95     p99")
    for name, s in report["summary"].items():
        if name.startswith("REST ") and name != "REST call":
            continue
        print(f"  {name[:38]:<38} {s['count']:>9} {_f(s['p50'])} {_f(s['p95'])} {_f(s['p99'])}")
    skipped = report["counters"].get("orders skipped (every customer busy)", 0)
    if skipped:
        print(
            f"  note: {skipped} orders were not placed because every customer already had two"
            " open orders: add --customers (or raise --time-scale) to reach --rate"
        )
    errs = report["errors"]
    if errs:
        print("  errors: " + ", ".join(f"{k} ×{v}" for k, v in list(errs.items())[:8]))
    if report.get("features", {}).get("payments") is False:
        print("  payments: none (the hub answers POST /api/payments with 404)")
    elif report["meta"].get("payments", "").startswith("no WeChat sandbox"):
        print(f"  payments: none ({report['meta']['payments']})")
    else:
        print("  " + payment_line(report.get("payments") or {}))
    c = report["contention"]
    if c.get("orders"):
        print(f"  contention: {c}")
    cap = report.get("capacity")
    if report["config"]["scenario"] == "ramp" and cap:
        for row in cap["windows"]:
            print("  ramp " + ", ".join(f"{k} {v}" for k, v in row.items()))
        print("  " + ", ".join(f"{k}: {v}" for k, v in cap.items() if k != "windows"))
    storm = report.get("grab_storm")
    if storm:
        for row in storm["orders"]:
            print("  storm order " + ", ".join(f"{k} {v}" for k, v in row.items()))
    print(f"  cpu: {report['cpu']}")
    if "hub_stalls" in report:
        print("  " + stalls_line(report["hub_stalls"]))
    print(f"  report: {report['files']['html']}  {report['files']['json']}")


def payment_line(p: dict) -> str:
    """payments: prepaid N, paid N, failed N, cancelled N, notifications received N, …"""
    keys = ("prepaid", "paid", "failed", "cancelled", "notifications received")
    parts = [f"{k} {'-' if p.get(k) is None else p[k]}" for k in keys]
    parts.append(f"query fall-backs {p.get('query fall-backs', 0)}")
    return "payments: " + ", ".join(parts)


def _f(v) -> str:
    return f"{v:>7.1f}" if isinstance(v, int | float) else f"{'-':>7}"
