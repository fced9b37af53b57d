const { installWx, handshake, sentEvents, ack, flush, lastSocketTask } = require('./helpers/wx');
const { addProviderWx, loginProvider } = require('./helpers/provider');
const { openPage, texts } = require('./helpers/page');

let wx;
let page;
let order;

const BASE = {
  id: 7, orderNo: 'OH20261129007', status: 'arrived', paymentStatus: 'unpaid', address: '北京市朝阳区望京街10号',
  price: { estimated: 5000, quoted: null, final: null }, seq: 5,
};

beforeEach(() => {
  jest.resetModules();
  wx = addProviderWx(installWx());
  loginProvider(wx);
  order = Object.assign({}, BASE);
  wx.__route('GET', /^\/api\/orders\/7$/, () => ({ statusCode: 200, data: order }));
  let n = 0;
  wx.uploadFile.mockImplementation((o) => {
    n += 1;
    Promise.resolve().then(() => o.success({ statusCode: 201, data: JSON.stringify({ url: 'http://127.0.0.1:8000/api/uploads/img' + n + '.jpg', name: 'img' + n, size: 10, contentType: 'image/jpeg' }) }));
  });
  wx.chooseMedia.mockImplementation((o) => o.success({ tempFiles: [{ tempFilePath: 'wxfile://a.jpg' }, { tempFilePath: 'wxfile://b.jpg' }] }));
});

afterEach(() => {
  require('../utils/live').reset();
  page = null;
});

const task = () => lastSocketTask(wx);
const posts = () => wx.__requests.filter((r) => r.method === 'POST');

async function open(mode) {
  page = await openPage('pages/electrician/repair-input', { id: '7', mode });
  return page;
}

test('a quote is checked, posted in fen, its note sent to the chat, then back to the order', async () => {
  wx.__route('POST', /^\/api\/orders\/7\/quote$/, () => ({ statusCode: 200, data: Object.assign({}, order, { price: { estimated: 5000, quoted: 12050, final: null } }) }));
  await open('quote');
  expect(wx.setNavigationBarTitle).toHaveBeenCalledWith({ title: '报价' });
  expect(texts(page, '.estimated')).toEqual(['¥50.00']);
  page.instance.onAmountInput({ detail: { value: '12.345' } });
  await page.instance.onSubmitTap();
  expect(texts(page, '.err-amount')).toEqual(['请输入报价金额（元，最多两位小数）']);
  expect(posts()).toHaveLength(0);
  page.instance.onAmountInput({ detail: { value: '120.5' } });
  page.instance.onNoteInput({ detail: { value: '更换插座面板，材料费20元' } });
  const p = page.instance.onSubmitTap();
  await flush();
  expect(posts()[0].data).toEqual({ amount: 12050 });
  handshake(task());
  await flush();
  const [chat] = sentEvents(task()).filter((e) => e.name === 'chat.send');
  expect(chat.data).toMatchObject({ orderId: 7, text: '报价说明（¥120.50）：更换插座面板，材料费20元' });
  ack(task(), chat.id, { ok: true, msgId: 'm1', seq: 7 });
  await p;
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '已报价，等待客户确认' }));
  expect(wx.navigateBack).toHaveBeenCalled();
});

test('an order not in the right status says so and posts nothing', async () => {
  order = Object.assign({}, BASE, { status: 'departed' });
  await open('quote');
  expect(texts(page, '.load-error')).toEqual(['订单当前已出发，不能报价']);
  expect(page.querySelectorAll('.submit')).toHaveLength(0);
  await page.instance.onSubmitTap();
  expect(posts()).toHaveLength(0);
});

test('completion: photos chosen, removed, uploaded; the record sent to the chat; then complete', async () => {
  order = Object.assign({}, BASE, { status: 'in_progress' });
  let completes = 0;
  wx.__route('POST', /^\/api\/orders\/7\/complete$/, () => {
    completes += 1;
    if (completes === 1) return { statusCode: 503, data: { error: { code: 'unavailable', message: '服务繁忙，请重试' } } };
    return { statusCode: 200, data: Object.assign({}, order, { status: 'completed' }) };
  });
  await open('complete');
  expect(wx.setNavigationBarTitle).toHaveBeenCalledWith({ title: '完工确认' });
  page.querySelector('.add-photo').dispatchEvent('tap');
  await flush();
  expect(wx.chooseMedia.mock.calls[0][0]).toMatchObject({ count: 9, mediaType: ['image'] });
  expect(page.querySelectorAll('.photo')).toHaveLength(2);
  page.instance.onAddPhotoTap();
  await flush();
  page.querySelectorAll('.remove')[3].dispatchEvent('tap');
  await flush();
  expect(page.data.photos).toEqual(['wxfile://a.jpg', 'wxfile://b.jpg', 'wxfile://a.jpg']);
  page.instance.onWorkInput({ detail: { value: '更换了客厅插座' } });
  const p = page.instance.onSubmitTap();
  await flush();
  expect(wx.uploadFile).toHaveBeenCalledTimes(3);
  expect(wx.uploadFile.mock.calls[0][0]).toMatchObject({ url: 'http://127.0.0.1:8000/api/uploads', name: 'file', filePath: 'wxfile://a.jpg', header: { Authorization: 'Bearer tok-p' } });
  handshake(task());
  await flush();
  const chats = () => sentEvents(task()).filter((e) => e.name === 'chat.send');
  expect(chats()[0].data.text).toBe('维修记录：更换了客厅插座\n现场照片：http://127.0.0.1:8000/api/uploads/img1.jpg http://127.0.0.1:8000/api/uploads/img2.jpg http://127.0.0.1:8000/api/uploads/img3.jpg');
  require('../utils/api').setSleep(() => Promise.resolve());
  ack(task(), chats()[0].id, { ok: true, msgId: 'm1', seq: 9 });
  await p;
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '服务繁忙，请重试' }));
  expect(wx.navigateBack).not.toHaveBeenCalled();
  // again: the photos are not uploaded twice, the chat message keeps its clientMsgId
  const again = page.instance.onSubmitTap();
  await flush();
  expect(wx.uploadFile).toHaveBeenCalledTimes(3);
  expect(chats()[1].data.clientMsgId).toBe(chats()[0].data.clientMsgId);
  ack(task(), chats()[1].id, { ok: true, msgId: 'm1', seq: 9 });
  await again;
  expect(posts().filter((r) => r.path === '/api/orders/7/complete')).toHaveLength(2);
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '已完工' }));
  expect(wx.navigateBack).toHaveBeenCalled();
});

test('completion without a record or photos only completes', async () => {
  order = Object.assign({}, BASE, { status: 'in_progress' });
  wx.__route('POST', /^\/api\/orders\/7\/complete$/, () => ({ statusCode: 200, data: Object.assign({}, order, { status: 'completed' }) }));
  await open('complete');
  await page.instance.onSubmitTap();
  await flush();
  expect(posts().map((r) => r.path)).toEqual(['/api/orders/7/complete']);
  expect(wx.connectSocket).not.toHaveBeenCalled();
});

test('a failed upload stops before anything is sent', async () => {
  order = Object.assign({}, BASE, { status: 'in_progress' });
  wx.uploadFile.mockImplementation((o) => o.success({ statusCode: 415, data: JSON.stringify({ error: { code: 'unsupported_media_type', message: '只能上传图片' } }) }));
  await open('complete');
  await page.instance.onAddPhotoTap();
  await page.instance.onSubmitTap();
  await flush();
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '只能上传图片' }));
  expect(posts()).toHaveLength(0);
});
