"""The table the actor bench prints at the end: one row per placement and entity, one per
location rate step, then what went wrong on the way and the machine's load."""

from __future__ import annotations


def fmt(v, unit: str = "") -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        v = f"{v:,.1f}"
    return f"{v}{unit}"


def kb(v) -> str:
    if v is None:
        return "-"
    return f"{v / 1024:,.1f} MB" if abs(v) >= 10 * 1024 else f"{v:,.1f} kB"


def table(report: dict) -> str:
    phases = report["phases"]
    parts = [memory_rows(phases), location_rows(phases.get("locations")), notes(report)]
    return "\n\n".join(p for p in parts if p)


def memory_rows(phases: dict) -> str:
    mem = [p for p in ("sharded", "dedicated") if p in phases]
    if not mem:
        return ""
    head = (
        f"{'placement':<10} {'entity':<9} {'count':>6} {'live':>6} {'created/s':>10}"
        f" {'uss/entity':>12} {'rss/entity':>12} {'total rss':>10}"
    )
    lines = [head, "-" * len(head)]
    for placement in mem:
        phase = phases[placement]
        if "error" in phase:
            lines.append(f"{placement:<10} FAILED: {phase['error'][:100]}")
            continue
        for entity in ("order", "provider"):
            e = phase[entity]
            total = f"{e['totalRssMb']:,.0f} MB" if "totalRssMb" in e else "-"
            lines.append(
                f"{placement:<10} {entity:<9} {e['made']:>6} {e['live']:>6}"
                f" {fmt(e['perSecond']):>10} {kb(e['ussKbPerEntity']):>12}"
                f" {kb(e['rssKbPerEntity']):>12} {total:>10}"
            )
    return "\n".join(lines)


def location_rows(loc: dict | None) -> str:
    if not loc:
        return ""
    head = (
        f"{'locations':<10} {'offered/s':>9} {'delivered/s':>11} {'p50 ms':>7} {'p95 ms':>7}"
        f" {'p99 ms':>7} {'max ms':>7} {'lost':>6} {'coalesced':>9} {'gen cpu':>8}"
        f" {'hub cpu':>8} {'hosts cpu':>9} {'machine':>8} {'redis p99':>9} {'health p99':>10}"
        f" {'sub buf':>8}"
    )
    lines = [head, "-" * len(head)]
    if "error" in loc:
        lines.append(f"FAILED: {loc['error'][:120]}")
        return "\n".join(lines)
    for s in loc["steps"]:
        c = s["cpu"]
        lines.append(
            f"{'P=' + str(loc['providers']):<10} {fmt(s['offeredPerSecond']):>9}"
            f" {fmt(s['deliveredPerSecond']):>11} {fmt(s['p50Ms']):>7}"
            f" {fmt(s['p95Ms']):>7} {fmt(s['p99Ms']):>7} {fmt(s['maxMs']):>7}"
            f" {s['lost']:>6} {s['lostSuperseded']:>9}"
            f" {fmt(c['generatorCpuPct'], '%'):>8}"
            f" {fmt(c['hubCpuPct'], '%'):>8} {fmt(c['hostsCpuPct'], '%'):>9}"
            f" {fmt(c['machineBusyPct'], '%'):>8}"
            f" {fmt(s['redisPing']['p99Ms'], ' ms'):>9}"
            f" {fmt(s['hubHealth']['p99Ms'], ' ms'):>10}"
            f" {kb(s['hubSubscriberBacklog']['maxOutputKb']):>8}"
        )
    return "\n".join(lines)


def notes(report: dict) -> str:
    """Retries, lost sockets and failed calls of every phase; the machine's load."""
    lines = []
    kinds = (("httpRetries", "HTTP requests retried"), ("socketDrops", "sockets lost"))
    for name, phase in report["phases"].items():
        for key, what in kinds:
            info = phase.get(key) or {}
            if info.get("count"):
                lines.append(f"{name}: {info['count']} {what}, e.g. {info['first'][0]}")
        for entity in ("order", "provider"):
            e = phase.get(entity) or {}
            if e.get("errors"):
                lines.append(f"{name}: {e['errors']} {entity}s failed, e.g. {e['errorSamples'][0]}")
    m = report["machine"]
    lines.append(
        f"machine: {m['cpus']} cpus, loadavg at start {m['start']['loadavg']},"
        f" at end {m.get('end', {}).get('loadavg')}; cpu % = share of one core"
        f" (machine: all processes, {m['cpus'] * 100} % = every core busy)"
    )
    return "\n".join(lines)
