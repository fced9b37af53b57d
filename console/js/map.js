// The live map: areas as polygons, providers as circles by state, live orders as pins.
// No tile layer unless the hub's console settings name one (HUB_CONSOLE_TILE_URL).

import { el } from "./dom.js";
import { LIVE_STATUSES } from "./labels.js";

const L = window.L;
export const STALE_MS = 2 * 60 * 1000;
const PROVIDER_COLOURS = { online: "#1a9e4b", busy: "#e07b00", offline: "#6b6b6b" };

export class LiveMap {
  constructor(node, { tileUrl, onOrder, onProvider, onDrop = () => {} }) {
    this.map = L.map(node, { zoomControl: true, attributionControl: Boolean(tileUrl), preferCanvas: false, zoomSnap: 0.25 });
    if (tileUrl) L.tileLayer(tileUrl, { maxZoom: 19 }).addTo(this.map);
    this.map.setView([20.03, 110.33], 12);
    this.areaLayer = L.featureGroup().addTo(this.map);
    this.providerLayer = L.layerGroup().addTo(this.map);
    this.orderLayer = L.layerGroup().addTo(this.map);
    this.providers = new Map(); // providerId → {summary, marker, fixMs}
    this.orders = new Map(); // orderId → marker
    this.onOrder = onOrder;
    this.onProvider = onProvider;
    this.onDrop = onDrop; // a pending order dropped on a provider: (orderId, providerId)
    this.orderAt = new Map(); // orderId → [lat, lng], where a dragged pin goes back to
    this.staleTimer = setInterval(() => this.refreshStale(), 10_000);
    this.legend().addTo(this.map);
    // Until staff move the map themselves, it keeps the areas in view when the window resizes.
    this.userMoved = false;
    const moved = () => { this.userMoved = true; };
    this.map.on("dragstart", moved);
    node.addEventListener("wheel", moved, { passive: true });
    node.addEventListener("dblclick", moved);
    this.map.zoomControl.getContainer().addEventListener("click", moved);
    // Smaller circles when zoomed out, so a city's providers stay dots, not one blob.
    this.map.on("zoomend", () => {
      const radius = this.radius();
      for (const held of this.providers.values()) held.marker.setRadius(radius);
    });
  }

  radius() {
    const zoom = this.map.getZoom();
    return zoom >= 14 ? 7 : zoom >= 12 ? 5 : 3;
  }

  fitAreas() {
    if (this.areaLayer.getLayers().length) {
      this.map.fitBounds(this.areaLayer.getBounds(), { padding: [12, 12] });
    }
  }

  legend() {
    const control = L.control({ position: "bottomleft" });
    const item = (cls, text) => el("div", {}, el("i", { class: cls }), text);
    control.onAdd = () => el("div", { class: "map-legend" },
      item("round lg-online", "师傅 空闲"), item("round lg-busy", "师傅 服务中"),
      item("round lg-offline", "师傅 离线"), item("round lg-stale", "定位超过 2 分钟"),
      item("lg-pending", "订单 待接单"), item("lg-active", "订单 进行中"));
    return control;
  }

  setAreas(areas) {
    this.areaLayer.clearLayers();
    for (const area of areas) {
      if (!Array.isArray(area.boundary) || area.boundary.length < 3) continue;
      const poly = L.polygon(area.boundary, {
        color: area.active === false ? "#999" : "#2f6fd6", weight: 2, fillOpacity: 0.06,
        className: "area",
      });
      this.areaLayer.addLayer(poly);
      // The name just inside the area's top edge, not at its centre, where orders are (the
      // screenshots showed a label over an order's pin). An element, not a string: Leaflet
      // would put a string into innerHTML.
      const box = poly.getBounds();
      this.areaLayer.addLayer(L.tooltip({
        permanent: true, direction: "bottom", className: "area-label", opacity: 0.8, offset: [0, 2],
      }).setLatLng([box.getNorth(), box.getCenter().lng]).setContent(el("span", { text: area.name })));
    }
    this.fitAreas();
  }

