// The dispatch console (issue #11, first slice): login, live board, live map, order drawer,
// alerts. Plain ES modules; Leaflet and socket.io-client are vendored (docs/console.md).

import { api, all, session, whenUnauthorized } from "./api.js";
import { $, el, fmtTime } from "./dom.js";
import { Alerts } from "./alerts.js";
import { Board } from "./board.js";
import { Coupons } from "./coupons.js";
import { Dashboard } from "./dashboard.js";
import { Drawer } from "./drawer.js";
import { LiveMap } from "./map.js";
import { OrderTable } from "./table.js";
import { Settings } from "./settings.js";
import { VerifyQueue } from "./verify.js";
import { PROVIDER_STATE_LABEL, label } from "./labels.js";

const STAFF = new Set(["admin", "dispatcher"]);
let socket = null;
const OBJECT_KINDS = new Set(["order", "provider", "locations", "payment", "alert_ack"]);
let showView = () => {};
for (const tab of document.querySelectorAll(".view-tab")) {
  tab.addEventListener("click", () => showView(tab.dataset.view));
}

function showLogin(message = "") {
  if (socket) { socket.disconnect(); socket = null; }
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("login-user").focus();
}

// This browser's id (kept in localStorage): a staff account with a phone passes an SMS code
// once per device (docs/api.md "SMS"); a known device signs in with the password alone.
function deviceId() {
  const KEY = "orderhub.console.device";
  let id = localStorage.getItem(KEY);
  if (!id) {
    id = crypto.randomUUID();
    localStorage.setItem(KEY, id);
  }
  return id;
}

let resendTimer = null;
function askSmsCode(details) {
  $("login-sms-step").hidden = false;
  $("login-sms-hint").textContent = `新设备登录：验证码已发送至 ${details.phone || "绑定手机"}，请输入短信验证码`;
  $("login-sms").required = true;
  $("login-sms").focus();
  const resend = $("login-resend");
  let left = Number(details.retryAfter) || 60;
  resend.disabled = true;
  clearInterval(resendTimer);
  const tick = () => {
    resend.textContent = left > 0 ? `重新发送（${left} 秒）` : "重新发送";
    if (left <= 0) { resend.disabled = false; clearInterval(resendTimer); }
    left -= 1;
  };
  tick();
  resendTimer = setInterval(tick, 1000);
}

async function login(event, { resend = false } = {}) {
  event.preventDefault();
  const button = $("login-submit");
  button.disabled = true;
  $("login-error").textContent = "";
  const code = $("login-sms").value.trim();
  try {
    const body = await api("POST", "/api/auth/login", {
      username: $("login-user").value.trim(),
      password: $("login-pass").value,
      deviceId: deviceId(),
      ...(code && !resend ? { smsCode: code } : {}),
    });
    if (!STAFF.has(body.user.role)) {
      $("login-error").textContent = "只有调度员和管理员可以登录调度台";
      return;
    }
    session.save(body.token, body.user);
    $("login-pass").value = "";
    location.reload(); // start clean with the token
  } catch (err) {
    if (err.code === "sms_code_required") { askSmsCode(err.details); return; }
    $("login-error").textContent = err.code === "account_locked" ? "登录失败次数过多，账号已锁定"
      : err.code === "invalid_code" ? "验证码错误或已失效，请重新输入"
        : `登录失败：${err.message}`;
  } finally {
    button.disabled = false;
  }
}

