// Coupons (issue #14, the staff part; admins only): every template with what became of it —
// issued, claimed, used, expired and the cost so far (GET /api/admin/coupons, docs/coupons.md)
// — with totals; create a template; pause, resume or end one; issue one to chosen customers.

import { api, download } from "./api.js";
import { chinaToday } from "./dashboard.js";
import { el, clear, fmtTime, fmtYuan } from "./dom.js";
import { label } from "./labels.js";

const STATUS = { active: "发放中", paused: "已暂停", ended: "已结束" };
const FIGURES = ["issued", "claimed", "used", "expired"];

/** What a template gives, in words: 满 100 减 20, or 8 折 (最高减 30). */
export function terms(t) {
  if (t.kind === "threshold") {
    return t.threshold ? `满 ${t.threshold / 100} 减 ${t.amountOff / 100}` : `无门槛减 ${t.amountOff / 100}`;
  }
  const rate = (100 - t.percentOff) / 10;
  return `${rate} 折${t.maxOff ? `（最高减 ${t.maxOff / 100}）` : ""}`;
}

function validity(t) {
  const parts = [];
  if (t.validDays) parts.push(`领取后 ${t.validDays} 天`);
  if (t.validTo) parts.push(`至 ${fmtTime(t.validTo)}`);
  return parts.join("，") || "—";
}

const yuanToFen = (text) => Math.round(Number(text) * 100);

export class Coupons {
  constructor(root) {
    this.root = root;
    this.msg = el("p", { class: "msg", id: "coupon-msg", role: "status" });
    this.body = el("tbody", { id: "coupon-body" });
    this.foot = el("tfoot", { id: "coupon-foot" });
    const head = ["名称", "优惠", "状态", "有效期", "库存", "剩余", "已发放", "自领", "已使用", "已过期", "成本", "操作"];
    const exporter = el("button", {
      type: "button", id: "export-coupons", class: "export", text: "导出 Excel",
      onclick: async () => {
        try {
          this.say(`已导出 ${await download(`/api/admin/exports/coupons.xlsx?date=${chinaToday()}`)}`);
        } catch (err) {
          this.say(`导出失败：${err.message}`, true);
        }
      },
    });
    root.append(
      this.form(),
      el("div", { class: "coupon-bar" }, this.msg, exporter),
      el("div", { class: "table-wrap" },
        el("table", { class: "orders coupons", id: "coupon-table" },
          el("thead", {}, el("tr", {}, head.map((h, i) => el("th", { text: h, class: i >= 4 && i <= 10 ? "num" : null })))),
          this.body, this.foot)),
    );
  }

  form() {
    const field = (text, input) => el("label", {}, text, input);
    const kind = el("select", { id: "cp-kind" },
      el("option", { value: "threshold", text: "满减" }), el("option", { value: "discount", text: "折扣" }));
    const form = el("form", { class: "action coupon-form", id: "coupon-form" },
      field("名称", el("input", { id: "cp-name", required: true, maxlength: 64, size: 14 })),
      field("类型", kind),
      field("满（元）", el("input", { id: "cp-threshold", inputmode: "decimal", size: 6 })),
      field("减（元）", el("input", { id: "cp-off", inputmode: "decimal", size: 6 })),
      field("折扣（减 %）", el("input", { id: "cp-percent", inputmode: "numeric", size: 5 })),
      field("最高减（元）", el("input", { id: "cp-max", inputmode: "decimal", size: 6 })),
      field("领取后有效天数", el("input", { id: "cp-days", inputmode: "numeric", size: 5, value: "30" })),
      field("库存", el("input", { id: "cp-stock", inputmode: "numeric", size: 6, required: true, value: "100" })),
      field("每人限领", el("input", { id: "cp-per-user", inputmode: "numeric", size: 4, value: "1" })),
      el("label", { class: "check" }, el("input", { type: "checkbox", id: "cp-new" }), "仅限新客"),
      el("button", { type: "submit", id: "coupon-create", text: "新建优惠券" }));
    const sync = () => {
      const threshold = kind.value === "threshold";
      for (const id of ["cp-threshold", "cp-off"]) form.querySelector(`#${id}`).closest("label").hidden = !threshold;
      for (const id of ["cp-percent", "cp-max"]) form.querySelector(`#${id}`).closest("label").hidden = threshold;
    };
    kind.addEventListener("change", sync);
    sync();
    form.addEventListener("submit", (e) => { e.preventDefault(); this.create(form); });
    return form;
  }

