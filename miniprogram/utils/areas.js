// The service areas (GET /api/areas, public), fetched once per app session: which area a point
// is in and its deposit rule. An area may ask a deposit while the order is live and the
// balance after the service (seed 001's 定金+尾款; docs/api.md "What is due"): the hub
// computes min(depositAmount, estimated); the pages only need to know it is asked, and how much.
const api = require('./api');

let cached = null;

function load() {
  if (!cached) {
    cached = api.get('/api/areas', null, { auth: false }).catch((e) => {
      cached = null; // try again next time
      throw e;
    });
  }
  return cached;
}

// Ray casting over [lat, lng] vertices, as the hub does (adapters/catalog.py point_in_polygon).
function pointInPolygon(lat, lng, polygon) {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [yi, xi] = polygon[i];
    const [yj, xj] = polygon[j];
    if (yi > lat !== yj > lat && lng < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function areaAt(areas, lat, lng) {
  return (areas || []).find((a) => a.active !== false && Array.isArray(a.boundary) && pointInPolygon(lat, lng, a.boundary)) || null;
}

// The deposit (fen) the order's area asks, 0 when none (or the areas cannot be read).
function depositFor(order) {
  if (!order || typeof order.lat !== 'number') return Promise.resolve(0);
  return load().then(
    (areas) => {
      const area = areaAt(areas, order.lat, order.lng);
      const asked = (area && area.depositAmount) || 0;
      const estimated = (order.price && order.price.estimated) || 0;
      return asked > 0 ? Math.min(asked, estimated) : 0;
    },
    () => 0
  );
}

// tests
function reset() {
  cached = null;
}

module.exports = { depositFor, areaAt, pointInPolygon, reset };
