const { installWx, handshake, sentEvents, ack, push, flush, lastSocketTask } = require('./helpers/wx');
const { openPage, texts, closePage } = require('./helpers/page');

let wx;
let page;

const ORDER = { id: 7, orderNo: 'OH7', status: 'arrived', providerId: 11, seq: 5, address: '望京街10号', updatedAt: '2026-11-29T09:00:00Z' };

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  wx.setStorageSync('orderhub.token', 'tok-c');
  wx.setStorageSync('orderhub.user', { id: 3, role: 'customer', nickname: '王女士' });
  wx.__route('GET', /^\/api\/orders\/7$/, () => ({ statusCode: 200, data: ORDER }));
  wx.__route('GET', /^\/api\/orders\/7\/messages$/, () => ({
    statusCode: 200,
    data: { items: [
      { msgId: 1, seq: 3, from: 'customer:3', text: '师傅几点到？', at: '2026-11-29T09:01:00Z' },
      { msgId: 2, seq: 4, from: 'provider:11', text: '十分钟后到', at: '2026-11-29T09:02:00Z' },
    ] },
  }));
  wx.__route('GET', /^\/api\/orders$/, () => ({
    statusCode: 200,
    data: { items: [ORDER, Object.assign({}, ORDER, { id: 8, orderNo: 'OH8', status: 'pending', providerId: null })], total: 2 },
  }));
});

afterEach(() => {
  closePage(page);
  page = null;
});

const task = () => lastSocketTask(wx);

async function open(query) {
  page = await openPage('pages/common/messages', query);
  return page;
}

test('without an order: the orders that have a provider, each opening its chat', async () => {
  await open({});
  expect(texts(page, '.order-no')).toEqual(['订单 OH7']);
  page.querySelector('.chat-order').dispatchEvent('tap');
  await flush();
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/common/messages?id=7' });
});

test("an order's chat: history, live messages once each, sending and resending", async () => {
  await open({ id: '7' });
  handshake(task());
  await flush();
  expect(texts(page, '.bubble')).toEqual(['师傅几点到？', '十分钟后到']);
  expect(page.querySelectorAll('.msg.mine')).toHaveLength(1);
  const watch = sentEvents(task()).find((e) => e.name === 'order.watch');
  expect(watch.data).toEqual({ orderId: 7, afterSeq: 5 });
  ack(task(), watch.id, { ok: true, order: ORDER, missed: [] });
  push(task(), 'chat.message', { orderId: 7, msgId: 3, seq: 6, from: 'provider:11', text: '到楼下了', at: '2026-11-29T09:05:00Z' });
  push(task(), 'chat.message', { orderId: 7, msgId: 3, seq: 6, from: 'provider:11', text: '到楼下了', at: '2026-11-29T09:05:00Z' });
  await flush();
  expect(texts(page, '.bubble')).toEqual(['师傅几点到？', '十分钟后到', '到楼下了']);

  page.instance.onDraftInput({ detail: { value: '  好的，我在家  ' } });
  const sending = page.instance.onSendTap();
  await flush();
  expect(texts(page, '.sending')).toEqual(['发送中…']);
  const send = sentEvents(task()).find((e) => e.name === 'chat.send');
  expect(send.data).toMatchObject({ orderId: 7, text: '好的，我在家' });
  ack(task(), send.id, { ok: true, msgId: 4, seq: 7 });
  await sending;
  push(task(), 'chat.message', { orderId: 7, msgId: 4, seq: 7, from: 'customer:3', text: '好的，我在家', at: '2026-11-29T09:06:00Z' });
  await flush();
  expect(texts(page, '.bubble')).toEqual(['师傅几点到？', '十分钟后到', '到楼下了', '好的，我在家']);
  expect(page.querySelectorAll('.msg.mine')).toHaveLength(2);
  expect(page.data.draft).toBe('');

  page.instance.onDraftInput({ detail: { value: '门铃坏了' } });
  const failing = page.instance.onSendTap();
  await flush();
  const second = sentEvents(task()).filter((e) => e.name === 'chat.send')[1];
  ack(task(), second.id, { ok: false, error: { code: 'rate_limited', message: 'too many messages; slow down' } });
  await failing;
  await flush();
  expect(texts(page, '.failed')).toEqual(['发送失败，点击重发']);
  page.querySelector('.failed').dispatchEvent('tap');
  await flush();
  const third = sentEvents(task()).filter((e) => e.name === 'chat.send')[2];
  expect(third.data.clientMsgId).toBe(second.data.clientMsgId); // the hub keeps one message
  ack(task(), third.id, { ok: true, msgId: 5, seq: 8 });
  await flush();
  expect(texts(page, '.failed')).toEqual([]);
  expect(texts(page, '.bubble').slice(-1)).toEqual(['门铃坏了']);
});
