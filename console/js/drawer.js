// An order's drawer: details, payments, dispatch explanation, timeline, chat (read-only);
// assign (or reassign an order a provider holds), re-open dispatch, cancel and refund.

import { api } from "./api.js";
import { $, el, clear, fmtTime, fmtYuan } from "./dom.js";
import {
  STATUS_LABEL, URGENCY_LABEL, MODE_LABEL, PAYMENT_LABEL, REASON_LABEL, LIVE_STATUSES, label,
  STAGE_LABEL, STRATEGY_LABEL, PART_LABEL, ROLE_LABEL, ACTION_LABEL,
} from "./labels.js";

const PAY_KIND_LABEL = { deposit: "定金", balance: "尾款", full: "全款" };
const PAY_ROW_LABEL = { open: "待支付", paid: "已支付", failed: "支付失败", closed: "已关闭", refunding: "退款中", refunded: "已退款" };
const REASSIGNABLE = new Set(["accepted", "departed"]);
const REFUND_LABEL = { processing: "处理中", success: "成功", failed: "失败", closed: "已关闭" };

export class Drawer {
  constructor({ services, onOrder }) {
    this.services = services;
    this.onOrder = onOrder; // an Order the hub answered with: the board and map take it
    this.orderId = null;
    $("drawer-close").addEventListener("click", () => this.close());
    $("assign-form").addEventListener("submit", (e) => { e.preventDefault(); this.assign(); });
    $("cancel-form").addEventListener("submit", (e) => { e.preventDefault(); this.cancel(); });
    $("redispatch-form").addEventListener("submit", (e) => { e.preventDefault(); this.redispatch(); });
    $("refund-form").addEventListener("submit", (e) => { e.preventDefault(); this.refund(); });
    $("assign-select").addEventListener("change", () => { $("assign-id").value = ""; });
  }

  get isOpen() { return !$("drawer").hidden; }

  close() {
    $("drawer").hidden = true;
    this.orderId = null;
  }

  async open(orderId, order) {
    this.orderId = orderId;
    $("drawer").hidden = false;
    $("action-msg").textContent = "";
    $("assign-id").value = "";
    $("cancel-reason").value = "";
    $("refund-amount").value = "";
    $("refund-reason").value = "";
    $("refund-form").hidden = true;
    clear($("drawer-payments"));
    clear($("drawer-chat"));
    if (order) this.details(order);
    await Promise.all([
      api("GET", `/api/orders/${orderId}`).then((o) => { if (this.orderId === orderId) this.details(o); }),
      this.loadTimeline(orderId),
      this.loadDispatch(orderId),
      this.loadPayments(orderId),
      this.loadChat(orderId),
    ]).catch((err) => this.message(`加载失败：${err.message}`, true));
  }

  /** A live update of the open order. */
  refresh(order) {
    if (order.id !== this.orderId) return;
    this.details(order);
    this.loadTimeline(order.id).catch(() => {});
    this.loadDispatch(order.id).catch(() => {});
    this.loadPayments(order.id).catch(() => {});
    this.loadChat(order.id).catch(() => {});
  }

  details(o) {
    const service = this.services.get(o.serviceId);
    $("drawer-title").textContent = `订单 ${o.orderNo}`;
    const rows = [
      ["状态", label(STATUS_LABEL, o.status)],
      ["服务", service ? service.name : `#${o.serviceId}`],
      ["紧急程度", label(URGENCY_LABEL, o.urgency)],
      ["派单方式", label(MODE_LABEL, o.dispatchMode)],
      ["支付", label(PAYMENT_LABEL, o.paymentStatus)],
      ["师傅", o.providerId ? `#${o.providerId}` : "未指派"],
      ["地址", o.address],
      ["区域", o.district],
      ["描述", o.description],
      ["联系人", `${o.contactName || ""} ${o.contactPhone || ""}`],
      ["预约时间", o.scheduledAt ? fmtTime(o.scheduledAt) : "尽快"],
      ["价格", `预估 ${fmtYuan(o.price?.estimated)} / 报价 ${fmtYuan(o.price?.quoted)} / 最终 ${fmtYuan(o.price?.final)}`],
      ["取消原因", o.cancelReason],
      ["下单时间", fmtTime(o.createdAt)],
    ];
    const dl = $("drawer-details");
    clear(dl);
    for (const [k, v] of rows) {
      if (v === null || v === undefined || v === "") continue;
      dl.append(el("dt", { text: k }), el("dd", { text: v, dataset: { field: k } }));
    }
    const live = LIVE_STATUSES.has(o.status);
    this.status = o.status;
    // pending: assign (a personal offer); accepted or departed: move it to another provider
    const moving = REASSIGNABLE.has(o.status);
    $("assign-form").hidden = o.status !== "pending" && !moving;
    $("assign-submit").textContent = moving ? "改派" : "指派";
    $("redispatch-form").hidden = o.status !== "pending";
    $("cancel-form").hidden = !live;
  }

