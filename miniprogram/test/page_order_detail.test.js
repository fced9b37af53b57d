const { installWx, handshake, sentEvents, ack, push, flush, lastSocketTask } = require('./helpers/wx');
const { openPage, texts, simulate, closePage } = require('./helpers/page');
const { serveOrder } = require('./helpers/orders');

let wx;
let page;

const ORDER = {
  id: 7, orderNo: 'OH20261129001', status: 'pending', paymentStatus: 'unpaid', dispatchMode: 'grab',
  serviceId: 1, providerId: null, customerId: 3, address: '北京市朝阳区望京街10号', lat: 39.996, lng: 116.48,
  price: { estimated: 5000, quoted: null, final: null }, createdAt: '2026-11-29T09:00:00Z', updatedAt: '2026-11-29T09:00:00Z', seq: 1,
};

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  wx.setStorageSync('orderhub.token', 'tok-c');
  serveOrder(wx, 7, () => ORDER, [{ seq: 1, status: 'pending', at: '2026-11-29T09:00:00Z', by: 'customer', detail: {} }]);
});

afterEach(() => {
  closePage(page);
  page = null;
});

const task = () => lastSocketTask(wx);
const watches = (t) => sentEvents(t).filter((e) => e.name === 'order.watch');
const status = (seq, s, extra) => Object.assign({ orderId: 7, seq, status: s, at: '2026-11-29T09:0' + seq + ':00Z', by: 'provider', detail: {} }, extra || {});

async function open() {
  page = await openPage('pages/user/order-detail', { id: '7' });
  handshake(task());
  await flush();
  return page;
}

test('shows the order and watches it from its seq', async () => {
  await open();
  expect(texts(page, '.status')).toEqual(['待接单']);
  expect(texts(page, '.payment')).toEqual(['未支付']);
  expect(texts(page, '.price')).toEqual(['¥50.00']);
  expect(texts(page, '.step-label')).toEqual(['待接单']);
  expect(texts(page, '.action')).toEqual(['取消订单']);
  expect(wx.connectSocket.mock.calls[0][0].url).toBe('ws://127.0.0.1:8000/socket.io/?EIO=4&transport=websocket');
  expect(task().sent[0]).toBe('40{"token":"tok-c"}');
  expect(watches(task()).map((w) => w.data)).toEqual([{ orderId: 7, afterSeq: 1 }]);
});

test('the timeline names each event by its action (create and dispatch are both pending)', async () => {
  await open();
  ack(task(), watches(task())[0].id, { ok: true, order: ORDER, missed: [] });
  push(task(), 'order.status', status(2, 'pending', { by: 'system', detail: { action: 'dispatch', stage: 'grab', windowS: 120 } }));
  push(task(), 'order.status', status(3, 'accepted', { detail: { action: 'grab', providerId: 11 } }));
  await flush();
  expect(texts(page, '.step-label')).toEqual(['待接单', '正在为您派单', '师傅已抢单']);
  expect(wx.__requests.filter((r) => r.path === '/api/orders/7')).toHaveLength(1); // a dispatch step fetches nothing
});

test('applies order.status events in seq order and ignores duplicates and older ones', async () => {
  await open();
  const w = watches(task())[0];
  ack(task(), w.id, { ok: true, order: ORDER, missed: [Object.assign({ type: 'status' }, status(2, 'accepted', { detail: { providerId: 11 } }))] });
  await flush();
  expect(texts(page, '.status')).toEqual(['已接单']);
  push(task(), 'order.status', status(2, 'accepted')); // the same event pushed too
  push(task(), 'order.status', status(3, 'departed'));
  push(task(), 'order.status', status(3, 'departed')); // twice
  push(task(), 'order.status', status(1, 'pending')); // old
  await flush();
  expect(texts(page, '.status')).toEqual(['已出发']);
  expect(texts(page, '.step-label')).toEqual(['待接单', '已接单', '已出发']);
  expect(page.data.order.seq).toBe(3);
  expect(page.data.order.providerId).toBe(11);
  // the page keeps its own guard too: an event it already holds changes nothing
  page.instance.onStatusEvent(status(2, 'accepted'));
  page.instance.onStatusEvent(status(3, 'cancelled'));
  expect(texts(page, '.status')).toEqual(['已出发']);
  expect(texts(page, '.step-label')).toHaveLength(3);
});

test('an event that skips a seq is held back until the watch fills the gap, then applied in order', async () => {
  await open();
  ack(task(), watches(task())[0].id, { ok: true, order: ORDER, missed: [] });
  await flush();
  push(task(), 'order.status', status(3, 'departed')); // 2 is missing
  await flush();
  expect(texts(page, '.status')).toEqual(['待接单']);
  const again = watches(task());
  expect(again[1].data).toEqual({ orderId: 7, afterSeq: 1 });
  ack(task(), again[1].id, {
    ok: true,
    order: Object.assign({}, ORDER, { status: 'departed', seq: 3 }),
    missed: [Object.assign({ type: 'status' }, status(2, 'accepted')), Object.assign({ type: 'status' }, status(3, 'departed'))],
  });
  await flush();
  expect(texts(page, '.step-label')).toEqual(['待接单', '已接单', '已出发']);
  expect(texts(page, '.status')).toEqual(['已出发']);
});

