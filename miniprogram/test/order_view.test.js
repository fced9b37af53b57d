// utils/order_view.js: the seq order of the detail pages and the reason sheet.
const { installWx } = require('./helpers/wx');
const ov = require('../utils/order_view');

let wx;

beforeEach(() => {
  wx = installWx();
});

test('an order older than the shown one is older; a newer, equal or unnumbered one is not', () => {
  expect(ov.isOlder({ seq: 3 }, { seq: 4 })).toBe(true);
  expect(ov.isOlder({ seq: 4 }, { seq: 4 })).toBe(false);
  expect(ov.isOlder({ seq: 5 }, { seq: 4 })).toBe(false);
  expect(ov.isOlder({ seq: 3 }, null)).toBe(false);
  expect(ov.isOlder({}, { seq: 4 })).toBe(false);
});

test('a status event counts once, for this order, after the shown seq', () => {
  const shown = { seq: 4 };
  expect(ov.isNewStatusEvent({ orderId: 7, seq: 5 }, '7', shown)).toBe(true);
  expect(ov.isNewStatusEvent({ orderId: 7, seq: 4 }, 7, shown)).toBe(false);
  expect(ov.isNewStatusEvent({ orderId: 8, seq: 5 }, 7, shown)).toBe(false);
  expect(ov.isNewStatusEvent({ orderId: 7 }, 7, shown)).toBe(false);
  expect(ov.isNewStatusEvent({ orderId: 7, seq: 5 }, 7, null)).toBe(false);
  expect(ov.isNewStatusEvent(null, 7, shown)).toBe(false);
});

test('the reason sheet answers the tapped reason, or undefined when dismissed', async () => {
  wx.showActionSheet.mockImplementationOnce((o) => o.success({ tapIndex: 1 }));
  await expect(ov.chooseReason(['a', 'b'])).resolves.toBe('b');
  expect(wx.showActionSheet.mock.calls[0][0].itemList).toEqual(['a', 'b']);
  wx.showActionSheet.mockImplementationOnce((o) => o.fail({ errMsg: 'showActionSheet:fail cancel' }));
  await expect(ov.chooseReason(['a'])).resolves.toBeUndefined();
});

// a bare page: records what openOrderDetail does to it
function detailPage() {
  const calls = [];
  const page = {
    orderId: 7,
    data: {},
    setOrder: (o) => calls.push(['setOrder', o.id]),
    startLive: (o) => calls.push(['startLive', o.id]),
    setData: (d) => Object.assign(page.data, d),
  };
  return { page, calls };
}

test('a detail opens: the order, its timeline, then live and afterOpen; the timeline may fail', async () => {
  wx.setStorageSync('orderhub.token', 'tok-c');
  wx.__route('GET', /^\/api\/orders\/7$/, () => ({ statusCode: 200, data: { id: 7, seq: 2 } }));
  wx.__route('GET', /^\/api\/orders\/7\/timeline$/, () => ({ statusCode: 200, data: { items: [{ seq: 1 }, { seq: 2 }] } }));
  const { page, calls } = detailPage();
  const opened = [];
  await ov.openOrderDetail(page, { signIn: () => Promise.resolve(), timelineItem: (ev) => ev.seq, afterOpen: (o) => opened.push(o.id) });
  expect(calls).toEqual([['setOrder', 7], ['startLive', 7]]);
  expect(page.data).toEqual({ loading: false, timeline: [1, 2] });
  expect(opened).toEqual([7]);

  wx.__route('GET', /^\/api\/orders\/7\/timeline$/, () => ({ statusCode: 500, data: {} }));
  const second = detailPage();
  await ov.openOrderDetail(second.page, { signIn: () => Promise.resolve(), timelineItem: (ev) => ev.seq });
  expect(second.page.data).toEqual({ loading: false, timeline: [] });
});

test('an order that cannot be read leaves the error on the page', async () => {
  wx.setStorageSync('orderhub.token', 'tok-c');
  wx.__route('GET', /^\/api\/orders\/7$/, () => ({ statusCode: 404, data: { error: { code: 'not_found', message: '订单不存在' } } }));
  const { page, calls } = detailPage();
  await ov.openOrderDetail(page, { signIn: () => Promise.resolve(), timelineItem: (ev) => ev });
  expect(calls).toEqual([]);
  expect(page.data).toEqual({ loading: false, error: '订单不存在' });
});
