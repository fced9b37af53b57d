const { installWx, handshake, sentEvents, ack, push, flush, lastSocketTask } = require('./helpers/wx');
const { addProviderWx, loginProvider } = require('./helpers/provider');
const { openPage, texts, simulate, closePage } = require('./helpers/page');

let wx;
let page;

const inSecs = (s) => new Date(Date.now() + s * 1000).toISOString();
const offer = (id, distanceM, secs, extra) =>
  Object.assign({ orderId: id, serviceId: 1, distanceM, price: 8000, address: '朝阳区', urgency: 'normal', dispatchMode: 'grab', expiresAt: inSecs(secs) }, extra || {});

beforeEach(() => {
  jest.resetModules();
  wx = addProviderWx(installWx());
  loginProvider(wx);
  wx.__route('GET', /^\/api\/services$/, () => ({ statusCode: 200, data: [{ id: 1, category: 'electrical', name: '电路检修' }, { id: 2, category: 'plumbing', name: '水管维修' }] }));
});

afterEach(() => {
  jest.restoreAllMocks();
  closePage(page);
  page = null;
});

const task = () => lastSocketTask(wx);
const events = (name) => sentEvents(task()).filter((e) => e.name === name);

async function open(offers) {
  page = await openPage('pages/electrician/hall', {});
  handshake(task());
  await flush();
  const snaps = events('hall.snapshot');
  expect(snaps).toHaveLength(1);
  ack(task(), snaps[0].id, { ok: true, offers: offers || [] });
  await flush();
  return page;
}

test('the snapshot on connect fills the hall: service, district, distance, price, countdown, nearest first', async () => {
  // The countdown is read against a clock that stands still: on a loaded machine the wall
  // clock moved a second or two between making the offers and reading the page.
  const now = Date.now();
  jest.spyOn(Date, 'now').mockReturnValue(now);
  await open([offer(5, 1500, 90), offer(6, 420, 30, { serviceId: 2, urgency: 'urgent', address: '海淀区' })]);
  expect(texts(page, '.offer-service')).toEqual(['水管维修', '电路检修']);
  expect(texts(page, '.offer-address')).toEqual(['海淀区', '朝阳区']);
  expect(texts(page, '.offer-distance')).toEqual(['距离 420米', '距离 1.5公里']);
  expect(texts(page, '.offer-price')).toEqual(['¥80.00', '¥80.00']);
  expect(texts(page, '.tag-urgent')).toEqual(['加急']);
  const [c1, c2] = texts(page, '.countdown');
  expect(c1).toBe('剩余 00:30');
  expect(c2).toBe('剩余 01:30');
  expect(texts(page, '.duty-status')).toEqual(['未上线']);
});

test('offers appear and vanish live, and run out on their own', async () => {
  await open([]);
  expect(texts(page, '.no-offers')).toEqual(['当前未上线']);
  push(task(), 'order.offer', offer(7, 800, 60));
  push(task(), 'order.offer', offer(8, 300, 1.2));
  await flush();
  expect(page.querySelectorAll('.offer')).toHaveLength(2);
  push(task(), 'order.taken', { orderId: 7, reason: 'taken' });
  await flush();
  expect(page.data.offers.map((o) => o.orderId)).toEqual([8]);
  await simulate.sleep(2100); // order 8's countdown ends
  expect(page.querySelectorAll('.offer')).toHaveLength(0);
});

test('a won grab opens the order and starts close location reporting', async () => {
  await open([offer(5, 500, 60)]);
  page.querySelector('.grab').dispatchEvent('tap');
  await flush();
  const [g] = events('order.grab');
  expect(g.data).toEqual({ orderId: 5 });
  expect(texts(page, '.grab')).toEqual(['抢单中…']);
  push(task(), 'order.taken', { orderId: 5, reason: 'taken' }); // the crowd hears it was taken: not us yet
  await flush();
  expect(page.querySelectorAll('.offer')).toHaveLength(1);
  ack(task(), g.id, { ok: true, order: { id: 5, status: 'accepted' } });
  await flush();
  expect(texts(page, '.grab')).toEqual(['已抢到']);
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '接单成功' }));
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/electrician/order-detail?id=5' });
  expect(require('../utils/duty').reporterMode()).toBe('order');
});

test('a lost grab says the order was taken, then the offer vanishes; other refusals keep it', async () => {
  await open([offer(5, 500, 60), offer(6, 900, 60)]);
  page.instance.onGrabTap({ currentTarget: { dataset: { id: 5 } } });
  await flush();
  ack(task(), events('order.grab')[0].id, { ok: false, error: { code: 'already_taken', message: 'taken' } });
  await flush();
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '手慢了，订单已被抢走' }));
  expect(texts(page, '.grab')).toEqual(['已被抢', '抢单']);
  const p = page.instance.onGrabTap({ currentTarget: { dataset: { id: 6 } } });
  await flush();
  ack(task(), events('order.grab')[1].id, { ok: false, error: { code: 'at_capacity', message: 'full' } });
  await p;
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '手上订单已满，完成后再来抢' }));
  await simulate.sleep(1600);
  expect(page.data.offers.map((o) => [o.orderId, o.grabText])).toEqual([[6, '抢单']]); // may try again
});