test('after a dropped socket it watches again from the last seq and applies what it missed', async () => {
  await open();
  ack(task(), watches(task())[0].id, { ok: true, order: ORDER, missed: [] });
  push(task(), 'order.status', status(2, 'accepted'));
  await flush();
  const first = task();
  first.drop();
  await simulate.sleep(550); // the first reconnect waits at most 500 ms
  expect(task()).not.toBe(first);
  handshake(task());
  await flush();
  const w = watches(task());
  expect(w.map((x) => x.data)).toEqual([{ orderId: 7, afterSeq: 2 }]);
  ack(task(), w[0].id, {
    ok: true,
    order: Object.assign({}, ORDER, { status: 'arrived', seq: 4 }),
    missed: [Object.assign({ type: 'status' }, status(3, 'departed')), Object.assign({ type: 'status' }, status(4, 'arrived'))],
  });
  await flush();
  expect(texts(page, '.status')).toEqual(['已到达']);
  expect(texts(page, '.step-label')).toEqual(['待接单', '已接单', '已出发', '已到达']);
});

test("shows the provider's live location on the map once the order is accepted", async () => {
  await open();
  ack(task(), watches(task())[0].id, { ok: true, order: ORDER, missed: [] });
  await flush();
  push(task(), 'provider.location', { orderId: 7, providerId: 11, lat: 39.99, lng: 116.47, at: new Date().toISOString() });
  await flush();
  expect(page.data.markers.map((m) => m.id)).toEqual([1]); // pending: no provider yet
  push(task(), 'order.status', status(2, 'accepted'));
  push(task(), 'provider.location', { orderId: 7, providerId: 11, lat: 39.99, lng: 116.47, at: new Date().toISOString() });
  push(task(), 'provider.location', { orderId: 8, providerId: 12, lat: 1, lng: 1, at: new Date().toISOString() }); // another order
  await flush();
  // the hub's fix is WGS-84; WeChat's map takes GCJ-02: the marker is the fix converted
  const { gcj02ToWgs84, distanceM } = require('../utils/coords');
  const provider = page.data.markers.find((m) => m.id === 2);
  expect(provider).toMatchObject({ title: '师傅' });
  const back = gcj02ToWgs84(provider.latitude, provider.longitude);
  expect(distanceM(back, { lat: 39.99, lng: 116.47 })).toBeLessThan(1);
  expect(distanceM({ lat: provider.latitude, lng: provider.longitude }, { lat: 39.99, lng: 116.47 })).toBeGreaterThan(400);
  expect(page.data.fix).toMatchObject({ lat: 39.99, lng: 116.47 });
  expect(page.data.center).toEqual({ lat: provider.latitude, lng: provider.longitude });
  // the service point too
  const home = page.data.markers.find((m) => m.id === 1);
  expect(distanceM(gcj02ToWgs84(home.latitude, home.longitude), { lat: 39.996, lng: 116.48 })).toBeLessThan(1);
  expect(home.latitude).not.toBe(39.996);
  expect(page.querySelector('.map')).toBeDefined();
  expect(texts(page, '.fix')).toEqual(['师傅位置更新于刚刚']);
});

test('cancel asks for a reason and posts it', async () => {
  wx.showActionSheet.mockImplementation((o) => o.success({ tapIndex: 1 }));
  wx.__route('POST', /^\/api\/orders\/7\/cancel$/, (req) => ({
    statusCode: 200, data: Object.assign({}, ORDER, { status: 'cancelled', seq: 2, reasonSeen: req.data.reason }),
  }));
  await open();
  page.querySelector('.action-cancel').dispatchEvent('tap');
  await flush(100);
  const req = wx.__requests.find((r) => r.path === '/api/orders/7/cancel');
  expect(req.data).toEqual({ reason: '师傅迟迟未到' });
  expect(texts(page, '.status')).toEqual(['已取消']);
  expect(texts(page, '.action')).toEqual([]);
});

test('a refused cancel (409) shows the hub message and reloads the order', async () => {
  wx.showActionSheet.mockImplementation((o) => o.success({ tapIndex: 0 }));
  wx.__route('POST', /^\/api\/orders\/7\/cancel$/, () => ({ statusCode: 409, data: { error: { code: 'invalid_transition', message: '服务已开始，无法取消' } } }));
  await open();
  const before = wx.__requests.filter((r) => r.path === '/api/orders/7').length;
  await page.instance.onCancelTap();
  await flush();
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '服务已开始，无法取消' }));
  expect(wx.__requests.filter((r) => r.path === '/api/orders/7').length).toBe(before + 1);
});
