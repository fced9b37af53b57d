const { installWx, handshake, sentEvents, ack, push, flush, lastSocketTask } = require('./helpers/wx');
const { addProviderWx, loginProvider } = require('./helpers/provider');
const { openPage, texts, closePage } = require('./helpers/page');
const { serveOrder } = require('./helpers/orders');

let wx;
let page;
let order;

const BASE = {
  id: 7, orderNo: 'OH20261129007', status: 'accepted', paymentStatus: 'unpaid', dispatchMode: 'grab', urgency: 'urgent',
  serviceId: 1, providerId: 11, customerId: 3, address: '北京市朝阳区望京街10号', district: '朝阳区', lat: 39.996, lng: 116.48,
  description: '客厅插座没电', contactName: '张女士', contactPhone: '138****0000', images: [], scheduledAt: null,
  price: { estimated: 5000, quoted: null, final: null }, createdAt: '2026-11-29T09:00:00Z', updatedAt: '2026-11-29T09:00:00Z', seq: 3,
};

beforeEach(() => {
  jest.resetModules();
  wx = addProviderWx(installWx());
  loginProvider(wx);
  order = Object.assign({}, BASE);
  serveOrder(wx, 7, () => order, [
    { seq: 1, status: 'pending', at: '2026-11-29T09:00:00Z', by: 'customer', detail: { action: 'create' } },
    { seq: 2, status: 'pending', at: '2026-11-29T09:00:01Z', by: 'system', detail: { action: 'dispatch', stage: 'grab' } },
    { seq: 3, status: 'accepted', at: '2026-11-29T09:01:00Z', by: 'provider', detail: { action: 'grab', providerId: 11 } },
  ]);
  for (const [action, to] of [['depart', 'departed'], ['arrive', 'arrived'], ['start', 'in_progress'], ['decline', 'pending']]) {
    wx.__route('POST', new RegExp('^/api/orders/7/' + action + '$'), () => {
      order = Object.assign({}, order, { status: to, seq: order.seq + 1, providerId: to === 'pending' ? null : 11 });
      return { statusCode: 200, data: order };
    });
  }
});

afterEach(() => {
  closePage(page);
  page = null;
});

const task = () => lastSocketTask(wx);
const events = (name) => sentEvents(task()).filter((e) => e.name === name);
const tap = async (action) => {
  page.querySelector('.action-' + action).dispatchEvent('tap');
  await flush(100);
};

async function open() {
  page = await openPage('pages/electrician/order-detail', { id: '7' });
  handshake(task());
  await flush();
  return page;
}

test("shows the order, the provider's timeline and the actions of its status; watches it live", async () => {
  await open();
  expect(texts(page, '.status')).toEqual(['已接单']);
  expect(texts(page, '.tag-urgent')).toEqual(['加急']);
  expect(texts(page, '.description')).toEqual(['客厅插座没电']);
  expect(texts(page, '.contact')).toEqual(['张女士 138****0000']);
  expect(texts(page, '.estimated')).toEqual(['¥50.00']);
  expect(texts(page, '.step-label')).toEqual(['客户已下单', '派单中', '已抢单']);
  expect(texts(page, '.action')).toEqual(['出发', '导航', '联系客户', '退单']);
  expect(events('order.watch').map((e) => e.data)).toEqual([{ orderId: 7, afterSeq: 3 }]);
});

test('on the order the location is reported closely; it stops when the order ends', async () => {
  await open();
  const duty = require('../utils/duty');
  expect(duty.reporterMode()).toBe('order');
  expect(wx.startLocationUpdate).toHaveBeenCalled();
  wx.__moveTo(39.9975, 116.4811);
  await flush();
  const [fix] = events('location.update');
  expect(fix.data.lat).toBeCloseTo(39.9961, 3);
  expect(typeof fix.data.at).toBe('string');
  ack(task(), events('order.watch')[0].id, { ok: true, order, missed: [] });
  push(task(), 'order.status', { orderId: 7, seq: 4, status: 'cancelled', at: '2026-11-29T09:05:00Z', by: 'customer', detail: { action: 'cancel', reason: '不需要了' } });
  await flush();
  expect(texts(page, '.status')).toEqual(['已取消']);
  expect(texts(page, '.action')).toEqual([]);
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '客户已取消订单' }));
  expect(duty.reporterMode()).toBeNull();
});

test('depart, arrive and start move the order along', async () => {
  await open();
  await tap('depart');
  expect(wx.__requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual(['/api/orders/7/depart']);
  expect(texts(page, '.status')).toEqual(['已出发']);
  expect(texts(page, '.action')).toEqual(['已到达', '导航', '联系客户', '退单']);
  await tap('arrive');
  expect(texts(page, '.action')).toEqual(['报价', '开始服务', '联系客户']);
  await tap('start');
  expect(texts(page, '.status')).toEqual(['服务中']);
  expect(texts(page, '.action')).toEqual(['完工', '联系客户']);
});

test('quote and complete open the repair input; back from it the order is read again', async () => {
  order = Object.assign({}, BASE, { status: 'arrived', seq: 5 });
  await open();
  await tap('quote');
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/electrician/repair-input?id=7&mode=quote' });
  order = Object.assign({}, order, { price: { estimated: 5000, quoted: 12000, final: null }, seq: 6 });
  await page.instance.onShow();
  await flush();
  expect(texts(page, '.quoted')).toEqual(['¥120.00']);
  expect(texts(page, '.quote-waiting')).toEqual(['已报价，等待客户确认']);
  expect(texts(page, '.action')).toEqual(['修改报价', '联系客户']);
  // the customer confirms: the work starts
  ack(task(), events('order.watch')[0].id, { ok: true, order, missed: [] });
  // the quote's own event comes too: the page already holds it from the REST read
  push(task(), 'order.status', { orderId: 7, seq: 6, status: 'arrived', at: '2026-11-29T09:20:00Z', by: 'provider', detail: { action: 'quote', amount: 12000 } });
  await flush();
  expect(texts(page, '.step-label').slice(-1)).toEqual(['已抢单']);
  push(task(), 'order.status', { orderId: 7, seq: 7, status: 'in_progress', at: '2026-11-29T09:30:00Z', by: 'customer', detail: { action: 'confirm-quote', amount: 12000 } });
  await flush();
  expect(texts(page, '.step-label').slice(-1)).toEqual(['客户已确认报价']);
  await tap('complete');
  expect(wx.navigateTo).toHaveBeenLastCalledWith({ url: '/pages/electrician/repair-input?id=7&mode=complete' });
});

test('a refused move shows why and reads the order again', async () => {
  wx.__route('POST', /^\/api\/orders\/7\/depart$/, () => ({ statusCode: 409, data: { error: { code: 'invalid_transition', message: '订单状态已变化' } } }));
  await open();
  const before = wx.__requests.filter((r) => r.path === '/api/orders/7').length;
  await tap('depart');
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '订单状态已变化' }));
  expect(wx.__requests.filter((r) => r.path === '/api/orders/7').length).toBe(before + 1);
});