  async create(form) {
    const v = (id) => form.querySelector(`#${id}`).value.trim();
    const body = {
      name: v("cp-name"), kind: v("cp-kind"), stock: Number(v("cp-stock")),
      perUser: Number(v("cp-per-user") || 1), newCustomerOnly: form.querySelector("#cp-new").checked,
      validDays: Number(v("cp-days") || 0) || undefined,
    };
    if (body.kind === "threshold") {
      body.amountOff = yuanToFen(v("cp-off"));
      if (v("cp-threshold")) body.threshold = yuanToFen(v("cp-threshold"));
    } else {
      body.percentOff = Number(v("cp-percent"));
      if (v("cp-max")) body.maxOff = yuanToFen(v("cp-max"));
    }
    try {
      const made = await api("POST", "/api/admin/coupons", body);
      this.say(`已新建「${made.name}」`);
      form.querySelector("#cp-name").value = "";
      await this.load();
    } catch (err) {
      this.say(`新建失败：${err.message}`, true);
    }
  }

  say(text, bad = false) {
    this.msg.textContent = text;
    this.msg.classList.toggle("bad", bad);
  }

  async load() {
    const body = await api("GET", "/api/admin/coupons");
    clear(this.body);
    clear(this.foot);
    const sums = { issued: 0, claimed: 0, used: 0, expired: 0, cost: 0 };
    for (const t of body.items) {
      for (const k of Object.keys(sums)) sums[k] += t[k] || 0;
      this.body.append(this.row(t));
    }
    if (!body.items.length) this.body.append(el("tr", {}, el("td", { class: "empty", colspan: 12, text: "还没有优惠券" })));
    const num = (k, text) => el("td", { class: "num", dataset: { total: k, value: sums[k] }, text });
    this.foot.append(el("tr", { class: "totals" },
      el("td", { text: `合计（${body.total} 种）`, colspan: 6 }),
      ...FIGURES.map((k) => num(k, sums[k])), num("cost", fmtYuan(sums.cost)), el("td")));
    this.root.dataset.loaded = String(Date.now());
  }

  row(t) {
    const num = (k, text = t[k]) => el("td", { class: "num", dataset: { figure: k, value: t[k] }, text });
    const actions = el("td", { class: "coupon-actions" });
    const act = (text, status, cls = "") => el("button", {
      type: "button", class: cls, text, dataset: { status },
      onclick: (event) => this.setStatus(t, status, event.currentTarget),
    });
    if (t.status === "active") actions.append(act("暂停", "paused"));
    if (t.status === "paused") actions.append(act("恢复", "active"));
    if (t.status !== "ended") {
      actions.append(act("结束", "ended", "danger"));
      const ids = el("input", { class: "issue-ids", placeholder: "客户 ID，逗号分隔", size: 14 });
      actions.append(ids, el("button", { type: "button", class: "issue", text: "发放", onclick: () => this.issue(t, ids) }));
    }
    return el("tr", { dataset: { templateId: t.id, status: t.status } },
      el("td", { class: "ellipsis", text: t.name, title: t.name }),
      el("td", { text: `${terms(t)}${t.newCustomerOnly ? " · 新客" : ""}` }),
      el("td", { class: "status", text: label(STATUS, t.status) }),
      el("td", { text: validity(t) }),
      num("stock"), num("left"), ...FIGURES.map((k) => num(k)), num("cost", fmtYuan(t.cost)),
      actions);
  }

  async setStatus(t, status, button) {
    if (status === "ended" && button.dataset.armed !== "1") { // ending is for good: a second click
      button.dataset.armed = "1";
      button.textContent = "确认结束";
      this.say(`结束「${t.name}」后不能恢复，未使用的券将作废；再点「确认结束」`, true);
      return;
    }
    try {
      await api("PATCH", `/api/admin/coupons/${t.id}`, { status });
      this.say(`「${t.name}」${label(STATUS, status)}`);
      await this.load();
    } catch (err) {
      this.say(`操作失败：${err.message}`, true);
    }
  }

  async issue(t, input) {
    const userIds = [...new Set(input.value.split(/[\s,，]+/).filter(Boolean).map(Number))];
    if (!userIds.length || userIds.some((n) => !Number.isInteger(n) || n <= 0)) {
      this.say("请填写客户 ID（数字，逗号分隔）", true);
      return;
    }
    try {
      const res = await api("POST", `/api/admin/coupons/${t.id}/issue`, { userIds });
      const refused = res.refused.map((r) => `#${r.userId}（${label(REFUSAL, r.code)}）`).join("，");
      this.say(`「${t.name}」已发放 ${res.issued.length} 张${refused ? `；未发放：${refused}` : ""}`, res.refused.length > 0);
      await this.load();
    } catch (err) {
      this.say(`发放失败：${err.message}`, true);
    }
  }
}

const REFUSAL = {
  not_a_customer: "不是客户", out_of_stock: "库存不足", limit_reached: "已达每人限领",
  not_eligible: "不可领取",
};
