// The provider's working session, one for the app (like utils/live.js's socket): online or
// not (provider.online {lat, lng} / provider.offline, CONTRACT §7), the orders they are on,
// and the location reporting that goes with both (utils/location_report.js):
// - online, or on an order: the location is reported (mode 'order' while on any order);
// - after the socket comes back, an online provider says provider.online again with the last
//   fix (the hub takes a provider offline after 30 s without heartbeat or location);
// - offline and on no order: location updates stop.
// Pages subscribe with onChange(fn) → unsubscribe.
const live = require('./live');
const { gcj02ToWgs84 } = require('./coords');
const { LocationReporter } = require('./location_report');

let state = null;

function init() {
  if (state) return state;
  state = {
    online: false,
    status: 'offline', // 'offline' | 'online' | 'busy' (the hub's answer)
    busy: false, // a provider.online / offline call in flight
    orders: {}, // orderId → true: orders the provider is on
    listeners: [],
    socket: null,
    reporter: null,
  };
  const socket = live.getSocket();
  state.socket = socket;
  state.reporter = new LocationReporter({
    send: (fix) => (socket.connected ? socket.emit('location.update', fix) : Promise.reject(new Error('offline'))),
    onError: (err) => {
      wx.showToast({ title: '无法获取位置，请在设置中允许使用位置信息', icon: 'none' });
      changed({ locationError: err.code });
    },
  });
  state.offConnect = socket.on('connect', (ev) => {
    if (ev && ev.reconnect && state.online) sayOnline(lastFix()).catch(() => {});
  });
  return state;
}

function snapshot() {
  const s = state || { online: false, status: 'offline', busy: false, orders: {} };
  return { online: s.online, status: s.status, busy: s.busy, onOrders: Object.keys(s.orders).length };
}

function changed(extra) {
  const snap = Object.assign(snapshot(), extra || {});
  for (const fn of state.listeners.slice()) {
    try {
      fn(snap);
    } catch (e) {
      // one page's error must not stop the others
    }
  }
}

function onChange(fn) {
  init().listeners.push(fn);
  return () => {
    state.listeners = state.listeners.filter((f) => f !== fn);
  };
}

function lastFix() {
  return state.reporter.latest || state.fix || null;
}

// the report mode the session needs now
function syncReporting() {
  const onOrder = Object.keys(state.orders).length > 0;
  if (onOrder) state.reporter.start('order');
  else if (state.online) state.reporter.start('idle');
  else state.reporter.stop();
}

// One fix now (wx.getLocation, GCJ-02 → WGS-84), for going online.
function locate() {
  return new Promise((resolve, reject) => {
    wx.getLocation({
      type: 'gcj02',
      success: (res) => {
        const p = gcj02ToWgs84(res.latitude, res.longitude);
        resolve({ lat: Math.round(p.lat * 1e6) / 1e6, lng: Math.round(p.lng * 1e6) / 1e6 });
      },
      fail: (e) => reject({ code: 'location_denied', message: '无法获取位置，请在设置中允许使用位置信息', errMsg: e && e.errMsg }),
    });
  });
}

function sayOnline(fix) {
  if (!fix) return Promise.reject({ code: 'no_location', message: '还没有位置' });
  return state.socket.emit('provider.online', { lat: fix.lat, lng: fix.lng }).then((ack) => {
    if (!ack || !ack.ok) throw (ack && ack.error) || { code: 'error', message: '上线失败' };
    state.status = ack.status || 'online';
    changed();
    return ack;
  });
}

// One change of duty at a time: `busy` (shown) while `change()` runs; then, either way, not
// busy and the new state announced. Rejects at once with {code: 'busy'} during another.
function oneChangeAtATime(change) {
  init();
  if (state.busy) return Promise.reject({ code: 'busy', message: '请稍候' });
  state.busy = true;
  changed();
  return change().then(
    (ack) => {
      state.busy = false;
      syncReporting();
      changed();
      return ack;
    },
    (err) => {
      state.busy = false;
      changed();
      throw err;
    }
  );
}

// Go online where the provider is now. Resolves with the hub's ack; rejects with {code, message}.
function goOnline() {
  return oneChangeAtATime(() =>
    locate()
      .then((fix) => {
        state.fix = fix;
        return sayOnline(fix);
      })
      .then((ack) => {
        state.online = true;
        return ack;
      })
  );
}

function goOffline() {
  return oneChangeAtATime(() =>
    state.socket.emit('provider.offline', {}).then((ack) => {
      if (!ack || !ack.ok) throw (ack && ack.error) || { code: 'error', message: '下线失败' };
      state.online = false;
      state.status = 'offline';
      return ack;
    })
  );
}

// The provider is on this order (accepted..in_progress): report the location closely.
function trackOrder(orderId) {
  init().orders[String(orderId)] = true;
  syncReporting();
  changed();
}

// The order ended or was handed back.
function untrackOrder(orderId) {
  if (!state || !state.orders[String(orderId)]) return;
  delete state.orders[String(orderId)];
  syncReporting();
  changed();
}

function isOnline() {
  return !!(state && state.online);
}

// tests: forget the session
function reset() {
  if (state) {
    state.reporter.stop();
    if (state.offConnect) state.offConnect();
  }
  state = null;
}

module.exports = { goOnline, goOffline, trackOrder, untrackOrder, onChange, isOnline, snapshot, reset, reporterMode: () => (state && state.reporter.mode) || null };
