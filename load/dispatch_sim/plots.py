"""Two more inline SVG charts for the simulation report, drawn like load/charts.py's (same
colours, classes and number format; no scripts, no CDN): lines over a numeric x axis (the
pickup-distance histogram) and Lorenz curves (with the line of perfect equality)."""

from __future__ import annotations

from load.charts import COLORS, esc, fmt, legend_html, nice

W, H = 560, 260
PAD_L, PAD_R, PAD_T, PAD_B = 52, 10, 24, 34


def xy_chart(
    title: str,
    series: dict[str, list[tuple[float, float]]],
    x_label: str = "",
    y_label: str = "",
    x_max: float | None = None,
    y_max: float | None = None,
    diagonal: bool = False,
) -> str:
    """Each series a polyline of (x, y) points; axes from 0."""
    pts = [p for ps in series.values() for p in ps]
    if not pts:
        return f'<div class="chart"><h4>{esc(title)}</h4><p class="muted">no data</p></div>'
    xm = x_max or nice(max(x for x, _ in pts)) or 1.0
    ym = y_max or nice(max(y for _, y in pts) * 1.05) or 1.0

    def fx(x: float) -> float:
        return PAD_L + (W - PAD_L - PAD_R) * x / xm

    def fy(y: float) -> float:
        return PAD_T + (H - PAD_T - PAD_B) * (1 - y / ym)

    out = [
        f'<svg viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img">',
        f'<text x="{PAD_L}" y="15" class="t">{esc(title)}</text>',
    ]
    for i in range(5):
        y = ym * i / 4
        out.append(
            f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{fy(y):.1f}" y2="{fy(y):.1f}" class="g"/>'
            f'<text x="{PAD_L - 4}" y="{fy(y) + 4:.1f}" class="a" text-anchor="end">'
            f"{fmt(y)}</text>"
        )
    for i in range(6):
        x = xm * i / 5
        out.append(
            f'<text x="{fx(x):.1f}" y="{H - PAD_B + 14}" class="a" text-anchor="middle">'
            f"{fmt(x)}</text>"
        )
    out.append(
        f'<text x="{(PAD_L + W - PAD_R) / 2:.0f}" y="{H - 4}" class="a" '
        f'text-anchor="middle">{esc(x_label)}</text>'
        f'<text x="12" y="{(PAD_T + H - PAD_B) / 2:.0f}" class="a" text-anchor="middle" '
        f'transform="rotate(-90 12 {(PAD_T + H - PAD_B) / 2:.0f})">{esc(y_label)}</text>'
    )
    if diagonal:
        out.append(
            f'<line x1="{fx(0):.1f}" y1="{fy(0):.1f}" x2="{fx(xm):.1f}" y2="{fy(ym):.1f}" '
            'stroke="#bbb" stroke-dasharray="4 3"/>'
        )
    for i, ps in enumerate(series.values()):
        line = " ".join(f"{fx(x):.1f},{fy(y):.1f}" for x, y in ps)
        out.append(
            f'<polyline fill="none" stroke="{COLORS[i % len(COLORS)]}" stroke-width="1.5" '
            f'points="{line}"/>'
        )
    out.append("</svg>")
    legend = legend_html(series)
    return f'<div class="chart">{"".join(out)}<div class="legend">{legend}</div></div>'


def histogram_chart(title: str, step_m: float, counts: dict[str, list[int]]) -> str:
    """Share of orders per distance bin (%), one line per scenario, x in km."""
    series = {}
    for name, cs in counts.items():
        total = sum(cs) or 1
        series[name] = [((k + 0.5) * step_m / 1000.0, 100.0 * c / total) for k, c in enumerate(cs)]
    x_max = max((len(cs) for cs in counts.values()), default=1) * step_m / 1000.0
    return xy_chart(
        title, series, x_label="pickup distance (km)", y_label="% of orders", x_max=x_max
    )


def lorenz_chart(title: str, curves: dict[str, list[list[float]]]) -> str:
    series = {k: [(x, y) for x, y in ps] for k, ps in curves.items()}
    return xy_chart(
        title,
        series,
        x_label="share of providers (fewest orders first)",
        y_label="share of orders",
        x_max=1.0,
        y_max=1.0,
        diagonal=True,
    )
