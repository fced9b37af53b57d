// The hub's order routes as the page tests answer them (through the wx mock's __route), and
// what an orders list page must do with them.
const { flush } = require('./wx');
const { texts } = require('./page');

// GET /api/orders?status=&page=&limit= over `orders`: the status's, a page at a time, with
// the status's total.
function serveOrderList(wx, orders) {
  wx.__route('GET', /^\/api\/orders$/, (req) => {
    const list = req.query.status ? orders.filter((o) => o.status === req.query.status) : orders;
    const page = Number(req.query.page);
    const limit = Number(req.query.limit);
    return { statusCode: 200, data: { items: list.slice((page - 1) * limit, page * limit), total: list.length } };
  });
}

// GET /api/orders/{id} → currentOrder() (read at each request: a test changes it) and
// GET /api/orders/{id}/timeline → timeline items.
function serveOrder(wx, id, currentOrder, timeline) {
  wx.__route('GET', new RegExp('^/api/orders/' + id + '$'), () => ({ statusCode: 200, data: currentOrder() }));
  wx.__route('GET', new RegExp('^/api/orders/' + id + '/timeline$'), () => ({ statusCode: 200, data: { items: timeline || [] } }));
}

// A list page of `total` orders (config.pageSize, 10, a page) read to its end: every order
// shown under 没有更多了, and one request a page, none after the last.
async function expectOrderListToTheEnd(page, wx, total) {
  const pages = Math.ceil(total / 10);
  for (let i = 1; i < pages; i++) await page.instance.onReachBottom();
  await flush();
  expect(page.querySelectorAll('.order')).toHaveLength(total);
  expect(texts(page, '.no-more')).toEqual(['没有更多了']);
  await page.instance.onReachBottom();
  expect(wx.__requests).toHaveLength(pages);
}

module.exports = { serveOrderList, serveOrder, expectOrderListToTheEnd };
