// The order table (issue #11): every order, filtered on the hub (GET /api/admin/orders) by
// status, area, service, urgency, time slot, dispatch mode and payment status, or searched by
// order number or the phone's last digits; newest first, 50 a page. Rows follow live updates
// in place. Selected pending orders can be assigned in bulk: one assign call per order, each
// row showing its own outcome.

import { api } from "./api.js";
import { el, clear, fmtTime, fmtYuan } from "./dom.js";
import { STATUSES, STATUS_LABEL, URGENCY_LABEL, MODE_LABEL, PAYMENT_LABEL, label } from "./labels.js";

const PAGE = 50;
const SLOT_LABEL = { now: "尽快（未预约）", morning: "上午 6–12 时", afternoon: "下午 12–18 时", evening: "晚上 18–24 时", night: "夜间 0–6 时" };
const PAYMENT_FILTER = { unpaid: "未支付", paying: "支付中", deposit_paid: "已付定金", paid: "已支付", refunding: "退款中", refunded: "已退款" };

function select(id, text, options) {
  return el("label", {}, text,
    el("select", { id, dataset: { filter: id.replace("f-", "") } },
      el("option", { value: "", text: "全部" }),
      ...options.map(([value, name]) => el("option", { value, text: name }))));
}

function slotOf(iso) {
  if (!iso) return "尽快";
  return fmtTime(iso);
}

export class OrderTable {
  constructor(root, { services, areas, onOpen }) {
    this.root = root;
    this.services = services;
    this.areas = new Map(areas.map((a) => [a.id, a]));
    this.onOpen = onOpen;
    this.page = 1;
    this.rows = new Map(); // orderId → {order, tr}
    this.selected = new Set();
    const filters = el("form", { class: "filters", id: "table-filters" },
      select("f-status", "状态", STATUSES),
      select("f-areaId", "区域", areas.map((a) => [a.id, a.name])),
      select("f-serviceId", "服务", [...services.values()].map((s) => [s.id, s.name])),
      select("f-urgency", "紧急程度", [["normal", "普通"], ["urgent", "加急"]]),
      select("f-slot", "预约时段", Object.entries(SLOT_LABEL)),
      select("f-dispatchMode", "派单方式", Object.entries(MODE_LABEL)),
      select("f-paymentStatus", "支付状态", Object.entries(PAYMENT_FILTER)),
      el("label", {}, "订单号 / 手机尾号", el("input", { id: "f-q", maxlength: "32", placeholder: "订单号片段，或手机后 4 位", autocomplete: "off" })),
      el("button", { type: "submit", id: "table-search", text: "查询" }),
      el("button", { type: "reset", id: "table-reset", text: "重置" }));
    filters.addEventListener("submit", (e) => { e.preventDefault(); this.page = 1; this.load(); });
    filters.addEventListener("reset", () => setTimeout(() => { this.page = 1; this.load(); }));
    for (const node of filters.querySelectorAll("select")) node.addEventListener("change", () => { this.page = 1; this.load(); });
    this.count = el("span", { id: "table-count", class: "muted" });
    this.prev = el("button", { type: "button", id: "table-prev", text: "上一页", onclick: () => { this.page -= 1; this.load(); } });
    this.next = el("button", { type: "button", id: "table-next", text: "下一页", onclick: () => { this.page += 1; this.load(); } });
    this.bulkId = el("input", { id: "bulk-provider", inputmode: "numeric", pattern: "[0-9]*", size: "8", placeholder: "师傅 ID" });
    this.bulkMsg = el("span", { id: "bulk-msg", class: "msg" });
    this.selCount = el("span", { id: "bulk-count", text: "已选 0 单" });
    const bulk = el("form", { class: "bulk", id: "bulk-form" },
      this.selCount, el("label", {}, "批量指派给 ", this.bulkId),
      el("button", { type: "submit", id: "bulk-assign", text: "批量指派" }), this.bulkMsg);
    bulk.addEventListener("submit", (e) => { e.preventDefault(); this.bulkAssign(); });
    this.all = el("input", { type: "checkbox", id: "table-all", title: "全选本页待接单" });
    this.all.addEventListener("change", () => this.selectAll(this.all.checked));
    this.body = el("tbody", { id: "table-body" });
    const head = ["订单号", "下单时间", "服务", "区域", "状态", "支付", "派单方式", "紧急", "预约", "联系人", "电话", "预估", "师傅", "指派结果"];
    root.append(
      filters,
      el("div", { class: "table-bar" }, bulk, el("span", { class: "spacer" }), this.count, this.prev, this.next),
      el("div", { class: "table-wrap" },
        el("table", { class: "orders", id: "orders-table" },
          el("thead", {}, el("tr", {}, el("th", {}, this.all), ...head.map((h) => el("th", { text: h })))),
          this.body)));
  }

  query() {
    const params = new URLSearchParams({ page: String(this.page), limit: String(PAGE) });
    for (const node of this.root.querySelectorAll("select[data-filter]")) {
      if (node.value) params.set(node.dataset.filter, node.value);
    }
    const q = this.root.querySelector("#f-q").value.trim();
    if (q) params.set("q", q);
    return params;
  }

