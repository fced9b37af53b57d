// 定金+尾款: an area that asks a deposit (GET /api/areas depositAmount) — the detail offers
// 支付定金 while the order is live, the payment page asks for `kind: deposit`, and after the
// service the balance (final − the paid deposit).
const { installWx, handshake, sentEvents, ack, flush, lastSocketTask } = require('./helpers/wx');
const { openPage, texts, closePage } = require('./helpers/page');
const { serveOrder } = require('./helpers/orders');

let wx;
let page;
let order;
let paymentStatus;

const AREA = { id: 1, name: '美兰区', city: '海口', centerLat: 20.03, centerLng: 110.3, boundary: [[19.9, 110.2], [19.9, 110.4], [20.1, 110.4], [20.1, 110.2]], depositAmount: 3000, active: true };
const PARAMS = { appId: 'wx1', timeStamp: '1', nonceStr: 'n', package: 'prepay_id=p1', signType: 'RSA', paySign: 's' };

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  wx.setStorageSync('orderhub.token', 'tok-c');
  order = {
    id: 7, orderNo: 'OH7', status: 'pending', paymentStatus: 'unpaid', providerId: null, address: '人民大道58号',
    lat: 20.03, lng: 110.3, price: { estimated: 8000, quoted: null, final: null }, seq: 2,
    createdAt: '2026-11-29T09:00:00Z', updatedAt: '2026-11-29T09:00:00Z',
  };
  paymentStatus = 'paid';
  wx.__route('GET', /^\/api\/areas$/, () => ({ statusCode: 200, data: [AREA] }));
  serveOrder(wx, 7, () => order);
  wx.__route('POST', /^\/api\/payments$/, (req) => ({ statusCode: 201, data: { paymentId: 5, amount: req.data.kind === 'deposit' ? 3000 : 9000, paymentParams: PARAMS } }));
  wx.__route('GET', /^\/api\/payments\/5$/, () => ({ statusCode: 200, data: { id: 5, status: paymentStatus } }));
  wx.requestPayment = jest.fn((o) => o.success({ errMsg: 'requestPayment:ok' }));
});

afterEach(() => {
  closePage(page);
  page = null;
});

const task = () => lastSocketTask(wx);

test("the detail offers 支付定金 while a deposit area's order is live", async () => {
  page = await openPage('pages/user/order-detail', { id: '7' });
  handshake(task());
  await flush();
  expect(texts(page, '.action')).toEqual(['支付定金', '取消订单']);
  page.querySelector('.action-pay-deposit').dispatchEvent('tap');
  await flush();
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/user/payment?id=7&kind=deposit' });
  const w = sentEvents(task()).find((e) => e.name === 'order.watch');
  ack(task(), w.id, { ok: true, order: Object.assign({}, order, { paymentStatus: 'deposit_paid', seq: 3 }), missed: [] });
  await flush();
  expect(texts(page, '.action')).toEqual(['取消订单']); // paid: not offered again
});

test('outside any deposit area nothing is asked before the service', async () => {
  order.lat = 31.2;
  order.lng = 121.5;
  page = await openPage('pages/user/order-detail', { id: '7' });
  expect(texts(page, '.action')).toEqual(['取消订单']);
});

test('the payment page pays the deposit: min(deposit, estimated), kind deposit, no review yet', async () => {
  page = await openPage('pages/user/payment', { id: '7', kind: 'deposit' });
  expect(texts(page, '.due-label')).toEqual(['定金']);
  expect(texts(page, '.amount')).toEqual(['¥30.00']);
  await page.instance.onPayTap();
  await flush();
  expect(wx.__requests.find((r) => r.method === 'POST').data).toEqual({ orderId: 7, kind: 'deposit' });
  expect(texts(page, '.message')).toEqual(['定金支付成功']);
  expect(texts(page, '.payment')).toEqual(['已付定金']);
  expect(page.querySelectorAll('.review')).toHaveLength(0);
});

test('after the service the balance: final less the paid deposit, the hub picks the kind', async () => {
  order = Object.assign({}, order, { status: 'completed', paymentStatus: 'deposit_paid', price: { estimated: 8000, quoted: 12000, final: 12000 } });
  wx.__route('GET', /^\/api\/orders\/7\/payments$/, () => ({ statusCode: 200, data: { items: [{ id: 4, kind: 'deposit', status: 'paid', amount: 3000 }] } }));
  page = await openPage('pages/user/payment', { id: '7' });
  expect(texts(page, '.due-label')).toEqual(['尾款']);
  expect(texts(page, '.amount')).toEqual(['¥90.00']);
  await page.instance.onPayTap();
  await flush();
  expect(wx.__requests.find((r) => r.method === 'POST').data).toEqual({ orderId: 7 });
  expect(texts(page, '.message')).toEqual(['支付成功']);
  expect(texts(page, '.review')).toEqual(['去评价']);
});
