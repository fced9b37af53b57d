// The dashboard (issue #11, seeds 000–002): a China day's figures from
// GET /api/admin/dashboard, as tiles and two SVG charts (by hour, by day). Every tile carries
// its raw figure in data-value, so what is shown can be checked against a SQL recount.

import { api, download } from "./api.js";
import { el, clear, fmtYuan } from "./dom.js";
import { barChart } from "./charts.js";
import { STATUSES } from "./labels.js";

/** Today in China (UTC+8), as the hub counts days: YYYY-MM-DD. */
export function chinaToday() {
  return new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 10) return `${seconds.toFixed(1)} 秒`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} 秒`;
  if (s < 3600) return `${Math.floor(s / 60)} 分 ${s % 60} 秒`;
  return `${Math.floor(s / 3600)} 小时 ${Math.floor((s % 3600) / 60)} 分`;
}

const yuanAxis = (fen) => `¥${Math.round(fen / 100)}`;

function tile(key, title, value, text, sub) {
  return el("div", { class: "tile", dataset: { figure: key, value: value ?? "" } },
    el("div", { class: "tile-title", text: title }),
    el("div", { class: "tile-value", text }),
    sub ? el("div", { class: "tile-sub", text: sub }) : null);
}

export class Dashboard {
  constructor(root) {
    this.root = root;
    this.date = chinaToday();
    this.timer = null;
    this.loading = null;
    const picker = el("input", { type: "date", id: "dash-date", value: this.date, max: this.date });
    picker.addEventListener("change", () => { if (picker.value) { this.date = picker.value; this.load(); } });
    const refresh = el("button", { type: "button", id: "dash-refresh", text: "刷新", onclick: () => this.load() });
    this.status = el("span", { class: "muted", id: "dash-status" });
    const exporter = (id, text, file) => el("button", {
      type: "button", id, class: "export", text,
      onclick: async (event) => {
        const button = event.currentTarget;
        button.disabled = true;
        this.status.textContent = `正在导出${text}…`;
        try {
          const name = await download(`/api/admin/exports/${file}?date=${encodeURIComponent(this.date)}`);
          this.status.textContent = `已导出 ${name}`;
        } catch (err) {
          this.status.textContent = `导出失败：${err.message}`;
        } finally {
          button.disabled = false;
        }
      },
    });
    const exports = el("span", { class: "exports" },
      exporter("export-orders", "订单 Excel", "orders.xlsx"),
      exporter("export-payments", "支付 Excel", "payments.xlsx"),
      exporter("export-report", "日报 PDF", "daily-report.pdf"));
    this.body = el("div", { class: "dash-body", id: "dash-body" });
    root.append(
      el("div", { class: "dash-bar" },
        el("h2", { text: "数据看板" }),
        el("label", {}, "日期 ", picker), refresh, el("span", { class: "muted", text: "导出：" }), exports,
        el("span", { class: "spacer" }), this.status),
      this.body);
  }

  /** Reload soon (live updates arrive in bursts: one request per burst). */
  soon() {
    if (this.root.hidden || this.timer) return;
    this.timer = setTimeout(() => { this.timer = null; this.load(); }, 1500);
  }

  async load() {
    const date = this.date;
    this.status.textContent = "加载中…";
    try {
      const body = await api("GET", `/api/admin/dashboard?date=${encodeURIComponent(date)}`);
      if (date !== this.date) return; // a newer choice is on its way
      this.render(body);
      this.status.textContent = `更新于 ${new Date(body.generatedAt).toLocaleTimeString("zh-CN", { hour12: false })}`;
      this.root.dataset.loaded = body.generatedAt;
    } catch (err) {
      this.status.textContent = `加载失败：${err.message}`;
    }
  }

  render(d) {
    const o = d.orders, r = d.revenue, p = d.providers, t = d.times, a = d.acceptance;
    const statusTiles = STATUSES.map(([key, text]) => {
      const n = o.byStatus[key] || 0;
      return el("div", { class: `chip st-${key}`, dataset: { figure: `orders.byStatus.${key}`, value: n } },
        el("span", { text }), el("b", { text: n }));
    });
    clear(this.body);
    this.body.append(
      el("section", { class: "tiles" },
        tile("orders.total", `${d.date} 下单`, o.total, `${o.total} 单`),
        tile("revenue.paid", "已支付", r.paid, fmtYuan(r.paid), `${r.paidCount} 笔`),
        tile("revenue.refunded", "已退款", r.refunded, fmtYuan(r.refunded), `${r.refundCount} 笔`),
        tile("revenue.platformFee", "平台服务费", r.platformFee, fmtYuan(r.platformFee), "扣除退款冲回"),
        tile("revenue.net", "净收款", r.net, fmtYuan(r.net), "已支付 − 已退款"),
        tile("providers.active", "在线师傅（当前）", p.active, `${p.active} 人`, `空闲 ${p.online} · 服务中 ${p.busy}`),
        tile("providers.tookOrders", "当日接单师傅", p.tookOrders, `${p.tookOrders} 人`),
        tile("acceptance.ratePct", "接单率", a.ratePct, a.ratePct === null ? "—" : `${a.ratePct}%`, `${a.accepted} / ${a.decided} 单（不含待接单）`),
        tile("times.acceptAvgS", "平均接单用时", t.acceptAvgS, fmtDuration(t.acceptAvgS), `下单→接单，${t.acceptCount} 单`),
        tile("times.arriveAvgS", "平均到达用时", t.arriveAvgS, fmtDuration(t.arriveAvgS), `下单→到达，${t.arriveCount} 单`),
        tile("times.completeAvgS", "平均完成用时", t.completeAvgS, fmtDuration(t.completeAvgS), `下单→完工，${t.completeCount} 单`),
      ),
      el("section", { class: "chips" }, el("span", { class: "muted", text: "当日订单状态" }), ...statusTiles),
      el("section", { class: "charts" },
        el("figure", { class: "chart-box", id: "chart-hour" },
          el("figcaption", { text: `${d.date} 分时段：下单数与支付金额` }),
          barChart({
            title: "分时段", labels: d.byHour.map((h) => `${h.hour}时`), every: 2,
            bars: [{ key: "orders", name: "下单", cls: "s-orders", values: d.byHour.map((h) => h.orders) }],
            line: { key: "paid", name: "支付金额", cls: "s-paid", values: d.byHour.map((h) => h.paid), fmt: yuanAxis, unit: 100 },
          })),
        el("figure", { class: "chart-box", id: "chart-day" },
          el("figcaption", { text: `近 ${d.byDay.length} 天：下单、完工与支付金额` }),
          barChart({
            title: "按天", labels: d.byDay.map((x) => x.date.slice(5)), every: d.byDay.length > 16 ? 2 : 1,
            bars: [
              { key: "orders", name: "下单", cls: "s-orders", values: d.byDay.map((x) => x.orders) },
              { key: "completed", name: "完工", cls: "s-completed", values: d.byDay.map((x) => x.completed) },
            ],
            line: { key: "paid", name: "支付金额", cls: "s-paid", values: d.byDay.map((x) => x.paid), fmt: yuanAxis, unit: 100 },
          })),
      ),
    );
  }
}
