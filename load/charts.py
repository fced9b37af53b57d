"""Inline SVG charts and HTML tables for the report page (no scripts, no CDN), and how
numbers are shown in them."""

from __future__ import annotations

import html
import math

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


def esc(x) -> str:
    return html.escape(str(x))


def line_chart(
    title: str, xs: list, lines: dict[str, list], unit: str = "", w=560, h=220, log=False
) -> str:
    """An SVG line chart; ``lines`` maps a label to values (None = gap)."""
    pad_l, pad_r, pad_t, pad_b = 52, 10, 24, 34
    vals = [v for vs in lines.values() for v in vs if v is not None]
    if not xs or not vals:
        return f'<div class="chart"><h4>{esc(title)}</h4><p class="muted">no data</p></div>'
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
        top = nice(vmax * 1.1)

        def fy(v):
            return pad_t + (h - pad_t - pad_b) * (1 - v / top)

        ticks = [top * i / 4 for i in range(5)]

    def fx(x):
        return pad_l + (w - pad_l - pad_r) * (x - x0) / (x1 - x0)

    out = [
        f'<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img">',
        f'<text x="{pad_l}" y="15" class="t">{esc(title)}</text>',
    ]
    for t in ticks:
        y = fy(t)
        out.append(f'<line x1="{pad_l}" x2="{w - pad_r}" y1="{y:.1f}" y2="{y:.1f}" class="g"/>')
        out.append(
            f'<text x="{pad_l - 4}" y="{y + 4:.1f}" class="a" text-anchor="end">'
            f"{fmt(t)}{esc(unit)}</text>"
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
    legend = legend_html(lines)
    svg = "".join(out)
    return f'<div class="chart">{svg}<div class="legend">{legend}</div></div>'


def bar_chart(title: str, items: list[tuple[str, float]], w=560, bar_h=18, color="#d62728") -> str:
    if not items:
        return f'<div class="chart"><h4>{esc(title)}</h4><p class="muted">none</p></div>'
    items = items[:25]
    label_w = 300
    h = 30 + bar_h * len(items) + 6
    vmax = max(v for _, v in items) or 1
    out = [
        f'<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img">',
        f'<text x="4" y="15" class="t">{esc(title)}</text>',
    ]
    for i, (k, v) in enumerate(items):
        y = 26 + i * bar_h
        bw = (w - label_w - 60) * v / vmax
        out.append(
            f'<text x="{label_w - 6}" y="{y + bar_h * 0.7:.1f}" class="a" '
            f'text-anchor="end">{esc(k[:48])}</text>'
        )
        out.append(
            f'<rect x="{label_w}" y="{y + 2}" width="{bw:.1f}" height="{bar_h - 5}" '
            f'fill="{color}"/>'
        )
        out.append(
            f'<text x="{label_w + bw + 4:.1f}" y="{y + bar_h * 0.7:.1f}" class="a">{fmt(v)}</text>'
        )
    out.append("</svg>")
    return f'<div class="chart">{"".join(out)}</div>'


def html_table(keys: list[str], rows: list[dict]) -> str:
    head = "".join(f"<th>{esc(k)}</th>" for k in keys)
    body = "".join(
        "<tr>" + "".join(f"<td>{fmt(row.get(k))}</td>" for k in keys) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def nice(v: float) -> float:
    if v <= 0:
        return 1
    e = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * e:
            return m * e
    return 10 * e


def fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        if v >= 100 or v == int(v):
            return f"{v:,.0f}"
        if v >= 1:
            return f"{v:.1f}"
        return f"{v:.2f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def legend_html(names) -> str:
    """The colour key of a chart's series, in COLORS order."""
    return "".join(
        f'<span class="lg"><i style="background:{COLORS[i % len(COLORS)]}"></i>{esc(k)}</span>'
        for i, k in enumerate(names)
    )
