// The customer's order detail: 拨打电话 through the order's masked number, and the subscribe
// messages asked at their moments (the reminders card, 去支付), never in the way.
const { installWx, flush } = require('./helpers/wx');
const { openPage, texts, closePage } = require('./helpers/page');

let wx;
let page;

const ORDER = {
  id: 7, orderNo: 'OH20261129001', status: 'departed', paymentStatus: 'unpaid', dispatchMode: 'grab',
  serviceId: 1, providerId: 11, customerId: 3, address: '北京市朝阳区望京街10号', lat: 39.996, lng: 116.48,
  price: { estimated: 5000, quoted: null, final: null }, createdAt: '2026-11-29T09:00:00Z', updatedAt: '2026-11-29T09:00:00Z', seq: 3,
};
const ids = () => require('../utils/config').templates();
const subscriptions = () => wx.__requests.filter((r) => r.path === '/api/me/subscriptions').map((r) => r.data);

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  wx.setStorageSync('orderhub.token', 'tok-c');
  wx.__route('GET', /^\/api\/orders\/7\/timeline$/, () => ({ statusCode: 200, data: { items: [] } }));
  wx.__route('GET', /^\/api\/areas$/, () => ({ statusCode: 200, data: { items: [] } }));
  wx.__route('POST', /^\/api\/me\/subscriptions$/, () => ({ statusCode: 200, data: { balances: {} } }));
});

afterEach(() => {
  closePage(page);
  page = null;
});

async function open(order) {
  wx.__route('GET', /^\/api\/orders\/7$/, () => ({ statusCode: 200, data: order || ORDER }));
  page = await openPage('pages/user/order-detail', { id: '7' });
  return page;
}

test('拨打电话 dials the masked number the hub gives for the order', async () => {
  wx.__route('GET', /^\/api\/orders\/7\/contact$/, () => ({ statusCode: 200, data: { virtualNumber: '17000001234', expiresAt: '2026-11-29T18:00:00Z' } }));
  await open();
  expect(texts(page, '.call')).toEqual(['拨打电话']);
  page.querySelector('.call').dispatchEvent('tap');
  await flush();
  expect(wx.__requests.some((r) => r.path === '/api/orders/7/contact')).toBe(true);
  expect(wx.makePhoneCall).toHaveBeenCalledWith(expect.objectContaining({ phoneNumber: '17000001234' }));
});

test('no number in the pool (409 no_number_available), or none bound yet: a clear toast, no dial', async () => {
  wx.__route('GET', /^\/api\/orders\/7\/contact$/, () => ({ statusCode: 409, data: { error: { code: 'no_number_available', message: 'the pool is empty' } } }));
  await open();
  await page.instance.onCallTap();
  expect(wx.makePhoneCall).not.toHaveBeenCalled();
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '暂无可用的隐私号码，请先发消息联系', icon: 'none' }));
  wx.__route('GET', /^\/api\/orders\/7\/contact$/, () => ({ statusCode: 409, data: { error: { code: 'no_phone', message: 'no phone' } } }));
  await page.instance.onCallTap();
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '师傅未绑定手机号，请先发消息联系' }));
  wx.__route('GET', /^\/api\/orders\/7\/contact$/, () => ({ statusCode: 409, data: { error: { code: 'number_pending', message: 'binding', retryAfter: 2 } } }));
  await page.instance.onCallTap();
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '号码分配中，请稍后再试' }));
  expect(wx.makePhoneCall).not.toHaveBeenCalled();
});

test('no call button or reminders card before a provider has the order', async () => {
  await open(Object.assign({}, ORDER, { status: 'pending', providerId: null, seq: 1 }));
  expect(texts(page, '.call')).toEqual([]);
  expect(texts(page, '.reminders-on')).toEqual([]);
});

test('no call button once the order ended', async () => {
  await open(Object.assign({}, ORDER, { status: 'completed', seq: 6 }));
  expect(texts(page, '.call')).toEqual([]);
});

test('the reminders card asks for completion and payment in one tap, reports it, and goes', async () => {
  let dialog;
  wx.requestSubscribeMessage.mockImplementation((o) => {
    dialog = o;
  });
  await open();
  expect(texts(page, '.reminders-on')).toEqual(['开启提醒']);
  const done = page.instance.onRemindersTap();
  expect(dialog.tmplIds).toEqual([ids().order_completed, ids().payment_due]); // within the tap
  dialog.success({ errMsg: 'requestSubscribeMessage:ok', [ids().order_completed]: 'accept', [ids().payment_due]: 'accept' });
  const res = await done;
  await res.reported;
  expect(subscriptions()).toEqual([{ accepted: ['order_completed', 'payment_due'] }]);
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '已开启提醒' }));
  await flush();
  expect(texts(page, '.reminders-on')).toEqual([]);
  expect(wx.getStorageSync('orderhub.subscribeAsked.7')).toBe(1);
});

test('an order whose card was answered does not offer it again', async () => {
  wx.setStorageSync('orderhub.subscribeAsked.7', 1);
  await open();
  expect(texts(page, '.call')).toEqual(['拨打电话']);
  expect(texts(page, '.reminders-on')).toEqual([]);
});

test('去支付 asks for the payment reminder, then opens the payment page whatever the answer', async () => {
  const completed = Object.assign({}, ORDER, { status: 'completed', seq: 6, price: { estimated: 5000, quoted: null, final: 6000 } });
  wx.requestSubscribeMessage.mockImplementation((o) => o.success({ errMsg: 'requestSubscribeMessage:ok', [ids().payment_due]: 'reject' }));
  await open(completed);
  const done = page.instance.onActionTap({ currentTarget: { dataset: { action: 'pay' } } });
  expect(wx.requestSubscribeMessage.mock.calls[0][0].tmplIds).toEqual([ids().payment_due]);
  await done;
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/user/payment?id=7' });
  await flush();
  expect(subscriptions()).toEqual([{ accepted: [], rejected: ['payment_due'] }]);
  // the dialog failing (switched off in settings) does not stop the payment either
  wx.requestSubscribeMessage.mockImplementation((o) => o.fail({ errMsg: 'requestSubscribeMessage:fail', errCode: 20004 }));
  await page.instance.onActionTap({ currentTarget: { dataset: { action: 'pay' } } });
  expect(wx.navigateTo).toHaveBeenCalledTimes(2);
});

test('once the card was answered, 去支付 does not ask again', async () => {
  wx.setStorageSync('orderhub.subscribeAsked.7', 1);
  await open(Object.assign({}, ORDER, { status: 'completed', seq: 6 }));
  await page.instance.onActionTap({ currentTarget: { dataset: { action: 'pay' } } });
  expect(wx.requestSubscribeMessage).not.toHaveBeenCalled();
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/user/payment?id=7' });
});
