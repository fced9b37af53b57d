const { installWx, handshake, push, flush, lastSocketTask } = require('./helpers/wx');
const { openPage, texts, closePage } = require('./helpers/page');

let wx;
let page;
let paymentStatus;

const ORDER = {
  id: 7, orderNo: 'OH20261129007', status: 'completed', paymentStatus: 'unpaid', dispatchMode: 'grab',
  address: '海口市美兰区人民大道58号', lat: 20.03, lng: 110.3,
  price: { estimated: 5000, quoted: 6800, final: 6800 }, seq: 9,
};
const PARAMS = { appId: 'wx5a4d0c0ffee0hub1', timeStamp: '1764400000', nonceStr: 'n1', package: 'prepay_id=wx01', signType: 'RSA', paySign: 'sig' };

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  wx.setStorageSync('orderhub.token', 'tok-c');
  paymentStatus = 'open';
  wx.__route('GET', /^\/api\/orders\/7$/, () => ({ statusCode: 200, data: ORDER }));
  wx.__route('POST', /^\/api\/payments$/, () => ({ statusCode: 201, data: { paymentId: 5, outTradeNo: 'OH7F1', amount: 6800, paymentParams: PARAMS } }));
  wx.__route('GET', /^\/api\/payments\/5$/, () => ({ statusCode: 200, data: { id: 5, orderId: 7, status: paymentStatus, amount: 6800 } }));
  wx.requestPayment = jest.fn((o) => o.success({ errMsg: 'requestPayment:ok' }));
});

afterEach(() => {
  closePage(page);
  page = null;
});

const task = () => lastSocketTask(wx);

async function open() {
  page = await openPage('pages/user/payment', { id: '7' });
  return page;
}

test('shows what is due and pays: prepay, wx.requestPayment with its params, then waits for paid', async () => {
  await open();
  expect(texts(page, '.amount')).toEqual(['¥68.00']);
  expect(texts(page, '.pay')).toEqual(['微信支付 ¥68.00']);
  const paying = page.instance.onPayTap();
  handshake(task());
  await flush(100);
  expect(wx.__requests.find((r) => r.method === 'POST' && r.path === '/api/payments').data).toEqual({ orderId: 7 });
  const args = wx.requestPayment.mock.calls[0][0];
  expect(args).toMatchObject(PARAMS);
  expect(page.data.state).toBe('waiting'); // WeChat said ok; the hub has not yet
  expect(texts(page, '.message')).toEqual(['正在确认支付结果…']);
  paymentStatus = 'paid';
  push(task(), 'order.status', { orderId: 7, seq: 10, status: 'completed', at: '2026-11-29T10:00:00Z', by: 'system', detail: { action: 'paid', paymentStatus: 'paid' } });
  await paying;
  await flush();
  expect(page.data.state).toBe('paid');
  expect(texts(page, '.message')).toEqual(['支付成功']);
  expect(texts(page, '.payment')).toEqual(['已支付']);
  page.querySelector('.review').dispatchEvent('tap');
  await flush();
  expect(wx.redirectTo).toHaveBeenCalledWith({ url: '/pages/user/evaluate?id=7' });
});

test('a cancelled payment can be tried again and asks the hub for the same payment', async () => {
  wx.requestPayment = jest.fn((o) => o.fail({ errMsg: 'requestPayment:fail cancel' }));
  await open();
  await page.instance.onPayTap();
  await flush();
  expect(page.data.state).toBe('ready');
  expect(texts(page, '.message')).toEqual(['已取消支付']);
  wx.requestPayment = jest.fn((o) => o.success({ errMsg: 'requestPayment:ok' }));
  paymentStatus = 'paid'; // the poll finds it paid (a lost notification: the hub asked WeChat)
  await page.instance.onPayTap();
  await flush();
  expect(wx.__requests.filter((r) => r.method === 'POST' && r.path === '/api/payments')).toHaveLength(2);
  expect(page.data.state).toBe('paid');
});

test('an order already paid shows so', async () => {
  wx.__route('GET', /^\/api\/orders\/7$/, () => ({ statusCode: 200, data: Object.assign({}, ORDER, { paymentStatus: 'paid' }) }));
  await open();
  expect(page.data.state).toBe('paid');
  expect(texts(page, '.pay')).toEqual([]);
  expect(texts(page, '.message')).toEqual(['订单已支付']);
});

test('a refused prepay shows the hub message', async () => {
  wx.__route('POST', /^\/api\/payments$/, () => ({ statusCode: 409, data: { error: { code: 'not_payable_yet', message: '服务完成后再支付' } } }));
  await open();
  await page.instance.onPayTap();
  await flush();
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '服务完成后再支付' }));
  expect(wx.requestPayment).not.toHaveBeenCalled();
  expect(page.data.state).toBe('ready');
});

test('in a develop build the sandbox cashier stands in for WeChat', async () => {
  wx.setStorageSync('orderhub.sandboxCashier', 'http://127.0.0.1:8100/');
  wx.__route('POST', /^\/sandbox\/pay\/cashier$/, () => ({ statusCode: 200, data: { errMsg: 'requestPayment:ok' } }));
  paymentStatus = 'paid';
  await open();
  await page.instance.onPayTap();
  await flush();
  const cashier = wx.__requests.find((r) => r.path === '/sandbox/pay/cashier');
  expect(cashier.url).toBe('http://127.0.0.1:8100/sandbox/pay/cashier');
  expect(cashier.data).toEqual(PARAMS);
  expect(wx.requestPayment).not.toHaveBeenCalled();
  expect(page.data.state).toBe('paid');
});

test("leaving the page keeps the watch of the order's detail below it", async () => {
  const socket = require('../utils/live').getSocket();
  socket.watchOrder(7, 9); // the detail page's watch
  paymentStatus = 'paid';
  await open();
  await page.instance.onPayTap();
  await flush();
  page.instance.onUnload();
  expect(socket.lastSeq(7)).toBe(9);
  page = null;
});
