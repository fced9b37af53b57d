// utils/paged_list.js on a bare page object: paging to the total, tabs, a stale page dropped,
// an error shown, pull-down.
const { installWx, flush } = require('./helpers/wx');
const { pagedListPage } = require('../utils/paged_list');

let wx;

// A page as Page() would make it from the options: data merged by setData, handlers bound.
function makePage(fetchPage, data) {
  const options = pagedListPage({ data: Object.assign({ status: 'a' }, data), fetchPage });
  const page = Object.assign({}, options, { data: options.data });
  page.setData = (patch) => {
    page.data = Object.assign({}, page.data, patch);
  };
  return page;
}

// `n` numbered items of status `status`, served `limit` a page
const served = (n, limit) => (status, page) => ({
  items: Array.from({ length: Math.max(0, Math.min(limit, n - (page - 1) * limit)) }, (_, i) => status + ((page - 1) * limit + i + 1)),
  total: n,
});

beforeEach(() => {
  wx = installWx();
});

test('starts empty, then pages until the total and asks no more', async () => {
  const serve = served(5, 2);
  const asked = [];
  const page = makePage(function (n) {
    asked.push(n);
    return Promise.resolve(serve(this.data.status, n));
  });
  expect(page.data).toEqual({ status: 'a', items: [], total: 0, page: 0, loading: false, noMore: false, error: '' });
  await page.reload();
  await page.onReachBottom();
  await page.onReachBottom();
  expect(page.data).toMatchObject({ items: ['a1', 'a2', 'a3', 'a4', 'a5'], total: 5, page: 3, noMore: true, loading: false });
  await page.onReachBottom();
  expect(asked).toEqual([1, 2, 3]);
});

test('an empty page ends the list even below the total', async () => {
  const page = makePage(() => Promise.resolve({ items: [], total: 9 }));
  await page.reload();
  expect(page.data).toMatchObject({ items: [], noMore: true });
});

test('a tab starts again from its first page; the shown tab again asks nothing', async () => {
  const serve = served(3, 2);
  const asked = [];
  const page = makePage(function (n) {
    asked.push([this.data.status, n]);
    return Promise.resolve(serve(this.data.status, n));
  });
  await page.reload();
  await page.showTab('b', { emptyText: 'none' });
  expect(page.data).toMatchObject({ status: 'b', emptyText: 'none', items: ['b1', 'b2'], page: 1 });
  await page.showTab('b');
  expect(asked).toEqual([['a', 1], ['b', 1]]);
});

test('a page that arrives after the tab changed is dropped', async () => {
  const pending = [];
  const page = makePage(function (n) {
    const status = this.data.status;
    return new Promise((resolve) => pending.push(() => resolve({ items: [status + n], total: 1 })));
  });
  const first = page.reload();
  const second = page.showTab('b');
  await flush();
  pending[1]();
  await second;
  pending[0]();
  await first;
  expect(page.data.items).toEqual(['b1']);
});

test('a failed page is shown as an error and can be tried again', async () => {
  let fail = true;
  const page = makePage(() => (fail ? Promise.reject(new Error('网络错误')) : Promise.resolve({ items: ['x'], total: 1 })));
  await page.reload();
  expect(page.data).toMatchObject({ loading: false, error: '网络错误', items: [] });
  fail = false;
  await page.onPullDownRefresh();
  expect(page.data).toMatchObject({ error: '', items: ['x'], noMore: true });
  expect(wx.stopPullDownRefresh).toHaveBeenCalledTimes(1);
});
