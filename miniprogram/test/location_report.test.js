const { installWx, flush } = require('./helpers/wx');
const { addProviderWx } = require('./helpers/provider');
const coords = require('../utils/coords');
const { RULES, shouldSend, toFix, LocationReporter } = require('../utils/location_report');

let wx;
beforeEach(() => {
  wx = addProviderWx(installWx());
});

test('GCJ-02 and WGS-84: the offset in Beijing is a few hundred metres, the round trip under a metre', () => {
  const w = { lat: 39.908692, lng: 116.397477 };
  const g = coords.wgs84ToGcj02(w.lat, w.lng);
  const shift = coords.distanceM(w, g);
  expect(shift).toBeGreaterThan(300);
  expect(shift).toBeLessThan(700);
  expect(coords.distanceM(coords.gcj02ToWgs84(g.lat, g.lng), w)).toBeLessThan(1);
  expect(coords.wgs84ToGcj02(48.85, 2.35)).toEqual({ lat: 48.85, lng: 2.35 }); // Paris: the same
  expect(coords.distanceM({ lat: 39.9, lng: 116.4 }, { lat: 40.0, lng: 116.4 })).toBeCloseTo(11119, -1);
});

test('throttle: at most every minMs, at least every maxMs, else when moved far enough', () => {
  const r = RULES.order;
  const at = { lat: 39.9, lng: 116.4 };
  const last = { lat: 39.9, lng: 116.4, ts: 0 };
  const moved = (m) => ({ lat: 39.9 + m / 111195, lng: 116.4 });
  expect(shouldSend(null, at, 0, r)).toBe(true);
  expect(shouldSend(last, moved(500), r.minMs - 1, r)).toBe(false); // too soon, however far
  expect(shouldSend(last, moved(5), r.minMs, r)).toBe(false); // not moved enough
  expect(shouldSend(last, moved(12), r.minMs, r)).toBe(true);
  expect(shouldSend(last, at, r.maxMs, r)).toBe(true); // standing still: still one every maxMs
  expect(shouldSend(last, moved(50), RULES.idle.minMs, RULES.idle)).toBe(false); // idle wants 100 m
  expect(shouldSend(last, moved(120), RULES.idle.minMs, RULES.idle)).toBe(true);
});

test('a WeChat fix becomes the contract payload: WGS-84, time, speed and heading when valid', () => {
  const g = coords.wgs84ToGcj02(39.99, 116.48);
  const fix = toFix({ latitude: g.lat, longitude: g.lng, speed: -1, heading: 90 }, Date.parse('2026-11-29T10:00:00Z'));
  expect(fix.lat).toBeCloseTo(39.99, 5);
  expect(fix.lng).toBeCloseTo(116.48, 5);
  expect(fix.at).toBe('2026-11-29T10:00:00.000Z');
  expect(fix.speed).toBeUndefined(); // -1: unknown
  expect(fix.heading).toBe(90);
});

test('the reporter listens while started, sends throttled fixes, switches mode and stops', async () => {
  let now = 0;
  const sent = [];
  const rep = new LocationReporter({ send: (f) => sent.push(f), now: () => now });
  rep.start('order');
  expect(wx.startLocationUpdate).toHaveBeenCalledWith(expect.objectContaining({ type: 'gcj02' }));
  wx.__moveTo(39.99, 116.48);
  now = 1000;
  wx.__moveTo(39.991, 116.48); // 1 s later: throttled
  now = 3000;
  wx.__moveTo(39.991, 116.48); // 3 s, moved 111 m: sent
  expect(sent).toHaveLength(2);
  rep.start('idle'); // a switch does not subscribe twice
  expect(wx.onLocationChange).toHaveBeenCalledTimes(1);
  now = 10000;
  wx.__moveTo(39.992, 116.48); // idle: 7 s after the last is too soon
  expect(sent).toHaveLength(2);
  now = 63000;
  wx.__moveTo(39.992, 116.48);
  expect(sent).toHaveLength(3);
  rep.stop();
  expect(wx.stopLocationUpdate).toHaveBeenCalled();
  expect(wx.__locationHandlers).toHaveLength(0);
  wx.__moveTo(40, 116);
  expect(sent).toHaveLength(3);
  expect(rep.latest.lat).toBeCloseTo(39.992 - 0.0014, 2);
});

test('a fix not delivered lets the next one go without waiting; a refused location is reported', async () => {
  let now = 0;
  let fail = true;
  const sent = [];
  const errors = [];
  const rep = new LocationReporter({ send: (f) => (fail ? Promise.reject(new Error('offline')) : sent.push(f)), now: () => now, onError: (e) => errors.push(e) });
  rep.start('order');
  wx.__moveTo(39.99, 116.48);
  await flush();
  fail = false;
  now = 500;
  wx.__moveTo(39.99, 116.48);
  expect(sent).toHaveLength(1);
  rep.stop();
  wx.startLocationUpdate.mockImplementation((a) => a.fail({ errMsg: 'startLocationUpdate:fail auth deny' }));
  rep.start('idle');
  expect(errors).toEqual([{ code: 'location_denied', message: 'startLocationUpdate:fail auth deny' }]);
  expect(rep.mode).toBeNull();
});