  async loadTimeline(orderId) {
    const body = await api("GET", `/api/orders/${orderId}/timeline`);
    if (this.orderId !== orderId) return;
    const list = $("drawer-timeline");
    clear(list);
    for (const item of body.items) {
      const d = item.detail || {};
      const extra = [
        d.action && label(ACTION_LABEL, d.action), d.stage && label(STAGE_LABEL, d.stage), d.reason,
      ].filter(Boolean).join(" · ");
      list.append(el("li", {},
        el("time", { text: fmtTime(item.at) }),
        el("strong", { text: label(STATUS_LABEL, item.status) }),
        el("span", { class: "by", text: item.by ? label(ROLE_LABEL, item.by) : "" }),
        el("span", { class: "extra", text: extra })));
    }
  }

  async loadDispatch(orderId) {
    const box = $("drawer-dispatch");
    let body;
    try {
      body = await api("GET", `/api/orders/${orderId}/dispatch`);
    } catch (err) {
      if (this.orderId === orderId) { clear(box); box.append(el("p", { class: "muted", text: `无派单说明（${err.message}）` })); }
      return;
    }
    if (this.orderId !== orderId) return;
    clear(box);
    const st = body.state || {};
    box.append(el("p", { class: "muted", text: `阶段：${st.stage ? label(STAGE_LABEL, st.stage) : "—"}${st.pinned ? "（待人工处理）" : ""}　已尝试：${(st.tried || []).length} 位` }));
    const select = $("assign-select");
    const keep = select.value;
    clear(select);
    select.append(el("option", { value: "", text: "— 候选师傅 —" }));
    const seen = new Set();
    const items = body.items || [];
    if (!items.length) {
      box.append(el("p", { class: "muted", text: "尚无派单决策记录（抢单阶段不记录候选师傅）；可直接输入师傅 ID 指派。" }));
    }
    for (const item of [...items].reverse()) {
      const ex = item.explanation || {};
      const table = el("table", { class: "cands" },
        el("thead", {}, el("tr", {}, ["师傅", "距离", "得分", "分项", ""].map((h) => el("th", { text: h })))));
      const tbody = el("tbody");
      for (const c of ex.candidates || []) {
        const parts = Object.entries(c.parts || {}).map(([k, v]) => `${label(PART_LABEL, k)} ${Number(v).toFixed(2)}`).join(" · ");
        tbody.append(el("tr", { class: c.chosen ? "chosen" : "" },
          el("td", { text: `#${c.providerId}` }),
          el("td", { text: `${(c.distanceM / 1000).toFixed(2)} km` }),
          el("td", { text: Number(c.score).toFixed(3) }),
          el("td", { class: "parts", text: parts }),
          el("td", { text: c.chosen ? "已选" : "" })));
        if (!seen.has(c.providerId)) {
          seen.add(c.providerId);
          select.append(el("option", { value: c.providerId, text: `#${c.providerId} · ${(c.distanceM / 1000).toFixed(2)} km · ${Number(c.score).toFixed(2)}` }));
        }
      }
      table.append(tbody);
      const excluded = (ex.excluded || []).map((x) => `#${x.providerId} ${label(REASON_LABEL, x.reason)}`).join("，");
      box.append(el("section", { class: "decision" },
        el("h4", { text: `#${item.seq} ${label(STAGE_LABEL, ex.stage || item.stage)} · ${label(STRATEGY_LABEL, ex.strategy)} · ${fmtTime(item.at)}` }),
        (ex.candidates || []).length ? table : el("p", { class: "muted", text: "没有符合条件的师傅" }),
        excluded ? el("p", { class: "excluded", text: `排除（${ex.excludedCount ?? (ex.excluded || []).length}）：${excluded}` }) : null));
    }
    if ([...select.options].some((o) => o.value === keep)) select.value = keep;
  }