  /** A provider summary from console.update ({providerId, status, lat, lng, at, orders}). */
  provider(summary, receivedMs = Date.now()) {
    if (typeof summary.lat !== "number" || typeof summary.lng !== "number") return;
    let held = this.providers.get(summary.providerId);
    const parsed = Date.parse(summary.at);
    const fixMs = Number.isFinite(parsed) ? Math.min(parsed, receivedMs) : receivedMs;
    if (!held) {
      const marker = L.circleMarker([summary.lat, summary.lng], {
        radius: this.radius(), weight: 1.5, fillOpacity: 0.85,
      });
      marker.on("click", () => this.onProvider(summary.providerId));
      marker.addTo(this.providerLayer);
      held = { summary, marker, fixMs };
      this.providers.set(summary.providerId, held);
      const path = marker.getElement();
      if (path) path.dataset.providerId = summary.providerId;
    } else {
      held.marker.setLatLng([summary.lat, summary.lng]);
    }
    const moved = summary.at !== held.summary.at || !held.fixMs;
    held.summary = summary;
    if (moved) held.fixMs = fixMs;
    this.style(held);
  }

  style(held) {
    const stale = Date.now() - held.fixMs > STALE_MS;
    const state = held.summary.status in PROVIDER_COLOURS ? held.summary.status : "offline";
    const colour = stale ? "#b8b8b8" : PROVIDER_COLOURS[state];
    held.marker.setStyle({ color: colour, fillColor: colour, fillOpacity: stale ? 0.35 : 0.85 });
    const path = held.marker.getElement();
    if (path) {
      path.dataset.state = state;
      path.dataset.stale = stale ? "1" : "0";
    }
  }

  refreshStale() {
    for (const held of this.providers.values()) this.style(held);
  }

  order(order) {
    const marker = this.orders.get(order.id);
    const live = LIVE_STATUSES.has(order.status) && typeof order.lat === "number";
    if (!live) {
      if (marker) { marker.remove(); this.orders.delete(order.id); this.orderAt.delete(order.id); }
      return;
    }
    const pin = el("span", { class: `pin st-${order.status}`, dataset: { orderId: order.id, status: order.status } });
    const icon = L.divIcon({ className: "order-pin", html: pin, iconSize: [16, 16], iconAnchor: [8, 8] });
    this.orderAt.set(order.id, [order.lat, order.lng]);
    const draggable = order.status === "pending"; // drop it on a provider to assign it
    if (marker) {
      marker.setLatLng([order.lat, order.lng]);
      marker.setIcon(icon);
      if (draggable) marker.dragging.enable(); else marker.dragging.disable();
      return;
    }
    const created = L.marker([order.lat, order.lng], { icon, keyboard: true, title: order.orderNo, draggable });
    created.on("click", () => this.onOrder(order.id));
    created.on("dragend", () => this.dropped(order.id, created));
    created.addTo(this.orderLayer);
    this.orders.set(order.id, created);
  }

  /** A pin let go: on a provider's circle (within 24 px) it asks for that assignment; the pin
   * goes back to the order's place either way. */
  dropped(orderId, marker) {
    const at = this.map.latLngToContainerPoint(marker.getLatLng());
    let best = null;
    for (const [providerId, held] of this.providers) {
      if (held.summary.status === "offline") continue;
      const d = at.distanceTo(this.map.latLngToContainerPoint(held.marker.getLatLng()));
      if (d <= 24 && (!best || d < best.d)) best = { providerId, d };
    }
    marker.setLatLng(this.orderAt.get(orderId));
    if (best) this.onDrop(orderId, best.providerId);
  }

  focus(lat, lng) {
    if (typeof lat === "number" && typeof lng === "number") {
      this.userMoved = true;
      this.map.panTo([lat, lng]);
    }
  }

  invalidate() {
    // Hidden (the dashboard is shown): no size to fit to; done again when it shows.
    if (!this.map.getContainer().offsetWidth) return;
    this.map.invalidateSize();
    if (!this.userMoved) this.fitAreas();
  }
}