async function start() {
  const user = session.user;
  $("login").hidden = true;
  $("app").hidden = false;
  $("me").textContent = `${user.nickname || ""}（${user.role === "admin" ? "管理员" : "调度员"}）`;
  $("logout").addEventListener("click", () => { session.clear(); showLogin(); });

  const [settings, services, areas] = await Promise.all([
    fetch("settings.json", { cache: "no-store" }).then((r) => r.json()).catch(() => ({})),
    api("GET", "/api/services"),
    api("GET", "/api/areas"),
  ]);
  const serviceById = new Map(services.map((s) => [s.id, s]));

  const openOrder = (id) => {
    const order = board.get(id);
    drawer.open(id, order);
    if (order) liveMap.focus(order.lat, order.lng);
  };
  const applyOrder = (order) => {
    table.update(order);
    if (board.upsert(order)) {
      liveMap.order(order);
      drawer.refresh(order);
    }
  };
  const board = new Board($("board"), { services: serviceById, onOpen: openOrder });
  const drawer = new Drawer({ services: serviceById, onOrder: applyOrder });
  const liveMap = new LiveMap($("map"), {
    tileUrl: settings.tileUrl || null, onOrder: openOrder, onProvider: showProvider,
    onDrop: (orderId, providerId) => {
      openOrder(orderId);
      drawer.assignTo(orderId, providerId);
    },
  });
  const alerts = new Alerts({ onOrder: openOrder, orderNo: (id) => board.get(id)?.orderNo });
  const verify = new VerifyQueue({ services: serviceById, areas, isAdmin: user.role === "admin" });
  liveMap.setAreas(areas);
  const dashboard = new Dashboard($("dashboard"));
  const table = new OrderTable($("table"), { services: serviceById, areas, onOpen: openOrder });
  const coupons = new Coupons($("coupons"));
  const settingsView = new Settings($("settings"), { tileUrl: settings.tileUrl || null, onAreas: (list) => liveMap.setAreas(list) });
  $("view-coupons").hidden = user.role !== "admin"; // the coupon routes are admins' only
  $("view-settings").hidden = user.role !== "admin"; // so are the catalog's and dispatch's
  showView = (view) => {
    for (const tab of document.querySelectorAll(".view-tab")) tab.classList.toggle("on", tab.dataset.view === view);
    for (const id of ["live", "table", "dashboard", "coupons", "settings"]) $(id).hidden = view !== id;
    if (view === "live") liveMap.invalidate();
    else if (view === "table") table.load();
    else if (view === "coupons") coupons.load().catch((err) => coupons.say(`加载失败：${err.message}`, true));
    else if (view === "settings") settingsView.load().catch((err) => settingsView.say(`加载失败：${err.message}`, true));
    else dashboard.load();
  };

  function showProvider(id) {
    const held = liveMap.providers.get(id);
    const s = held ? held.summary : { providerId: id };
    const card = $("provider-card");
    if (card.dataset.providerId !== String(id)) { $("provider-msg").textContent = ""; $("offline-reason").value = ""; }
    card.dataset.providerId = String(id);
    card.hidden = false;
    $("provider-title").textContent = `师傅 #${id}`;
    const dl = $("provider-details");
    dl.replaceChildren(
      el("dt", { text: "状态" }), el("dd", { text: label(PROVIDER_STATE_LABEL, s.status) }),
      el("dt", { text: "位置" }), el("dd", { text: typeof s.lat === "number" ? `${s.lat.toFixed(5)}, ${s.lng.toFixed(5)}` : "—" }),
      el("dt", { text: "定位时间" }), el("dd", { text: held ? fmtTime(new Date(held.fixMs).toISOString()) : "—" }),
      el("dt", { text: "进行中订单" }), el("dd", {}, ...(s.orders || []).map((oid) =>
        el("button", { type: "button", class: "link", text: `#${oid}`, onclick: () => openOrder(oid) }))),
    );
  }
  $("provider-close").addEventListener("click", () => { $("provider-card").hidden = true; });
  $("offline-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = Number($("provider-card").dataset.providerId);
    const reason = $("offline-reason").value.trim();
    try {
      const body = await api("POST", `/api/admin/providers/${id}/offline`, { reason });
      $("provider-msg").textContent = `师傅 #${id} 已强制下线（${label(PROVIDER_STATE_LABEL, body.status)}）`;
      $("provider-msg").className = "msg provider-action";
      $("offline-reason").value = "";
    } catch (err) {
      $("provider-msg").textContent = `操作失败：${err.message}`;
      $("provider-msg").className = "msg bad provider-action";
    }
  });

  // Live first (events that arrive during the load are applied by seq), then the first load.
  socket = window.io({ path: "/socket.io", transports: ["websocket"], auth: { token: session.token } });
  const conn = $("conn");
  socket.on("connect", () => { conn.textContent = "● 实时"; conn.className = "conn on"; });
  socket.on("disconnect", () => { conn.textContent = "● 已断开"; conn.className = "conn off"; });
  socket.on("connect_error", (err) => {
    conn.textContent = "● 连接失败"; conn.className = "conn off";
    if (err && /token|auth/i.test(err.message || "")) showLogin("登录已失效，请重新登录");
  });
  socket.on("console.update", (msg) => {
    if (!msg || typeof msg !== "object") return;
    // CONTRACT §11 names what changed in `kind`; an alert's `kind` is the alert's own
    // (no_show, ...) beside `type: "alert"`, so a kind that names no object defers to `type`.
    const kind = OBJECT_KINDS.has(msg.kind) ? msg.kind : msg.type;
    if (kind === "order" || kind === "payment") dashboard.soon();
    if (kind === "order" && msg.order) applyOrder(msg.order);
    else if (kind === "provider" && msg.provider) {
      liveMap.provider(msg.provider);
      const card = $("provider-card");
      if (!card.hidden && card.dataset.providerId === String(msg.provider.providerId)) showProvider(msg.provider.providerId);
    }
    else if (kind === "locations" && Array.isArray(msg.providers)) {
      const now = Date.now();
      for (const p of msg.providers) liveMap.provider(p, now);
    } else if (kind === "alert") alerts.add(msg);
    else if (kind === "alert_ack") alerts.gone(msg.alertIds);
  });
  // After a reconnect, catch up on what changed while away.
  socket.io.on("reconnect", () => Promise.all([loadOrders(), loadProviders(), alerts.load()]).catch(() => {}));

  async function loadOrders() {
    const orders = await all("/api/orders", 1000);
    for (const order of orders) applyOrder(order);
  }
  // Where the online providers are now; a live update that arrived first is newer: kept.
  async function loadProviders() {
    const body = await api("GET", "/api/admin/providers/positions");
    for (const p of body.items) {
      if (!liveMap.providers.has(p.providerId)) liveMap.provider(p);
    }
  }
  await Promise.all([loadOrders(), loadProviders()]);
  await alerts.load(); // after the orders: an alert names its order's number
  await verify.load();
  document.body.dataset.ready = "1";
  window.addEventListener("resize", () => liveMap.invalidate());
}

whenUnauthorized(() => { session.clear(); showLogin("登录已失效，请重新登录"); });
$("login-form").addEventListener("submit", login);
$("login-resend").addEventListener("click", (event) => { $("login-sms").value = ""; login(event, { resend: true }); });
if (session.token && session.user && STAFF.has(session.user.role)) {
  start().catch((err) => {
    if (err.status !== 401) { $("conn").textContent = `● 加载失败：${err.message}`; }
  });
} else {
  showLogin();
}