  async loadPayments(orderId) {
    const body = await api("GET", `/api/orders/${orderId}/payments`);
    if (this.orderId !== orderId) return;
    const box = $("drawer-payments");
    clear(box);
    this.refundable = 0;
    if (!body.items.length) { box.append(el("p", { class: "muted", text: "暂无支付" })); }
    for (const p of body.items) {
      const left = p.status === "paid" || p.status === "refunding" ? p.amount - p.refundedAmount : 0;
      this.refundable += Math.max(0, left);
      box.append(el("div", { class: "payment", dataset: { paymentId: p.id, status: p.status } },
        el("strong", { text: `${label(PAY_KIND_LABEL, p.kind)} ${fmtYuan(p.amount)}` }),
        el("span", { class: "tag", text: label(PAY_ROW_LABEL, p.status) }),
        p.refundedAmount ? el("span", { text: `已退 ${fmtYuan(p.refundedAmount)}` }) : null,
        el("time", { text: p.paidAt ? fmtTime(p.paidAt) : fmtTime(p.createdAt) }),
        ...(p.refunds || []).map((r) => el("div", { class: "refund", text: `退款 ${fmtYuan(r.amount)} · ${label(REFUND_LABEL, r.status)} · ${r.reason}` }))));
    }
    $("refund-form").hidden = this.refundable <= 0;
  }

  async loadChat(orderId) {
    const body = await api("GET", `/api/orders/${orderId}/messages`);
    if (this.orderId !== orderId) return;
    const list = $("drawer-chat");
    clear(list);
    if (!body.items.length) list.append(el("li", { class: "muted", text: "暂无聊天" }));
    for (const m of body.items) {
      const role = String(m.from || "").split(":")[0];
      list.append(el("li", { class: `msg-${role}` },
        el("time", { text: fmtTime(m.at) }),
        el("span", { class: "by", text: label(ROLE_LABEL, role) }),
        el("span", { class: "text", text: m.text })));
    }
  }

  async refund() {
    const orderId = this.orderId;
    const reason = $("refund-reason").value.trim();
    const typed = $("refund-amount").value.trim();
    if (!reason) { this.message("请填写退款原因", true); return; }
    const body = { reason };
    if (typed) {
      const fen = Math.round(Number(typed) * 100);
      if (!Number.isFinite(fen) || fen <= 0 || fen > this.refundable) {
        this.message(`退款金额应在 0.01 到 ${fmtYuan(this.refundable)} 之间`, true);
        return;
      }
      body.amount = fen;
    }
    try {
      const res = await api("POST", `/api/orders/${orderId}/refund`, body);
      const amount = res?.refund?.amount ?? body.amount ?? this.refundable;
      this.message(`已提交退款 ${fmtYuan(amount)}，等待微信支付处理`);
      $("refund-reason").value = "";
      $("refund-amount").value = "";
      await this.loadPayments(orderId);
    } catch (err) {
      this.message(`退款失败：${err.message}`, true);
    }
  }

  message(text, bad = false) {
    const msg = $("action-msg");
    msg.textContent = text;
    msg.classList.toggle("bad", bad);
  }

  async assign() {
    const orderId = this.orderId;
    const typed = $("assign-id").value.trim();
    const providerId = Number(typed || $("assign-select").value);
    if (!Number.isInteger(providerId) || providerId <= 0) {
      this.message("请选择候选师傅或输入师傅 ID", true);
      return;
    }
    await this.assignTo(orderId, providerId);
  }

  /** Assign (a personal offer) and say so in the drawer: from its form or a drop on the map.
   * An order a provider holds is reassigned: that provider leaves it, the new one is offered it. */
  async assignTo(orderId, providerId) {
    if (REASSIGNABLE.has(this.status) && orderId === this.orderId) {
      await this.reassign(orderId, providerId);
      return;
    }
    try {
      const order = await api("POST", `/api/orders/${orderId}/assign`, { providerId });
      // Staff assignment is a personal offer: the order is accepted when the provider says yes.
      this.message(`已派给师傅 #${providerId}，等待师傅接单`);
      this.onOrder(order);
    } catch (err) {
      this.message(`指派失败：${err.message}`, true);
    }
  }

  async reassign(orderId, providerId) {
    try {
      const order = await api("POST", `/api/orders/${orderId}/reassign`, { providerId });
      this.message(`已改派给师傅 #${providerId}，等待师傅接单`);
      $("assign-id").value = "";
      this.onOrder(order);
    } catch (err) {
      this.message(`改派失败：${err.message}`, true);
    }
  }

  async redispatch() {
    const orderId = this.orderId;
    try {
      const order = await api("POST", `/api/orders/${orderId}/redispatch`);
      this.message("已重新派单");
      this.onOrder(order);
    } catch (err) {
      this.message(`重新派单失败：${err.message}`, true);
    }
  }

  async cancel() {
    const orderId = this.orderId;
    const reason = $("cancel-reason").value.trim();
    if (!reason) { this.message("请填写取消原因", true); return; }
    try {
      const order = await api("POST", `/api/orders/${orderId}/cancel`, { reason });
      this.message("订单已取消");
      this.onOrder(order);
    } catch (err) {
      this.message(`取消失败：${err.message}`, true);
    }
  }
}
