// Staff alerts from console.update {type: "alert", kind, ...}. Acknowledging hides an alert
// in this page only (this slice keeps no acknowledgement on the hub; docs/console.md).

import { $, el, fmtTime } from "./dom.js";
import { ALERT_LABEL, label } from "./labels.js";

const DETAIL_LABEL = { orderId: "订单", providerId: "师傅", paymentId: "支付", why: "原因", n: "次数" };

export class Alerts {
  constructor({ onOrder }) {
    this.onOrder = onOrder;
    this.open = 0;
    this.seq = 0;
    $("alerts-toggle").addEventListener("click", () => { $("alerts").hidden = !$("alerts").hidden; });
    $("alerts-close").addEventListener("click", () => { $("alerts").hidden = true; });
    $("alerts-ack-all").addEventListener("click", () => {
      for (const item of [...$("alert-list").children]) this.ack(item);
    });
  }

  add(alert) {
    this.seq += 1;
    const { type, kind, ...rest } = alert;
    const details = Object.entries(rest).map(([k, v]) => {
      const value = Array.isArray(v) ? v.join(", ") : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
      return `${DETAIL_LABEL[k] || k}: ${k.endsWith("Id") ? `#${value}` : value}`;
    });
    const item = el("li", { class: `alert kind-${kind}`, dataset: { kind, alertId: this.seq } },
      el("div", { class: "alert-top" },
        el("strong", { text: label(ALERT_LABEL, kind) }),
        el("time", { text: fmtTime(new Date().toISOString()) })),
      el("div", { class: "alert-detail", text: details.join("　") }));
    const actions = el("div", { class: "alert-actions" });
    if (typeof rest.orderId === "number") {
      actions.append(el("button", { type: "button", class: "link", text: "查看订单", onclick: () => this.onOrder(rest.orderId) }));
    }
    actions.append(el("button", { type: "button", class: "ack", text: "确认", onclick: () => this.ack(item) }));
    item.append(actions);
    $("alert-list").prepend(item);
    this.open += 1;
    this.badge();
  }

  ack(item) {
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
}