test('a grab whose answer was lost (a store down at the hub) is asked again and won', async () => {
  await open([offer(5, 500, 60)]);
  const p = page.instance.onGrabTap({ currentTarget: { dataset: { id: 5 } } });
  await flush();
  ack(task(), events('order.grab')[0].id, { ok: false, error: { code: 'unavailable', message: 'retry' } });
  await flush();
  const again = events('order.grab');
  expect(again).toHaveLength(2); // asked again, not shown as lost
  // the first had been written after all: the hub answers the holder with the order
  ack(task(), again[1].id, { ok: true, unchanged: true, order: { id: 5, status: 'accepted' } });
  await p;
  expect(texts(page, '.grab')).toEqual(['已抢到']);
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/electrician/order-detail?id=5' });
});

test('after a dropped socket the hall asks for a snapshot again and shows only what is open now', async () => {
  await open([offer(5, 500, 60), offer(6, 900, 60)]);
  const first = task();
  first.drop();
  await flush();
  expect(texts(page, '.reconnecting')).toEqual(['连接中断，正在重连…']);
  await simulate.sleep(550);
  handshake(task());
  await flush();
  const snaps = events('hall.snapshot');
  expect(snaps).toHaveLength(1); // on the new connection
  ack(task(), snaps[0].id, { ok: true, offers: [offer(6, 900, 60), offer(9, 100, 60)] });
  await flush();
  expect(page.data.offers.map((o) => o.orderId)).toEqual([9, 6]);
  expect(page.querySelectorAll('.reconnecting')).toHaveLength(0);
});

test('going online and offline from the hall', async () => {
  await open([]);
  page.querySelector('.online-btn').dispatchEvent('tap');
  await flush();
  const [on] = events('provider.online');
  expect(on.data.lat).toBeCloseTo(39.9961, 3);
  ack(task(), on.id, { ok: true, status: 'online' });
  await flush();
  expect(texts(page, '.duty-status')).toEqual(['接单中']);
  expect(texts(page, '.online-btn')).toEqual(['下线休息']);
  expect(events('hall.snapshot')).toHaveLength(2); // online: what is open now
  ack(task(), events('hall.snapshot')[1].id, { ok: true, offers: [offer(3, 100, 60)] });
  await flush();
  expect(page.querySelectorAll('.offer')).toHaveLength(1);
  page.querySelector('.online-btn').dispatchEvent('tap');
  await flush();
  ack(task(), events('provider.offline')[0].id, { ok: true });
  await flush();
  expect(texts(page, '.duty-status')).toEqual(['未上线']);
  expect(page.querySelectorAll('.offer')).toHaveLength(0);
});

test('an unapproved provider cannot go online: the reason is shown', async () => {
  await open([]);
  const p = page.instance.onOnlineTap();
  await flush();
  ack(task(), events('provider.online')[0].id, { ok: false, error: { code: 'not_verified', message: 'not approved' } });
  await p;
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '资质审核通过后才能上线' }));
  expect(texts(page, '.duty-status')).toEqual(['未上线']);
});

test('a customer account cannot open the hall', async () => {
  wx.setStorageSync('orderhub.user', { id: 1, role: 'customer' });
  wx.__route('POST', /wechat-login$/, () => ({ statusCode: 200, data: { token: 'tok-c', user: { id: 1, role: 'customer' } } }));
  page = await openPage('pages/electrician/hall', {});
  expect(texts(page, '.load-error')).toEqual(['当前微信账号是客户账号，不能进入师傅端']);
  expect(wx.connectSocket).not.toHaveBeenCalled();
});

test('a personal offer (auto batch, direct) is accepted or declined over REST', async () => {
  wx.__route('POST', /^\/api\/orders\/5\/accept$/, () => ({ statusCode: 200, data: { id: 5, status: 'accepted' } }));
  wx.__route('POST', /^\/api\/orders\/6\/decline$/, () => ({ statusCode: 200, data: { id: 6, status: 'pending' } }));
  await open([offer(5, 500, 60, { dispatchMode: 'auto' }), offer(6, 900, 60, { dispatchMode: 'direct' })]);
  expect(texts(page, '.grab')).toEqual(['接单', '接单']);
  expect(texts(page, '.decline')).toEqual(['拒绝', '拒绝']);
  page.querySelectorAll('.decline')[1].dispatchEvent('tap');
  await flush(100);
  expect(wx.__requests.find((r) => r.path === '/api/orders/6/decline').data).toEqual({ reason: '' });
  expect(page.data.offers.map((o) => o.orderId)).toEqual([5]);
  await page.instance.onGrabTap({ currentTarget: { dataset: { id: 5 } } });
  expect(events('order.grab')).toHaveLength(0);
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/electrician/order-detail?id=5' });
  expect(texts(page, '.grab')).toEqual(['已接单']);
});

test('a grab order that went on to batches: the grab is refused not_grabbable and the offer is accepted', async () => {
  wx.__route('POST', /^\/api\/orders\/5\/accept$/, () => ({ statusCode: 200, data: { id: 5, status: 'accepted' } }));
  await open([offer(5, 500, 60)]);
  const p = page.instance.onGrabTap({ currentTarget: { dataset: { id: 5 } } });
  await flush();
  ack(task(), events('order.grab')[0].id, { ok: false, error: { code: 'not_grabbable', message: 'dispatched' } });
  await p;
  expect(wx.__requests.filter((r) => r.path === '/api/orders/5/accept')).toHaveLength(1);
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/electrician/order-detail?id=5' });
});
