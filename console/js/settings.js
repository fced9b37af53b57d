// Settings (admins; issue #11): the catalog's prices and the platform's fee per service
// (PATCH /api/admin/services/{id}, PATCH /api/admin/services/{id}/fee), the service areas drawn
// on a map — click to add a vertex, undo, save (PATCH or POST /api/admin/areas) — and each
// area's dispatch settings (PUT /api/admin/dispatch/policies; an empty box keeps the default).

import { api } from "./api.js";
import { $, el, clear } from "./dom.js";
import { label } from "./labels.js";

// The catalog's category slugs in Chinese (the mini program's names); others as they are.
const CATEGORY_LABEL = {
  electrical: "电路维修", plumbing: "水暖管道", appliance: "家电维修", cleaning: "家政保洁",
  locks: "开锁换锁", installation: "安装服务",
};

// The dispatch settings staff change most (actors/dispatch/policy.py has every one).
const POLICY_FIELDS = [
  ["grab_window_s", "抢单时长（秒）"], ["grab_radius_m", "抢单半径（米）"],
  ["min_radius_m", "派单起始半径（米）"], ["max_radius_m", "派单最大半径（米）"],
  ["batch_size", "每批人数"], ["max_batches", "最多批次"], ["batch_s", "每批等待（秒）"],
  ["untaken_alert_min", "无人接单告警（分钟）"],
];

const fenToYuan = (fen) => (fen / 100).toFixed(2);

export class Settings {
  constructor(root, { tileUrl, onAreas = () => {} }) {
    this.root = root;
    this.tileUrl = tileUrl;
    this.onAreas = onAreas; // the live map redraws the areas
    this.msg = el("p", { class: "msg", id: "settings-msg", role: "status" });
    this.services = el("tbody", { id: "svc-body" });
    this.areaList = el("select", { id: "area-select", size: 8 });
    this.areaList.addEventListener("change", () => this.pick(Number(this.areaList.value)));
    this.policyBox = el("form", { class: "policy-form", id: "policy-form" });
    this.policyBox.addEventListener("submit", (e) => { e.preventDefault(); this.savePolicy(); });
    this.mapNode = el("div", { class: "settings-map", id: "settings-map" });
    this.points = [];
    root.append(
      this.msg,
      el("section", { class: "settings-block" },
        el("h3", { text: "服务价格与平台费率" }),
        el("table", { class: "orders", id: "svc-table" },
          el("thead", {}, el("tr", {}, ["服务", "类别", "基础价（元）", "平台费率（%）", ""].map((h) => el("th", { text: h })))),
          this.services)),
      el("section", { class: "settings-block areas-block" },
        el("h3", { text: "服务区域与派单设置" }),
        el("div", { class: "areas-row" },
          el("div", { class: "area-side" },
            this.areaList,
            el("label", {}, "区域名称", el("input", { id: "area-name", maxlength: 64, size: 12 })),
            el("label", {}, "城市", el("input", { id: "area-city", maxlength: 64, size: 12, value: "海口" })),
            el("p", { class: "hint", id: "draw-hint", text: "在地图上依次点击添加边界顶点（至少 3 个）" }),
            el("div", { class: "area-buttons" },
              el("button", { type: "button", id: "draw-new", text: "新建区域", onclick: () => this.pick(null) }),
              el("button", { type: "button", id: "draw-undo", text: "撤销顶点", onclick: () => this.undo() }),
              el("button", { type: "button", id: "draw-clear", text: "清空边界", onclick: () => { this.points = []; this.drawShape(); } }),
              el("button", { type: "button", id: "area-save", text: "保存区域", onclick: () => this.saveArea() }))),
          this.mapNode,
          this.policyBox)),
    );
  }

  say(text, bad = false) {
    this.msg.textContent = text;
    this.msg.classList.toggle("bad", bad);
    this.msg.scrollIntoView({ block: "nearest" }); // said where staff look, not off screen
  }

  async load() {
    const [services, fees, areas, policies] = await Promise.all([
      api("GET", "/api/admin/services"), api("GET", "/api/admin/service-fees"),
      api("GET", "/api/areas"), api("GET", "/api/admin/dispatch/policies"),
    ]);
    this.policies = policies;
    this.areas = areas;
    const feeOf = new Map(fees.map((f) => [f.id, f.feeRateBp]));
    clear(this.services);
    for (const s of services) this.services.append(this.serviceRow(s, feeOf.get(s.id) ?? 0));
    clear(this.areaList);
    for (const a of areas) this.areaList.append(el("option", { value: a.id, text: a.name }));
    this.ensureMap();
    this.drawAreas();
    this.pick(this.areaId && areas.some((a) => a.id === this.areaId) ? this.areaId : areas[0]?.id ?? null);
    this.root.dataset.loaded = String(Date.now());
  }

