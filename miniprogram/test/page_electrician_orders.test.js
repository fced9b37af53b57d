const { installWx, flush } = require('./helpers/wx');
const { addProviderWx, loginProvider } = require('./helpers/provider');
const { openPage, texts } = require('./helpers/page');
const { serveOrderList, expectOrderListToTheEnd } = require('./helpers/orders');

let wx;
const STATUSES = ['accepted', 'departed', 'completed', 'in_progress', 'cancelled'];

function makeOrders(n) {
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1, orderNo: 'OH' + (2000 + i + 1), status: STATUSES[i % STATUSES.length], paymentStatus: 'unpaid', urgency: i === 0 ? 'urgent' : 'normal',
    address: '地址' + (i + 1), price: { estimated: 5000, quoted: i === 1 ? 9000 : null, final: null }, createdAt: '2026-11-29T09:00:00Z',
    scheduledAt: i === 2 ? '2026-11-30T02:00:00Z' : null,
  }));
}

beforeEach(() => {
  jest.resetModules();
  wx = addProviderWx(installWx());
  loginProvider(wx);
  serveOrderList(wx, makeOrders(23));
});

test("lists the provider's orders a page at a time, with the provider's token", async () => {
  const page = await openPage('pages/electrician/orders', {});
  expect(wx.__requests[0].query).toEqual({ page: '1', limit: '10' });
  expect(wx.__requests[0].header.Authorization).toBe('Bearer tok-p');
  expect(page.querySelectorAll('.order')).toHaveLength(10);
  expect(texts(page, '.order-status').slice(0, 5)).toEqual(['已接单', '已出发', '已完成', '服务中', '已取消']);
  expect(texts(page, '.price').slice(0, 2)).toEqual(['¥50.00', '¥90.00']); // the quote once there is one
  expect(texts(page, '.tag-urgent')).toEqual(['加急']);
  expect(page.querySelectorAll('.on-order')).toHaveLength(6); // accepted, departed, in_progress
  expect(texts(page, '.scheduled')).toHaveLength(1);
  await expectOrderListToTheEnd(page, wx, 23);
});

test('the status tabs ask the hub for that status', async () => {
  const page = await openPage('pages/electrician/orders', {});
  expect(texts(page, '.tab')).toEqual(['全部', '待出发', '已出发', '已到达', '服务中', '已完成', '已取消']);
  page.querySelectorAll('.tab')[4].dispatchEvent('tap');
  await flush(100);
  expect(wx.__requests[1].query).toEqual({ status: 'in_progress', page: '1', limit: '10' });
  expect(texts(page, '.order-status')).toEqual(Array(4).fill('服务中'));
  expect(texts(page, '.tab.active')).toEqual(['服务中']);
  page.querySelectorAll('.tab')[3].dispatchEvent('tap');
  await flush(100);
  expect(texts(page, '.no-orders')).toEqual(['暂无工单']);
});

test('pull down reloads; a tap opens the provider order detail; an error is shown', async () => {
  const page = await openPage('pages/electrician/orders', { status: 'accepted' });
  expect(wx.__requests[0].query.status).toBe('accepted');
  await page.instance.onPullDownRefresh();
  expect(wx.stopPullDownRefresh).toHaveBeenCalled();
  page.querySelectorAll('.order')[1].dispatchEvent('tap');
  await flush();
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/electrician/order-detail?id=6' });
  wx.__route('GET', /^\/api\/orders$/, () => ({ statusCode: 503, data: { error: { code: 'unavailable', message: '服务暂不可用' } } }));
  noRetryDelay();
  await page.instance.onPullDownRefresh();
  expect(texts(page, '.load-error')).toEqual(['服务暂不可用']);
});

function noRetryDelay() {
  require('../utils/api').setSleep(() => Promise.resolve());
}
