// The order detail's ways on: pay and review once completed, the chat with the provider (with
// a count of their new messages), after-sales.
const { installWx, handshake, sentEvents, ack, push, flush, lastSocketTask } = require('./helpers/wx');
const { openPage, texts, closePage } = require('./helpers/page');
const { serveOrder } = require('./helpers/orders');

let wx;
let page;
let order;

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  wx.setStorageSync('orderhub.token', 'tok-c');
  order = {
    id: 7, orderNo: 'OH7', status: 'in_progress', paymentStatus: 'unpaid', providerId: 11, customerId: 3,
    address: '望京街10号', lat: 39.996, lng: 116.48, price: { estimated: 5000, quoted: 6800, final: null }, seq: 6,
    createdAt: '2026-11-29T09:00:00Z', updatedAt: '2026-11-29T09:30:00Z',
  };
  serveOrder(wx, 7, () => order);
});

afterEach(() => {
  closePage(page);
  page = null;
});

const task = () => lastSocketTask(wx);

async function open() {
  page = await openPage('pages/user/order-detail', { id: '7' });
  handshake(task());
  await flush();
  const w = sentEvents(task()).find((e) => e.name === 'order.watch');
  ack(task(), w.id, { ok: true, order, missed: [] });
  await flush();
}

test('completing the order brings pay and review; each opens its page', async () => {
  await open();
  expect(texts(page, '.action')).toEqual([]);
  order = Object.assign({}, order, { status: 'completed', seq: 7, price: { estimated: 5000, quoted: 6800, final: 6800 } });
  push(task(), 'order.status', { orderId: 7, seq: 7, status: 'completed', at: '2026-11-29T10:00:00Z', by: 'provider', detail: { action: 'complete' } });
  await flush();
  expect(texts(page, '.action')).toEqual(['去支付', '评价']);
  page.querySelector('.action-pay').dispatchEvent('tap');
  await flush();
  expect(wx.navigateTo).toHaveBeenLastCalledWith({ url: '/pages/user/payment?id=7' });
  page.querySelector('.action-review').dispatchEvent('tap');
  await flush();
  expect(wx.navigateTo).toHaveBeenLastCalledWith({ url: '/pages/user/evaluate?id=7' });
});

test("the provider's messages are counted on the chat link, which opens the chat", async () => {
  await open();
  push(task(), 'chat.message', { orderId: 7, msgId: 1, seq: 7, from: 'provider:11', text: '需要换开关', at: '2026-11-29T09:40:00Z' });
  push(task(), 'chat.message', { orderId: 7, msgId: 2, seq: 8, from: 'customer:3', text: '好的', at: '2026-11-29T09:41:00Z' });
  push(task(), 'chat.message', { orderId: 7, msgId: 3, seq: 9, from: 'provider:11', text: '已更换', at: '2026-11-29T09:50:00Z' });
  push(task(), 'order.status', { orderId: 7, seq: 10, status: 'completed', at: '2026-11-29T10:00:00Z', by: 'provider', detail: { action: 'complete' } });
  await flush();
  expect(texts(page, '.unread')).toEqual(['2']);
  expect(texts(page, '.status')).toEqual(['已完成']); // a status after chat messages is applied
  page.querySelector('.chat').dispatchEvent('tap');
  await flush();
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/common/messages?id=7' });
  expect(texts(page, '.unread')).toEqual([]);
  page.querySelector('.after-sales').dispatchEvent('tap');
  await flush();
  expect(wx.navigateTo).toHaveBeenLastCalledWith({ url: '/pages/common/customer-service?orderId=7' });
});

test("the order's photos and its appointment are shown; a photo opens the preview", async () => {
  order = Object.assign({}, order, {
    images: ['http://127.0.0.1:8000/api/uploads/a.jpg', 'http://127.0.0.1:8000/api/uploads/b.jpg'],
    scheduledAt: '2026-12-01T02:00:00Z',
  });
  wx.previewImage = jest.fn();
  await open();
  expect(page.querySelectorAll('.photo')).toHaveLength(2);
  expect(texts(page, '.scheduled')[0]).toMatch(/^预约 12-01 \d\d:00 上门$/);
  page.querySelectorAll('.photo')[1].dispatchEvent('tap');
  await flush();
  expect(wx.previewImage).toHaveBeenCalledWith({ current: order.images[1], urls: order.images });
});