  serviceRow(s, feeBp) {
    const price = el("input", { class: "svc-price", inputmode: "decimal", size: 8, value: fenToYuan(s.basePrice) });
    const fee = el("input", { class: "svc-fee", inputmode: "decimal", size: 6, value: String(feeBp / 100) });
    const save = async () => {
      const basePrice = Math.round(Number(price.value) * 100);
      const feeRateBp = Math.round(Number(fee.value) * 100);
      if (!(basePrice > 0) || !(feeRateBp >= 0 && feeRateBp <= 10000)) {
        this.say("价格须大于 0，费率在 0 到 100 之间", true);
        return;
      }
      try {
        await api("PATCH", `/api/admin/services/${s.id}`, { basePrice });
        await api("PATCH", `/api/admin/services/${s.id}/fee`, { feeRateBp });
        this.say(`「${s.name}」已保存：¥${fenToYuan(basePrice)}，平台费率 ${feeRateBp / 100}%`);
      } catch (err) {
        this.say(`保存失败：${err.message}`, true);
      }
    };
    return el("tr", { dataset: { serviceId: s.id } },
      el("td", { text: s.name }), el("td", { text: label(CATEGORY_LABEL, s.category) }),
      el("td", {}, price), el("td", {}, fee),
      el("td", {}, el("button", { type: "button", class: "svc-save", text: "保存", onclick: save })));
  }

  // --- areas on the map ---------------------------------------------------------------------

  ensureMap() {
    if (this.map) { this.map.invalidateSize(); return; }
    this.map = L.map(this.mapNode, { attributionControl: Boolean(this.tileUrl), zoomSnap: 0.25 });
    if (this.tileUrl) L.tileLayer(this.tileUrl, { maxZoom: 19 }).addTo(this.map);
    this.others = L.featureGroup().addTo(this.map);
    this.shape = L.layerGroup().addTo(this.map);
    this.map.on("click", (e) => { this.points.push([e.latlng.lat, e.latlng.lng]); this.drawShape(); });
  }

  drawAreas() {
    this.others.clearLayers();
    for (const a of this.areas) {
      if (a.boundary?.length >= 3) this.others.addLayer(L.polygon(a.boundary, { color: "#8a99b3", weight: 1, fillOpacity: 0.04, interactive: false }));
    }
    const box = this.others.getBounds();
    if (box.isValid()) this.map.fitBounds(box.pad(0.3));
    else this.map.setView([20.03, 110.33], 11);
  }

  drawShape() {
    this.shape.clearLayers();
    const pts = this.points;
    if (pts.length >= 3) this.shape.addLayer(L.polygon(pts, { color: "#d6452f", weight: 2, fillOpacity: 0.12, className: "area-edit", interactive: false }));
    else if (pts.length === 2) this.shape.addLayer(L.polyline(pts, { color: "#d6452f", weight: 2, interactive: false }));
    for (const p of pts) this.shape.addLayer(L.circleMarker(p, { radius: 4, color: "#d6452f", fillOpacity: 1, className: "vertex", interactive: false }));
    $("draw-hint").textContent = `边界顶点：${pts.length} 个${pts.length < 3 ? "（至少 3 个）" : ""}`;
  }

  undo() {
    this.points.pop();
    this.drawShape();
  }

  pick(areaId) {
    this.areaId = areaId;
    const area = this.areas.find((a) => a.id === areaId);
    this.areaList.value = area ? String(area.id) : "";
    $("area-name").value = area ? area.name : "";
    this.points = area ? area.boundary.map((p) => [p[0], p[1]]) : [];
    this.drawShape();
    this.showPolicy(area);
  }

  async saveArea() {
    if (this.points.length < 3) { this.say("边界至少需要 3 个顶点", true); return; }
    const name = $("area-name").value.trim();
    if (!name) { this.say("请填写区域名称", true); return; }
    const n = this.points.length;
    const centerLat = this.points.reduce((s, p) => s + p[0], 0) / n;
    const centerLng = this.points.reduce((s, p) => s + p[1], 0) / n;
    const body = { name, boundary: this.points, centerLat, centerLng };
    try {
      const saved = this.areaId
        ? await api("PATCH", `/api/admin/areas/${this.areaId}`, body)
        : await api("POST", "/api/admin/areas", { ...body, city: $("area-city").value.trim() || "海口" });
      this.areaId = saved.id;
      this.say(`区域「${saved.name}」已保存（${saved.boundary.length} 个顶点）`);
      await this.load();
      this.onAreas(this.areas);
    } catch (err) {
      this.say(`保存区域失败：${err.message}`, true);
    }
  }

  // --- an area's dispatch settings ----------------------------------------------------------

  showPolicy(area) {
    const box = this.policyBox;
    clear(box);
    if (!area) { box.append(el("p", { class: "muted", text: "新建的区域保存后可设置派单参数" })); return; }
    const mine = (this.policies.items || []).find((r) => r.areaId === area.id && r.serviceId === 0);
    const config = mine ? mine.config : {};
    box.append(el("h4", { text: `「${area.name}」派单设置（留空为默认值）` }));
    for (const [key, text] of POLICY_FIELDS) {
      box.append(el("label", {}, text, el("input", {
        name: key, inputmode: "decimal", size: 8, value: config[key] ?? "",
        placeholder: String(this.policies.defaults[key]),
      })));
    }
    box.append(el("button", { type: "submit", id: "policy-save", text: "保存派单设置" }));
  }

  async savePolicy() {
    const config = {};
    for (const input of this.policyBox.querySelectorAll("input")) {
      if (input.value.trim() !== "") config[input.name] = Number(input.value);
    }
    try {
      await api("PUT", "/api/admin/dispatch/policies", { areaId: this.areaId, serviceId: 0, config });
      this.policies = await api("GET", "/api/admin/dispatch/policies");
      this.say("派单设置已保存，下一步派单起生效");
    } catch (err) {
      this.say(`保存派单设置失败：${err.message}`, true);
    }
  }
}
