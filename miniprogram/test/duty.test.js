const { installWx, handshake, sentEvents, ack, flush, lastSocketTask } = require('./helpers/wx');
const { addProviderWx, loginProvider } = require('./helpers/provider');
const { simulate } = require('./helpers/page');

let wx;
let duty;

beforeEach(() => {
  jest.resetModules();
  wx = addProviderWx(installWx());
  loginProvider(wx);
  duty = require('../utils/duty');
});

afterEach(() => {
  duty.reset();
  require('../utils/live').reset();
});

const task = () => lastSocketTask(wx);
const events = (name) => sentEvents(task()).filter((e) => e.name === name);

async function connected() {
  const p = duty.goOnline();
  handshake(task());
  await flush();
  return p;
}

test('going online sends provider.online with where the provider is (WGS-84) and starts idle reporting', async () => {
  const changes = [];
  duty.onChange((s) => changes.push(s.online + '/' + s.busy));
  const p = connected();
  await flush();
  const [on] = events('provider.online');
  expect(on.data.lat).toBeCloseTo(39.9961, 3); // GCJ-02 39.9975 → WGS-84
  expect(on.data.lng).toBeCloseTo(116.475, 2);
  ack(task(), on.id, { ok: true, status: 'online' });
  await expect(p).resolves.toEqual({ ok: true, status: 'online' });
  expect(duty.isOnline()).toBe(true);
  expect(duty.snapshot().status).toBe('online');
  expect(duty.reporterMode()).toBe('idle');
  expect(changes[0]).toBe('false/true');
  expect(changes[changes.length - 1]).toBe('true/false');
});

test('a refused provider.online (not verified) stays offline with the hub reason', async () => {
  const p = connected();
  await flush();
  ack(task(), events('provider.online')[0].id, { ok: false, error: { code: 'not_verified', message: 'provider is not approved' } });
  await expect(p).rejects.toMatchObject({ code: 'not_verified' });
  expect(duty.isOnline()).toBe(false);
  expect(duty.reporterMode()).toBeNull();
});

test('no location permission: nothing is sent', async () => {
  wx.getLocation.mockImplementation((a) => a.fail({ errMsg: 'getLocation:fail auth deny' }));
  await expect(duty.goOnline()).rejects.toMatchObject({ code: 'location_denied' });
  expect(wx.connectSocket.mock.results.length ? events('provider.online') : []).toEqual([]);
});

test('location.update goes out throttled while online; on an order it is closer; offline stops it', async () => {
  const p = connected();
  await flush();
  ack(task(), events('provider.online')[0].id, { ok: true, status: 'online' });
  await p;
  wx.__moveTo(39.9975, 116.4811);
  wx.__moveTo(39.9985, 116.4811); // at once: throttled
  await flush();
  expect(events('location.update')).toHaveLength(1);
  duty.trackOrder(7);
  expect(duty.reporterMode()).toBe('order');
  expect(duty.snapshot().onOrders).toBe(1);
  const off = duty.goOffline();
  await flush();
  ack(task(), events('provider.offline')[0].id, { ok: true });
  await off;
  expect(duty.reporterMode()).toBe('order'); // still on order 7: the customer follows the marker
  duty.untrackOrder(7);
  expect(duty.reporterMode()).toBeNull();
  expect(wx.stopLocationUpdate).toHaveBeenCalled();
});

test('after the socket comes back an online provider says provider.online again with the last fix', async () => {
  const p = connected();
  await flush();
  ack(task(), events('provider.online')[0].id, { ok: true, status: 'online' });
  await p;
  const first = task();
  first.drop();
  await simulate.sleep(550);
  expect(task()).not.toBe(first);
  handshake(task());
  await flush();
  const again = events('provider.online');
  expect(again).toHaveLength(1);
  expect(again[0].data.lat).toBeCloseTo(39.9961, 3);
});
