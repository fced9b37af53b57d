// Small SVG charts for the dashboard: bars (one or two series) and an optional line on a
// second axis. Drawn with DOM calls and presentation attributes only (the CSP allows no
// inline style); the SVG scales with its box through its viewBox.

const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  }
  if (text !== undefined) node.textContent = String(text);
  return node;
}

const TICKS = 4;

/** The top of an axis of TICKS steps, each 1, 2 or 5 × 10^n (at least `unit`), so every
 * gridline's label is a round number: max 5 → 8 (steps of 2), max 4 → 4. */
export function niceMax(max, unit = 1) {
  const raw = Math.max(max / TICKS, unit);
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p * TICKS;
  return 10 * p * TICKS;
}

/**
 * spec: {labels: [..], bars: [{key, name, cls, values}], line?: {key, name, cls, values, fmt},
 *        every?: label step, title}
 * Each bar is `<rect data-series=key data-index=i data-value=v>`, each line point a
 * `<circle …>`, so tests and tooltips read the figures drawn.
 */
export function barChart(spec) {
  const W = 720, H = 360, L = 44, R = spec.line ? 64 : 14, T = 26, B = 30;
  const plotW = W - L - R, plotH = H - T - B;
  const n = spec.labels.length;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": spec.title });
  const barMax = niceMax(Math.max(0, ...spec.bars.flatMap((s) => s.values)));
  const lineMax = spec.line ? niceMax(Math.max(0, ...spec.line.values), spec.line.unit || 1) : 1;
  const y = (v, max) => T + plotH - (v / max) * plotH;

  // grid and the left axis (counts), the right axis (the line's unit)
  for (let i = 0; i <= TICKS; i += 1) {
    const gy = T + (plotH * i) / TICKS;
    root.append(svg("line", { x1: L, x2: L + plotW, y1: gy, y2: gy, class: "grid" }));
    root.append(svg("text", { x: L - 6, y: gy + 4, class: "axis", "text-anchor": "end" }, barMax * (1 - i / TICKS)));
    if (spec.line) {
      const v = lineMax * (1 - i / TICKS);
      root.append(svg("text", { x: L + plotW + 6, y: gy + 4, class: "axis" }, spec.line.fmt ? spec.line.fmt(v) : v));
    }
  }
  const slot = plotW / n;
  const groupW = slot * 0.72;
  const barW = groupW / spec.bars.length;
  const every = spec.every || 1;
  for (let i = 0; i < n; i += 1) {
    const x0 = L + slot * i + (slot - groupW) / 2;
    spec.bars.forEach((s, j) => {
      const v = s.values[i] || 0;
      const top = y(v, barMax);
      const rect = svg("rect", {
        x: (x0 + j * barW).toFixed(1), y: top.toFixed(1), width: Math.max(1, barW - 1).toFixed(1),
        height: (T + plotH - top).toFixed(1), class: `bar ${s.cls}`,
        "data-series": s.key, "data-index": i, "data-value": v,
      });
      rect.append(svg("title", {}, `${spec.labels[i]} ${s.name}：${v}`));
      root.append(rect);
    });
    if (i % every === 0) {
      root.append(svg("text", { x: (L + slot * i + slot / 2).toFixed(1), y: H - 10, class: "axis", "text-anchor": "middle" }, spec.labels[i]));
    }
  }
  if (spec.line) {
    const pts = spec.line.values.map((v, i) => [L + slot * i + slot / 2, y(v || 0, lineMax)]);
    root.append(svg("polyline", { points: pts.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" "), class: `line ${spec.line.cls}` }));
    pts.forEach(([px, py], i) => {
      const v = spec.line.values[i] || 0;
      const dot = svg("circle", { cx: px.toFixed(1), cy: py.toFixed(1), r: 2.5, class: `dot ${spec.line.cls}`, "data-series": spec.line.key, "data-index": i, "data-value": v });
      dot.append(svg("title", {}, `${spec.labels[i]} ${spec.line.name}：${spec.line.fmt ? spec.line.fmt(v) : v}`));
      root.append(dot);
    });
  }
  // the key, top left
  let kx = L;
  for (const s of [...spec.bars, ...(spec.line ? [spec.line] : [])]) {
    root.append(svg("rect", { x: kx, y: 8, width: 10, height: 10, class: `key ${s.cls}` }));
    const label = svg("text", { x: kx + 14, y: 17, class: "axis" }, s.name);
    root.append(label);
    kx += 24 + s.name.length * 13;
  }
  return root;
}
