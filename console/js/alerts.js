// Staff alerts (issue #11): the open ones from the hub when the console starts
// (GET /api/admin/alerts), then live from console.update {type: "alert", kind, alertId, ...}.
// Acknowledging goes to the hub (POST /api/admin/alerts/{id}/ack), which tells every console
// (console.update {type: "alert_ack", alertIds}): an alert leaves every screen at once. A new
// live alert rings (a short tone made with Web Audio: no sound file, nothing to load).

import { api } from "./api.js";
import { $, el, fmtTime, fmtYuan } from "./dom.js";
import { ALERT_LABEL, MODE_LABEL, label } from "./labels.js";

const DETAIL_LABEL = { orderId: "订单", providerId: "师傅", paymentId: "支付", reviewId: "评价", complaintId: "投诉", why: "原因", n: "次数", rating: "评分", minutes: "未接单超过（分钟）", dispatchMode: "派单方式", paymentKind: "支付类型", amount: "金额" };
// values shown in Chinese, not as the hub's words
const VALUE_LABEL = {
  dispatchMode: (v) => label(MODE_LABEL, v),
  paymentKind: (v) => label({ deposit: "定金", balance: "尾款", full: "全款" }, v),
  amount: (v) => fmtYuan(v),
};
const HIDDEN = new Set(["type", "kind", "alertId", "at", "ackedAt", "ackedBy", "ackNote"]);

export class Alerts {
  constructor({ onOrder, orderNo = () => null }) {
    this.onOrder = onOrder;
    this.orderNo = orderNo; // orderId → its number, when the board holds the order
    this.open = 0;
    this.seq = 0;
    this.items = new Map(); // alertId → <li>
    this.audio = null;
    $("alerts-toggle").addEventListener("click", () => { $("alerts").hidden = !$("alerts").hidden; });
    $("alerts-close").addEventListener("click", () => { $("alerts").hidden = true; });
    $("alerts-ack-all").addEventListener("click", () => this.ackAll());
    // Browsers start audio only after a gesture: the first click anywhere readies it.
    document.addEventListener("pointerdown", () => this.ready(), { once: true });
  }

  /** The open alerts kept on the hub (at start and after a reconnect). */
  async load() {
    const body = await api("GET", "/api/admin/alerts");
    for (const alert of [...body.items].reverse()) this.add(alert, { quiet: true });
  }

  add(alert, { quiet = false } = {}) {
    if (alert.alertId && this.items.has(alert.alertId)) return;
    this.seq += 1;
    const kind = alert.kind;
    const details = Object.entries(alert).filter(([k]) => !HIDDEN.has(k)).map(([k, v]) => {
      const value = VALUE_LABEL[k] ? VALUE_LABEL[k](v)
        : Array.isArray(v) ? v.join(", ") : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
      const no = k === "orderId" ? this.orderNo(v) : null;
      return `${DETAIL_LABEL[k] || k}: ${k.endsWith("Id") ? `#${value}` : value}${no ? ` ${no}` : ""}`;
    });
    const item = el("li", { class: `alert kind-${kind}`, dataset: { kind, alertId: alert.alertId || `local-${this.seq}` } },
      el("div", { class: "alert-top" },
        el("strong", { text: label(ALERT_LABEL, kind) }),
        el("time", { text: fmtTime(alert.at || new Date().toISOString()) })),
      el("div", { class: "alert-detail", text: details.join("　") }));
    const actions = el("div", { class: "alert-actions" });
    if (typeof alert.orderId === "number") {
      actions.append(el("button", { type: "button", class: "link", text: "查看订单", onclick: () => this.onOrder(alert.orderId) }));
    }
    actions.append(el("button", { type: "button", class: "ack", text: "确认", onclick: () => this.ack(item, alert.alertId) }));
    item.append(actions);
    $("alert-list").prepend(item);
    if (alert.alertId) this.items.set(alert.alertId, item);
    this.open += 1;
    this.badge();
    if (!quiet) this.ring();
  }

  async ack(item, alertId) {
    if (!alertId) { this.remove(item); return; }
    try {
      await api("POST", `/api/admin/alerts/${alertId}/ack`, { note: "" });
      this.gone([alertId]);
    } catch (err) {
      item.querySelector(".alert-detail").textContent += `（确认失败：${err.message}）`;
    }
  }

  async ackAll() {
    try {
      const seen = [...this.items.keys()].filter((id) => typeof id === "number");
      const body = seen.length
        ? await api("POST", "/api/admin/alerts/ack-all", { upTo: Math.max(...seen), note: "" })
        : { acked: [] };
      this.gone(body.acked);
    } catch { /* the badge stays: nothing was acknowledged */ }
    for (const item of [...$("alert-list").querySelectorAll("[data-alert-id^='local-']")]) this.remove(item);
  }

  /** Acknowledged on the hub (here or by a colleague): off every list. */
  gone(alertIds) {
    for (const id of alertIds || []) {
      const item = this.items.get(id);
      this.items.delete(id);
      if (item) this.remove(item);
    }
  }

  remove(item) {
    if (!item.isConnected) return;
    item.remove();
    this.open -= 1;
    this.badge();
  }

  badge() {
    const badge = $("alert-badge");
    badge.textContent = String(this.open);
    badge.hidden = this.open === 0;
  }

  ready() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!this.audio && Ctx) this.audio = new Ctx();
    if (this.audio && this.audio.state === "suspended") this.audio.resume().catch(() => {});
  }

  /** Two short beeps; counted on the badge (data-rings: asked; data-played: the audio was
   * running and the tones started) so a test can see it rang. */
  ring() {
    const badge = $("alert-badge");
    badge.dataset.rings = String(Number(badge.dataset.rings || 0) + 1);
    const ctx = this.audio;
    if (!ctx || ctx.state !== "running") return;
    badge.dataset.played = String(Number(badge.dataset.played || 0) + 1);
    for (const start of [0, 0.25]) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, ctx.currentTime + start);
      gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + start + 0.18);
      osc.connect(gain).connect(ctx.destination);
      osc.start(ctx.currentTime + start);
      osc.stop(ctx.currentTime + start + 0.2);
    }
  }
}
