// The live order board: one column per status; one card per order, updated in place.

import { el, fmtTime, fmtYuan, clear } from "./dom.js";
import { STATUSES, URGENCY_LABEL, MODE_LABEL, label } from "./labels.js";

export class Board {
  constructor(root, { services, onOpen }) {
    this.root = root;
    this.services = services; // id → service
    this.onOpen = onOpen;
    this.cards = new Map(); // orderId → {order, node}
    this.columns = new Map(); // status → {list, count}
    clear(root);
    for (const [status, text] of STATUSES) {
      const count = el("span", { class: "count", text: "0" });
      const list = el("div", { class: "cards" });
      root.append(
        el("section", { class: `column st-${status}`, dataset: { status } },
          el("h2", {}, el("span", { text }), count),
          list),
      );
      this.columns.set(status, { list, count });
    }
  }

  /** Apply an order (from the first load or from console.update). Returns false when stale. */
  upsert(order) {
    const held = this.cards.get(order.id);
    if (held && held.order.seq >= order.seq) return false;
    const column = this.columns.get(order.status);
    if (!column) return false;
    if (!held) {
      const node = el("article", { class: "card", tabindex: "0", dataset: { orderId: order.id } });
      node.addEventListener("click", () => this.onOpen(order.id));
      node.addEventListener("keydown", (e) => { if (e.key === "Enter") this.onOpen(order.id); });
      this.cards.set(order.id, { order, node });
      this.fill(node, order);
      this.place(node, column, order);
      this.recount(order.status);
      return true;
    }
    const before = held.order.status;
    held.order = order;
    this.fill(held.node, order);
    if (before !== order.status) {
      this.place(held.node, column, order);
      this.recount(before);
      this.recount(order.status);
      held.node.classList.remove("flash");
      void held.node.offsetWidth; // restart the animation
    }
    held.node.classList.add("flash");
    return true;
  }

  place(node, column, order) {
    // Newest first: before the first card with a smaller id.
    let next = null;
    for (const other of column.list.children) {
      if (Number(other.dataset.orderId) < order.id) { next = other; break; }
    }
    column.list.insertBefore(node, next);
  }

  recount(status) {
    const column = this.columns.get(status);
    if (column) column.count.textContent = String(column.list.children.length);
  }

  fill(node, o) {
    const service = this.services.get(o.serviceId);
    clear(node);
    node.className = `card urg-${o.urgency}${node.classList.contains("flash") ? " flash" : ""}`;
    node.append(
      el("div", { class: "card-top" },
        el("span", { class: "no", text: o.orderNo, title: o.orderNo }),
        o.urgency && o.urgency !== "normal"
          ? el("span", { class: `tag urg urg-${o.urgency}`, text: label(URGENCY_LABEL, o.urgency) })
          : null),
      el("div", { class: "svc", text: service ? service.name : `服务 #${o.serviceId}` }),
      el("div", { class: "addr", text: o.district || o.address || "" }),
      el("div", { class: "desc", text: o.description || "" }),
      el("div", { class: "card-foot" },
        el("span", { text: label(MODE_LABEL, o.dispatchMode) }),
        el("span", { text: o.providerId ? `师傅 #${o.providerId}` : "未指派" }),
        el("span", { text: fmtYuan(o.price && (o.price.final ?? o.price.quoted ?? o.price.estimated)) }),
        el("time", { text: fmtTime(o.createdAt) })),
    );
  }

  get(orderId) {
    const held = this.cards.get(orderId);
    return held ? held.order : null;
  }
}