test('decline asks for a reason, hands the order back and leaves', async () => {
  wx.showActionSheet.mockImplementation((o) => o.success({ tapIndex: 1 }));
  await open();
  await tap('decline');
  const req = wx.__requests.find((r) => r.path === '/api/orders/7/decline');
  expect(req.data).toEqual({ reason: '距离太远' });
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '已退单' }));
  expect(wx.navigateBack).toHaveBeenCalled();
  expect(require('../utils/duty').reporterMode()).toBeNull();
});

test('navigation opens the map at the service point in GCJ-02; calling uses the masked number', async () => {
  wx.__route('GET', /^\/api\/orders\/7\/contact$/, () => ({ statusCode: 200, data: { virtualNumber: '17000001234', expiresAt: '2026-11-29T12:00:00Z' } }));
  await open();
  await tap('navigate');
  const args = wx.openLocation.mock.calls[0][0];
  expect(args.name).toBe('朝阳区');
  expect(args.address).toBe('北京市朝阳区望京街10号');
  expect(args.latitude).toBeGreaterThan(39.996); // shifted north-east into GCJ-02
  expect(args.longitude).toBeGreaterThan(116.48);
  await tap('call');
  expect(wx.makePhoneCall).toHaveBeenCalledWith(expect.objectContaining({ phoneNumber: '17000001234' }));
  wx.__route('GET', /^\/api\/orders\/7\/contact$/, () => ({ statusCode: 409, data: { error: { code: 'no_number_available', message: 'pool empty' } } }));
  await tap('call');
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '暂无可用的隐私号码，请先发消息联系' }));
  wx.__route('GET', /^\/api\/orders\/7\/contact$/, () => ({ statusCode: 409, data: { error: { code: 'no_phone', message: 'no phone' } } }));
  await tap('call');
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '请先绑定手机号后再拨打' }));
  expect(wx.makePhoneCall).toHaveBeenCalledTimes(1);
});

test('an order no longer in the provider hands (404) stops the reporting', async () => {
  await open();
  wx.__route('GET', /^\/api\/orders\/7$/, () => ({ statusCode: 404, data: { error: { code: 'not_found', message: 'no such order' } } }));
  await page.instance.onShow();
  await flush();
  expect(texts(page, '.action')).toEqual([]);
  expect(require('../utils/duty').reporterMode()).toBeNull();
});

test('an accepted scheduled job offers the reminder before its slot: one tap asks job_reminder, once', async () => {
  const ids = require('../utils/config').templates();
  order = Object.assign({}, BASE, { scheduledAt: new Date(Date.now() + 2 * 86400e3).toISOString() });
  wx.__route('POST', /^\/api\/me\/subscriptions$/, () => ({ statusCode: 200, data: { balances: { job_reminder: 1 } } }));
  wx.requestSubscribeMessage.mockImplementation((o) => o.success({ errMsg: 'requestSubscribeMessage:ok', [ids.job_reminder]: 'accept' }));
  await open();
  expect(texts(page, '.job-remind-on')).toEqual(['开启提醒']);
  const done = page.instance.onJobReminderTap();
  expect(wx.requestSubscribeMessage.mock.calls[0][0].tmplIds).toEqual([ids.job_reminder]);
  await done;
  await flush();
  expect(wx.__requests.filter((r) => r.path === '/api/me/subscriptions').map((r) => r.data)).toEqual([{ accepted: ['job_reminder'] }]);
  expect(texts(page, '.job-remind-on')).toEqual([]);
  expect(wx.getStorageSync('orderhub.jobRemindAsked.7')).toBe(1);
});

test('no reminder card for a job without an appointment, or once it was answered', async () => {
  wx.setStorageSync('orderhub.jobRemindAsked.8', 1);
  await open(); // BASE: no scheduledAt
  expect(texts(page, '.job-remind-on')).toEqual([]);
  expect(page.data.offerJobReminder).toBe(false);
  page.instance.setOrder(Object.assign({}, BASE, { id: 8, seq: 9, scheduledAt: new Date(Date.now() + 86400e3).toISOString() }));
  expect(page.data.offerJobReminder).toBe(false);
  page.instance.setOrder(Object.assign({}, BASE, { id: 9, seq: 10, scheduledAt: new Date(Date.now() + 86400e3).toISOString() }));
  expect(page.data.offerJobReminder).toBe(true);
});
