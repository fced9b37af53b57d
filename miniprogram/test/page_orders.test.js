const { installWx, flush } = require('./helpers/wx');
const { openPage, texts } = require('./helpers/page');
const { serveOrderList, expectOrderListToTheEnd } = require('./helpers/orders');

let wx;

function makeOrders(n, status) {
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1, orderNo: 'OH' + (1000 + i + 1), status: status || (i % 2 ? 'completed' : 'pending'), paymentStatus: 'unpaid',
    address: '地址' + (i + 1), price: { estimated: 5000, quoted: null, final: null }, createdAt: '2026-11-29T09:00:00Z',
  }));
}

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  wx.setStorageSync('orderhub.token', 'tok-c');
  serveOrderList(wx, makeOrders(23));
});

test('lists my orders a page at a time and stops at the total', async () => {
  const page = await openPage('pages/user/orders', {});
  expect(wx.__requests[0].query).toEqual({ page: '1', limit: '10' });
  expect(wx.__requests[0].header.Authorization).toBe('Bearer tok-c');
  expect(page.querySelectorAll('.order')).toHaveLength(10);
  expect(texts(page, '.order-status').slice(0, 2)).toEqual(['待接单', '已完成']);
  await expectOrderListToTheEnd(page, wx, 23);
});

test('a status tab asks the hub for that status and starts again from page 1', async () => {
  const page = await openPage('pages/user/orders', {});
  const tabs = page.querySelectorAll('.tab');
  expect(texts(page, '.tab')).toEqual(['全部', '待接单', '已接单', '服务中', '已完成', '已取消']);
  tabs[4].dispatchEvent('tap');
  await flush(100);
  expect(wx.__requests[1].query).toEqual({ status: 'completed', page: '1', limit: '10' });
  expect(texts(page, '.order-status')).toEqual(Array(10).fill('已完成'));
  expect(texts(page, '.tab.active')).toEqual(['已完成']);
  tabs[2].dispatchEvent('tap');
  await flush(100);
  expect(texts(page, '.no-orders')).toEqual(['暂无订单']);
});

test('pull down reloads; tapping an order opens it', async () => {
  const page = await openPage('pages/user/orders', {});
  await page.instance.onReachBottom();
  await page.instance.onPullDownRefresh();
  expect(wx.stopPullDownRefresh).toHaveBeenCalled();
  expect(page.querySelectorAll('.order')).toHaveLength(10);
  page.querySelectorAll('.order')[3].dispatchEvent('tap');
  await flush();
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/user/order-detail?id=4' });
});
