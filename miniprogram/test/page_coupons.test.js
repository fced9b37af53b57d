// 我的优惠券: a tab per status (usable / used / expired) asked of the hub, paged, pulled down.
const { installWx, flush } = require('./helpers/wx');
const { openPage, texts } = require('./helpers/page');

let wx;
let page;

const coupon = (id, status, extra) =>
  Object.assign(
    { id, templateId: 1, name: '券' + id, kind: 'threshold', amountOff: 2000, threshold: 10000, percentOff: null, maxOff: null, serviceIds: [], areaIds: [], status, source: 'claim', validFrom: '2026-11-20T00:00:00Z', validTo: '2026-12-10T04:00:00Z', orderId: null, paymentId: null, discount: null },
    extra
  );

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  wx.setStorageSync('orderhub.token', 'tok-c');
  wx.__route('GET', /^\/api\/me\/coupons$/, (req) => {
    const page = Number(req.query.page);
    if (req.query.status === 'usable') {
      const all = Array.from({ length: 25 }, (_, i) => coupon(i + 1, 'usable'));
      return { statusCode: 200, data: { items: all.slice((page - 1) * 20, page * 20), total: 25 } };
    }
    if (req.query.status === 'used') return { statusCode: 200, data: { items: [coupon(90, 'used', { orderId: 7, discount: 2000 })], total: 1 } };
    return { statusCode: 200, data: { items: [], total: 0 } };
  });
});

async function open(query) {
  page = await openPage('pages/user/coupons', query || {});
  return page;
}

const asked = () => wx.__requests.filter((r) => r.path === '/api/me/coupons').map((r) => r.query);

test('usable first, 20 a page, the rest at the bottom; each with its rule and validity', async () => {
  await open();
  expect(asked()).toEqual([{ status: 'usable', page: '1', limit: '20' }]);
  expect(texts(page, '.coupon-name')).toHaveLength(20);
  expect(texts(page, '.coupon-rule')[0]).toBe('满100减20');
  expect(texts(page, '.coupon-validity')[0]).toBe('有效期至 2026-12-10');
  expect(texts(page, '.use')[0]).toBe('去使用');
  await page.instance.onReachBottom();
  await flush();
  expect(asked()[1]).toEqual({ status: 'usable', page: '2', limit: '20' });
  expect(texts(page, '.coupon-name')).toHaveLength(25);
  expect(texts(page, '.no-more')).toEqual(['没有更多了']);
  await page.instance.onReachBottom(); // nothing more to ask
  expect(asked()).toHaveLength(2);
  page.querySelectorAll('.use')[0].dispatchEvent('tap');
  await flush();
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/index/index' });
});

test('the tabs ask the hub by status: used shows what it took off, expired may be empty', async () => {
  await open();
  page.querySelector('.tab-used').dispatchEvent('tap');
  await flush();
  expect(asked().pop()).toEqual({ status: 'used', page: '1', limit: '20' });
  expect(texts(page, '.coupon-name')).toEqual(['券90']);
  expect(texts(page, '.coupon-used')).toEqual(['已抵扣 ¥20.00']);
  expect(texts(page, '.coupon-status')).toEqual(['已使用']);
  expect(texts(page, '.use')).toEqual([]);
  page.querySelector('.tab-expired').dispatchEvent('tap');
  await flush();
  expect(asked().pop()).toEqual({ status: 'expired', page: '1', limit: '20' });
  expect(texts(page, '.no-coupons')).toEqual(['暂无已过期的优惠券']);
});

test('opened on a tab; pull down reloads; a failure is shown', async () => {
  await open({ status: 'used' });
  expect(asked()).toEqual([{ status: 'used', page: '1', limit: '20' }]);
  wx.__route('GET', /^\/api\/me\/coupons$/, () => ({ statusCode: 500, data: { error: { code: 'internal', message: '服务器开小差了' } } }));
  await page.instance.onPullDownRefresh();
  await flush();
  expect(wx.stopPullDownRefresh).toHaveBeenCalled();
  expect(texts(page, '.load-error')).toEqual(['服务器开小差了']);
  page.querySelector('.center').dispatchEvent('tap');
  await flush();
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/user/coupon-center' });
});
