// The order form's photos and its `direct` dispatch: a provider chosen from the nearby list.
const { installWx, flush } = require('./helpers/wx');
const { openPage, texts } = require('./helpers/page');

let wx;

const SERVICES = [{ id: 1, category: 'electrical', name: '跳闸检修', description: '', basePrice: 5000, durationMin: 60 }];
const NEARBY = [
  { id: 11, name: '李师傅', rating: 4.86, ratingCount: 120, completedOrders: 356, distanceM: 800 },
  { id: 12, name: '赵师傅', rating: 4.5, ratingCount: 8, completedOrders: 20, distanceM: 2300 },
];

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  wx.setStorageSync('orderhub.token', 'tok-c');
  wx.__route('GET', /^\/api\/services$/, () => ({ statusCode: 200, data: SERVICES }));
  wx.__route('GET', /^\/api\/providers\/nearby$/, () => ({ statusCode: 200, data: { items: NEARBY } }));
  wx.__route('POST', /^\/api\/orders$/, () => ({ statusCode: 201, data: { id: 42, status: 'pending', seq: 1 } }));
  wx.chooseLocation.mockImplementation((o) => o.success({ name: '望京SOHO', address: '北京市朝阳区望京街10号', latitude: 39.996, longitude: 116.48 }));
  wx.chooseMedia = jest.fn((o) => o.success({ tempFiles: [{ tempFilePath: 'tmp/1.jpg' }, { tempFilePath: 'tmp/2.jpg' }] }));
  let n = 0;
  wx.uploadFile = jest.fn((o) => {
    n += 1;
    Promise.resolve().then(() => o.success({ statusCode: 201, data: JSON.stringify({ url: 'http://127.0.0.1:8000/api/uploads/u' + n + '.jpg' }) }));
  });
});

async function filled() {
  const page = await openPage('pages/user/order', { serviceId: '1' });
  page.instance.onDispatchChange({ detail: { value: 'direct' } });
  await flush();
  expect(texts(page, '.nearby-hint')).toEqual(['先选择服务项目和地址，再选择附近的师傅']);
  page.querySelector('.location').dispatchEvent('tap');
  await flush(100);
  for (const [sel, value] of [['.description', '跳闸'], ['.contact-name', '张三'], ['.contact-phone', '13800001234']]) {
    page.querySelector(sel).dispatchEvent('input', { detail: { value } });
  }
  await flush();
  return page;
}

test('direct: the nearby providers with ratings and distance; the chosen one goes in the order', async () => {
  const page = await filled();
  const q = wx.__requests.find((r) => r.path === '/api/providers/nearby').query;
  // asked at the picker's point in WGS-84 (the hub's), not at its GCJ-02 numbers
  const { hubPoint } = require('../utils/order_form');
  const p = hubPoint(39.996, 116.48);
  expect(q).toEqual({ lat: String(p.lat), lng: String(p.lng), serviceId: '1', limit: '10' });
  expect(texts(page, '.provider-name')).toEqual(['李师傅', '赵师傅']);
  expect(texts(page, '.provider-stats')[0]).toBe('★4.9 · 120条评价 · 完成356单');
  expect(texts(page, '.provider-distance')).toEqual(['800米', '2.3公里']);
  await page.instance.onSubmit(); // no provider chosen yet
  expect(texts(page, '.err-providerId')).toEqual(['请选择一位师傅']);
  page.querySelectorAll('.provider')[1].dispatchEvent('tap');
  await flush();
  expect(page.querySelectorAll('.provider.chosen')).toHaveLength(1);
  await page.instance.onAddPhotos();
  await flush();
  expect(page.querySelectorAll('.thumb')).toHaveLength(2);
  await page.instance.onSubmit();
  await flush();
  const body = wx.__requests.find((r) => r.method === 'POST' && r.path === '/api/orders').data;
  expect(body).toMatchObject({
    dispatchMode: 'direct',
    providerId: 12,
    images: ['http://127.0.0.1:8000/api/uploads/u1.jpg', 'http://127.0.0.1:8000/api/uploads/u2.jpg'],
  });
  expect(wx.redirectTo).toHaveBeenCalledWith({ url: '/pages/user/order-detail?id=42' });
});

test('no provider nearby says so; going back to grab drops the choice', async () => {
  wx.__route('GET', /^\/api\/providers\/nearby$/, () => ({ statusCode: 200, data: { items: [] } }));
  const page = await filled();
  expect(texts(page, '.nearby-none')).toEqual(['附近暂无在线师傅，可改为抢单或系统派单']);
  page.instance.onDispatchChange({ detail: { value: 'grab' } });
  await page.instance.onSubmit();
  await flush();
  const body = wx.__requests.find((r) => r.method === 'POST' && r.path === '/api/orders').data;
  expect(body.dispatchMode).toBe('grab');
  expect(body).not.toHaveProperty('providerId');
  expect(body).not.toHaveProperty('images');
});

test('an appointment: a day, then one of its slots, posted as scheduledAt', async () => {
  const page = await filled();
  page.instance.onDispatchChange({ detail: { value: 'grab' } });
  page.instance.onScheduleModeChange({ detail: { value: 'later' } });
  await flush();
  expect(page.data.dayNames[page.data.dayNames.length - 1]).toMatch(/^周. \d\d-\d\d$/);
  await page.instance.onSubmit();
  await flush();
  expect(texts(page, '.err-scheduledAt')).toEqual(['请选择预约时间']);
  page.instance.onDayChange({ detail: { value: String(page.data.days.length - 1) } });
  page.instance.onSlotChange({ detail: { value: '0' } });
  await flush();
  expect(texts(page, '.slot')).toEqual(['08:00-10:00']);
  await page.instance.onSubmit();
  await flush();
  const body = wx.__requests.find((r) => r.method === 'POST' && r.path === '/api/orders').data;
  const at = new Date(body.scheduledAt);
  expect(at.getHours()).toBe(8);
  expect(at.getTime()).toBeGreaterThan(Date.now() + 4 * 24 * 3600 * 1000);
});
