// The provider's location, reported to the hub with location.update {lat, lng, heading?,
// speed?, at} (CONTRACT §7) from wx.startLocationUpdate / wx.onLocationChange, throttled:
// onLocationChange fires about once a second, the hub needs far less.
//
// - on an order (accepted..in_progress: the customer watches the marker move): a fix when the
//   provider moved 10 m since the last one sent, at most every 3 s, and at least every 15 s;
// - online, waiting for offers (dispatch trusts a fix for 180 s, the console greys one after
//   2 min): a fix when moved 100 m, at most every 15 s, and at least every 60 s.
// Fixes arrive in GCJ-02 and are sent in WGS-84 (utils/coords.js).
const { gcj02ToWgs84, distanceM } = require('./coords');

const RULES = {
  order: { minMs: 3000, maxMs: 15000, minMoveM: 10 },
  idle: { minMs: 15000, maxMs: 60000, minMoveM: 100 },
};

// Send this fix? last = the last fix sent ({lat, lng, ts}) or null.
function shouldSend(last, fix, now, rule) {
  if (!last) return true;
  const age = now - last.ts;
  if (age < rule.minMs) return false;
  if (age >= rule.maxMs) return true;
  return distanceM(last, fix) >= rule.minMoveM;
}

// A wx.onLocationChange result → the location.update payload (WGS-84, ISO time)
function toFix(res, now) {
  const p = gcj02ToWgs84(res.latitude, res.longitude);
  const fix = { lat: Math.round(p.lat * 1e6) / 1e6, lng: Math.round(p.lng * 1e6) / 1e6, at: new Date(now).toISOString() };
  if (typeof res.speed === 'number' && res.speed >= 0 && res.speed <= 100) fix.speed = res.speed;
  if (typeof res.heading === 'number' && res.heading >= 0 && res.heading <= 360) fix.heading = res.heading;
  return fix;
}

class LocationReporter {
  // opts: {send(fix) → Promise, now() → ms, onError(err)}
  constructor(opts) {
    this.send = opts.send;
    this.now = opts.now || (() => Date.now());
    this.onError = opts.onError || (() => {});
    this.mode = null; // null (stopped) | 'idle' | 'order'
    this.last = null;
    this.latest = null; // the newest fix seen, sent or not
    this.handler = (res) => this._onChange(res);
  }

  // Start (or switch) reporting: mode 'idle' or 'order'.
  start(mode) {
    const was = this.mode;
    this.mode = mode;
    if (was) return;
    wx.onLocationChange(this.handler);
    wx.startLocationUpdate({
      type: 'gcj02',
      fail: (e) => {
        this.stop();
        this.onError({ code: 'location_denied', message: (e && e.errMsg) || 'startLocationUpdate:fail' });
      },
    });
  }

  stop() {
    if (!this.mode) return;
    this.mode = null;
    try {
      wx.offLocationChange(this.handler);
      wx.stopLocationUpdate({});
    } catch (e) {
      // older base library: nothing to stop
    }
  }

  _onChange(res) {
    if (!this.mode || !res || typeof res.latitude !== 'number') return;
    const now = this.now();
    const fix = toFix(res, now);
    this.latest = fix;
    if (!shouldSend(this.last, fix, now, RULES[this.mode])) return;
    this.last = { lat: fix.lat, lng: fix.lng, ts: now };
    Promise.resolve(this.send(fix)).catch(() => {
      // not delivered (offline socket): the next fix goes out without waiting for minMs
      this.last = null;
    });
  }
}

module.exports = { RULES, shouldSend, toFix, LocationReporter };