  async load() {
    this.count.textContent = "加载中…";
    try {
      const body = await api("GET", `/api/admin/orders?${this.query()}`);
      this.render(body.items);
      const pages = Math.max(1, Math.ceil(body.total / PAGE));
      this.count.textContent = `共 ${body.total} 单 · 第 ${this.page} / ${pages} 页`;
      this.prev.disabled = this.page <= 1;
      this.next.disabled = this.page >= pages;
      this.root.dataset.loaded = String(Date.now());
    } catch (err) {
      this.count.textContent = `查询失败：${err.message}`;
    }
  }

  render(orders) {
    clear(this.body);
    this.rows.clear();
    this.selected.clear();
    this.all.checked = false;
    this.selectionChanged();
    if (!orders.length) {
      this.body.append(el("tr", {}, el("td", { colspan: "15", class: "empty", text: "没有符合条件的订单" })));
      return;
    }
    for (const order of orders) {
      const tr = el("tr", { dataset: { orderId: order.id } });
      tr.addEventListener("click", (e) => { if (e.target.tagName !== "INPUT") this.onOpen(order.id); });
      this.rows.set(order.id, { order, tr });
      this.fill(tr, order);
      this.body.append(tr);
    }
  }

  fill(tr, o) {
    const service = this.services.get(o.serviceId);
    const area = this.areas.get(o.areaId);
    const box = el("input", { type: "checkbox", class: "pick", disabled: o.status !== "pending", title: o.status === "pending" ? "选择" : "只有待接单可指派" });
    box.checked = this.selected.has(o.id);
    box.addEventListener("change", () => {
      if (box.checked) this.selected.add(o.id); else this.selected.delete(o.id);
      this.selectionChanged();
    });
    const result = tr.querySelector(".result");
    clear(tr);
    tr.className = `st-row st-${o.status}`;
    tr.dataset.status = o.status;
    tr.append(
      el("td", {}, box),
      el("td", { class: "no", text: o.orderNo }),
      el("td", { text: fmtTime(o.createdAt) }),
      el("td", { text: service ? service.name : `#${o.serviceId}` }),
      el("td", { text: area ? area.name : o.district || "—" }),
      el("td", {}, el("span", { class: `tag st-tag st-${o.status}`, text: label(STATUS_LABEL, o.status) })),
      el("td", { text: label(PAYMENT_LABEL, o.paymentStatus) }),
      el("td", { text: label(MODE_LABEL, o.dispatchMode) }),
      el("td", { text: label(URGENCY_LABEL, o.urgency) }),
      el("td", { text: slotOf(o.scheduledAt) }),
      el("td", { class: "ellipsis", text: o.contactName || "" }),
      el("td", { text: o.contactPhone || "" }),
      el("td", { class: "num", text: fmtYuan(o.price?.estimated) }),
      el("td", { text: o.providerId ? `#${o.providerId}` : "—" }),
      result || el("td", { class: "result" }),
    );
  }

  /** A live update: the row changes in place when the order is on this page. */
  update(order) {
    const held = this.rows.get(order.id);
    if (!held || held.order.seq > order.seq) return;
    held.order = { ...order, areaId: order.areaId ?? held.order.areaId };
    if (order.status !== "pending") this.selected.delete(order.id);
    this.fill(held.tr, held.order);
    this.selectionChanged();
  }

  selectAll(on) {
    for (const { order, tr } of this.rows.values()) {
      if (order.status !== "pending") continue;
      if (on) this.selected.add(order.id); else this.selected.delete(order.id);
      tr.querySelector("input.pick").checked = on;
    }
    this.selectionChanged();
  }

  selectionChanged() {
    this.selCount.textContent = `已选 ${this.selected.size} 单`;
  }

  /** Assign every selected order to one provider: one call each, each row its outcome. */
  async bulkAssign() {
    const providerId = Number(this.bulkId.value);
    if (!Number.isInteger(providerId) || providerId < 1) {
      this.bulkMsg.textContent = "请输入师傅 ID";
      this.bulkMsg.className = "msg bad";
      return;
    }
    const ids = [...this.selected];
    if (!ids.length) {
      this.bulkMsg.textContent = "请先勾选待接单的订单";
      this.bulkMsg.className = "msg bad";
      return;
    }
    this.bulkMsg.textContent = `正在指派 ${ids.length} 单…`;
    this.bulkMsg.className = "msg";
    const outcomes = await Promise.all(ids.map(async (id) => {
      const cell = this.rows.get(id)?.tr.querySelector(".result");
      try {
        await api("POST", `/api/orders/${id}/assign`, { providerId });
        if (cell) { cell.textContent = `已派给 #${providerId}`; cell.className = "result ok"; }
        // Done: not selected any more, so a second click does not offer it again.
        this.selected.delete(id);
        const box = this.rows.get(id)?.tr.querySelector("input.pick");
        if (box) box.checked = false;
        return true;
      } catch (err) {
        if (cell) { cell.textContent = `失败：${err.message}`; cell.className = "result bad"; }
        return false;
      }
    }));
    const ok = outcomes.filter(Boolean).length;
    this.all.checked = false;
    this.selectionChanged();
    this.bulkMsg.textContent = `已指派 ${ok} / ${ids.length} 单，等待师傅接单`;
    this.bulkMsg.className = ok === ids.length ? "msg" : "msg bad";
  }
}
