// Coupons at payment: the customer's coupons against what is due, the best one chosen, another
// or none chosen by a tap, the chosen one's id sent at prepay.
const { installWx, flush } = require('./helpers/wx');
const { openPage, texts, closePage } = require('./helpers/page');

let wx;
let page;

const ORDER = { id: 7, orderNo: 'OH7', status: 'completed', paymentStatus: 'unpaid', address: '人民大道58号', lat: 20.03, lng: 110.3, price: { estimated: 8000, quoted: 12000, final: 12000 }, seq: 9 };
const coupon = (id, extra) => Object.assign({ id, templateId: 1, name: '券' + id, kind: 'threshold', amountOff: 2000, threshold: 10000, percentOff: null, maxOff: null, status: 'usable' }, extra);

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  wx.setStorageSync('orderhub.token', 'tok-c');
  wx.__route('GET', /^\/api\/orders\/7$/, () => ({ statusCode: 200, data: ORDER }));
  wx.__route('GET', /^\/api\/orders\/7\/coupons$/, () => ({
    statusCode: 200,
    data: {
      kind: 'full', amount: 12000, payable: true,
      suggested: { couponId: 3, discount: 3000, amount: 9000 },
      items: [
        { coupon: coupon(3, { name: '家电维修75折', kind: 'discount', amountOff: null, threshold: 0, percentOff: 25, maxOff: 3000 }), usable: true, discount: 3000, refusal: null },
        { coupon: coupon(4, { name: '满100减20' }), usable: true, discount: 2000, refusal: null },
        { coupon: coupon(5, { name: '保洁专享', threshold: 0, amountOff: 1000 }), usable: false, discount: 0, refusal: { code: 'coupon_not_applicable', message: 'not for this service' } },
      ],
    },
  }));
  wx.__route('POST', /^\/api\/payments$/, (req) => ({ statusCode: 201, data: { paymentId: 5, amount: req.data.couponId === 4 ? 10000 : 12000, paymentParams: { package: 'prepay_id=x' } } }));
  wx.__route('GET', /^\/api\/payments\/5$/, () => ({ statusCode: 200, data: { id: 5, status: 'paid' } }));
  wx.requestPayment = jest.fn((o) => o.success({ errMsg: 'requestPayment:ok' }));
});

afterEach(() => {
  closePage(page);
  page = null;
});

async function open() {
  page = await openPage('pages/user/payment', { id: '7' });
}

test('the best coupon is chosen; another, or none, by a tap; the chosen one is sent', async () => {
  await open();
  expect(texts(page, '.coupon-name')).toEqual(['家电维修75折', '满100减20', '保洁专享']);
  expect(texts(page, '.coupon .muted')[0]).toBe('7.5折（最多减¥30.00）');
  expect(texts(page, '.coupon-reason')).toEqual(['· 不适用于该订单']);
  expect(texts(page, '.discount')).toEqual(['-¥30.00']);
  expect(texts(page, '.pay')).toEqual(['微信支付 ¥90.00']);
  page.querySelectorAll('.coupon')[2].dispatchEvent('tap'); // not usable: nothing changes
  await flush();
  expect(page.data.couponId).toBe(3);
  page.querySelectorAll('.coupon')[0].dispatchEvent('tap'); // the chosen one again: none
  await flush();
  expect(texts(page, '.discount')).toEqual(['不使用']);
  expect(texts(page, '.pay')).toEqual(['微信支付 ¥120.00']);
  page.querySelectorAll('.coupon')[1].dispatchEvent('tap');
  await flush();
  expect(texts(page, '.pay')).toEqual(['微信支付 ¥100.00']);
  await page.instance.onPayTap();
  await flush();
  expect(wx.__requests.find((r) => r.method === 'POST').data).toEqual({ orderId: 7, couponId: 4 });
  expect(page.data.state).toBe('paid');
  expect(page.querySelectorAll('.coupons')).toHaveLength(0);
});

test('a coupon refused at prepay shows why and the coupons are read again', async () => {
  wx.__route('POST', /^\/api\/payments$/, () => ({ statusCode: 409, data: { error: { code: 'coupon_expired', message: '优惠券已过期' } } }));
  await open();
  const before = wx.__requests.filter((r) => r.path === '/api/orders/7/coupons').length;
  await page.instance.onPayTap();
  await flush();
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '优惠券已过期' }));
  expect(wx.__requests.filter((r) => r.path === '/api/orders/7/coupons').length).toBe(before + 1);
  expect(page.data.state).toBe('ready');
});
