// The verification queue (issue #11): providers waiting for approval
// (GET /api/admin/providers?verification=pending) with what they applied with — certificate,
// skills, areas — and approve / reject with a note the provider sees
// (POST /api/admin/providers/{id}/verify, admin only: a dispatcher sees the queue read-only).

import { api } from "./api.js";
import { $, el, clear } from "./dom.js";

const CERT_LABEL = { low_voltage: "低压电工证", high_voltage: "高压电工证", plumber: "水暖工证", appliance: "家电维修证", cleaning: "保洁证" };

export class VerifyQueue {
  constructor({ services, areas, isAdmin }) {
    this.services = services;
    this.areas = new Map(areas.map((a) => [a.id, a]));
    this.isAdmin = isAdmin;
    $("verify-toggle").addEventListener("click", () => {
      $("verify").hidden = !$("verify").hidden;
      if (!$("verify").hidden) this.load();
    });
    $("verify-close").addEventListener("click", () => { $("verify").hidden = true; });
    $("verify-hint").textContent = isAdmin ? "通过或驳回时填写的备注，师傅可以看到。" : "仅管理员可以审核；调度员只读。";
  }

  async load() {
    const body = await api("GET", "/api/admin/providers?verification=pending&limit=100");
    const list = $("verify-list");
    clear(list);
    this.count(body.total);
    if (!body.items.length) list.append(el("li", { class: "muted", text: "没有待审核的师傅" }));
    for (const p of body.items) list.append(this.item(p));
    $("verify").dataset.loaded = String(Date.now());
  }

  count(n) {
    const badge = $("verify-badge");
    badge.textContent = String(n);
    badge.hidden = !n;
  }

  item(p) {
    const skills = (p.skills || []).map((id) => this.services.get(id)?.name || `#${id}`).join("、");
    const areas = (p.serviceAreas || []).map((id) => this.areas.get(id)?.name || `#${id}`).join("、");
    const note = el("input", { class: "verify-note", maxlength: "500", placeholder: "备注（驳回时必填）" });
    const msg = el("span", { class: "msg" });
    const decide = async (approved) => {
      if (!approved && !note.value.trim()) { msg.textContent = "驳回请填写原因"; msg.className = "msg bad"; return; }
      try {
        await api("POST", `/api/admin/providers/${p.id}/verify`, { approved, note: note.value.trim() });
        item.remove();
        this.count(Math.max(0, Number($("verify-badge").textContent) - 1));
      } catch (err) {
        msg.textContent = `操作失败：${err.message}`;
        msg.className = "msg bad";
      }
    };
    const item = el("li", { class: "verify-item", dataset: { providerId: p.id } },
      el("div", { class: "alert-top" }, el("strong", { text: `${p.name} · 师傅 #${p.id}` })),
      el("dl", { class: "details" },
        el("dt", { text: "证书" }), el("dd", { text: CERT_LABEL[p.certificateType] || p.certificateType || "—" }),
        el("dt", { text: "技能" }), el("dd", { text: skills || "—" }),
        el("dt", { text: "服务区域" }), el("dd", { text: areas || "—" }),
        el("dt", { text: "接单上限" }), el("dd", { text: p.maxConcurrent ?? "—" })),
      el("div", { class: "verify-actions" }, note,
        el("button", { type: "button", class: "approve", text: "通过", disabled: !this.isAdmin, onclick: () => decide(true) }),
        el("button", { type: "button", class: "reject danger", text: "驳回", disabled: !this.isAdmin, onclick: () => decide(false) }),
        msg));
    return item;
  }
}
