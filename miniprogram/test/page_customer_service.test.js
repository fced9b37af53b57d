const { installWx, flush } = require('./helpers/wx');
const { openPage, texts } = require('./helpers/page');

let wx;
let page;
let complaints;

const ORDERS = [
  { id: 7, orderNo: 'OH7', status: 'completed', address: '望京街10号' },
  { id: 8, orderNo: 'OH8', status: 'pending', address: '望京街12号' },
  { id: 9, orderNo: 'OH9', status: 'cancelled', address: '酒仙桥路1号' },
];

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  wx.setStorageSync('orderhub.token', 'tok-c');
  complaints = [{
    id: 4, orderId: 7, kind: 'price', text: '多收了材料费', images: [], status: 'handling', raisedBy: 'customer',
    createdAt: '2026-11-29T09:00:00Z', updatedAt: '2026-11-29T09:30:00Z',
    history: [
      { status: 'open', fromStatus: null, by: 'customer', byUserId: 3, note: '', at: '2026-11-29T09:00:00Z' },
      { status: 'handling', fromStatus: 'open', by: 'dispatcher', byUserId: 1, note: '已联系师傅核实', at: '2026-11-29T09:30:00Z' },
    ],
  }];
  wx.__route('GET', /^\/api\/orders$/, () => ({ statusCode: 200, data: { items: ORDERS, total: 3 } }));
  wx.__route('GET', /^\/api\/orders\/\d+\/complaints$/, (req) => ({ statusCode: 200, data: { items: req.path === '/api/orders/7/complaints' ? complaints : [] } }));
  wx.__route('POST', /^\/api\/orders\/7\/complaints$/, (req) => {
    const c = Object.assign({ id: 5, orderId: 7, status: 'open', raisedBy: 'customer', createdAt: '2026-11-29T10:00:00Z', updatedAt: '2026-11-29T10:00:00Z', history: [{ status: 'open', by: 'customer', note: '', at: '2026-11-29T10:00:00Z' }] }, req.data);
    complaints = [c].concat(complaints);
    return { statusCode: 201, data: c };
  });
});

async function open(query) {
  page = await openPage('pages/common/customer-service', query || {});
  return page;
}

test("an order's complaints with their history; a new one is posted and shown", async () => {
  wx.chooseMedia = jest.fn((o) => o.success({ tempFiles: [{ tempFilePath: 'tmp/a.jpg' }] }));
  wx.uploadFile = jest.fn((o) => Promise.resolve().then(() => o.success({ statusCode: 201, data: { url: 'http://127.0.0.1:8000/api/uploads/a.jpg' } })));
  await open({ orderId: '7' });
  expect(page.data.orderNames).toEqual(['订单 OH7 · 望京街10号', '订单 OH9 · 酒仙桥路1号']); // not a pending one
  expect(texts(page, '.complaint-status')).toEqual(['处理中']);
  expect(texts(page, '.step-label')).toEqual(['待处理', '处理中']);
  expect(texts(page, '.step-note')).toEqual(['已联系师傅核实']);
  page.instance.onKindChange({ detail: { value: 'damage' } });
  page.instance.onTextInput({ detail: { value: '地板被划伤' } });
  await page.instance.onAddPhotos();
  await flush();
  page.querySelector('.submit').dispatchEvent('tap');
  await flush(100);
  const req = wx.__requests.find((r) => r.method === 'POST');
  expect(req.data).toEqual({ kind: 'damage', text: '地板被划伤', images: ['http://127.0.0.1:8000/api/uploads/a.jpg'] });
  expect(texts(page, '.complaint-kind')).toEqual(['物品损坏', '价格争议']);
  expect(texts(page, '.complaint-status')).toEqual(['待处理', '处理中']);
  expect(page.data.text).toBe('');
});

test('the form says what is missing; choosing another order shows its history', async () => {
  await open({});
  await page.instance.onSubmit();
  await flush();
  expect(texts(page, '.err-order')).toEqual(['请选择要投诉的订单']);
  expect(texts(page, '.err-kind')).toEqual(['请选择问题类型']);
  expect(wx.__requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  await page.instance.onOrderChange({ detail: { value: '1' } });
  await flush();
  expect(page.data.orderId).toBe(9);
  expect(texts(page, '.no-complaints')).toEqual(['该订单暂无投诉记录']);
});
