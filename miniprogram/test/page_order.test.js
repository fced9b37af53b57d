const { installWx, flush } = require('./helpers/wx');
const { openPage, texts } = require('./helpers/page');

let wx;

const SERVICES = [
  { id: 1, category: '电路维修', name: '跳闸检修', description: '', basePrice: 5000, durationMin: 60 },
  { id: 2, category: '灯具安装', name: '吸顶灯安装', description: '', basePrice: 8000, durationMin: 45 },
];

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  wx.setStorageSync('orderhub.token', 'tok-c');
  wx.__route('GET', /^\/api\/services$/, () => ({ statusCode: 200, data: SERVICES }));
  wx.chooseLocation.mockImplementation((o) =>
    o.success({ name: '望京SOHO', address: '北京市朝阳区望京街10号', latitude: 39.996, longitude: 116.48 })
  );
});

async function openForm(query) {
  const page = await openPage('pages/user/order', query || {});
  return page;
}

async function type(page, selector, value) {
  page.querySelector(selector).dispatchEvent('input', { detail: { value } });
  await flush();
}

async function fill(page) {
  page.querySelector('.location').dispatchEvent('tap');
  await flush();
  await type(page, '.description', '客厅插座冒烟');
  await type(page, '.contact-name', '张三');
  await type(page, '.contact-phone', '13800001234');
}

const posts = () => wx.__requests.filter((r) => r.method === 'POST' && r.path === '/api/orders');

test('the service from the catalog is preselected with its estimate', async () => {
  const page = await openForm({ serviceId: '2' });
  expect(page.data.form.serviceId).toBe(2);
  expect(texts(page, '.service-picker .value')).toEqual(['灯具安装 · 吸顶灯安装']);
  expect(texts(page, '.estimate')).toEqual(['预估 ¥80.00 起']);
});

test('an empty form is refused field by field and nothing is posted', async () => {
  const page = await openForm({});
  await page.instance.onSubmit();
  await flush();
  expect(posts()).toHaveLength(0);
  expect(texts(page, '.err-serviceId')).toEqual(['请选择服务项目']);
  expect(texts(page, '.err-location')).toEqual(['请在地图上选择服务位置']);
  expect(texts(page, '.err-description')).toEqual(['请描述需要处理的问题']);
  expect(texts(page, '.err-contactPhone')).toEqual(['请填写正确的手机号']);
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '请选择服务项目' }));
});

test('a bad phone number is refused', async () => {
  const page = await openForm({ serviceId: '1' });
  await fill(page);
  await type(page, '.contact-phone', '12345');
  page.querySelector('.submit').dispatchEvent('tap');
  await flush();
  expect(posts()).toHaveLength(0);
  expect(texts(page, '.err-contactPhone')).toEqual(['请填写正确的手机号']);
});

test('a filled form posts the contract body with an Idempotency-Key and opens the order', async () => {
  wx.__route('POST', /^\/api\/orders$/, () => ({ statusCode: 201, data: { id: 42, status: 'pending', seq: 1 } }));
  const page = await openForm({ serviceId: '1' });
  await fill(page);
  page.instance.onUrgencyChange({ detail: { value: 'urgent' } });
  page.instance.onDispatchChange({ detail: { value: 'auto' } });
  page.querySelector('.submit').dispatchEvent('tap');
  await flush(100);
  expect(posts()).toHaveLength(1);
  const req = posts()[0];
  // the picker's point is GCJ-02: the hub gets the WGS-84 point whose GCJ-02 image it is
  const { wgs84ToGcj02, distanceM } = require('../utils/coords');
  const chosen = { lat: 39.996, lng: 116.48 };
  expect(distanceM(wgs84ToGcj02(req.data.lat, req.data.lng), chosen)).toBeLessThan(1);
  expect(distanceM(req.data, chosen)).toBeGreaterThan(400); // Beijing's offset, ≈ 580 m
  expect(req.data).toEqual({
    serviceId: 1,
    address: '北京市朝阳区望京街10号 望京SOHO',
    lat: req.data.lat,
    lng: req.data.lng,
    description: '客厅插座冒烟',
    contactName: '张三',
    contactPhone: '13800001234',
    urgency: 'urgent',
    dispatchMode: 'auto',
  });
  expect(req.header.Authorization).toBe('Bearer tok-c');
  expect(req.header['Idempotency-Key']).toMatch(/^[0-9a-f]+-[0-9a-f]{24}$/);
  expect(wx.redirectTo).toHaveBeenCalledWith({ url: '/pages/user/order-detail?id=42' });
});

test('a submit that failed is retried with the same Idempotency-Key; the hub error is shown', async () => {
  let n = 0;
  wx.__route('POST', /^\/api\/orders$/, () =>
    ++n === 1
      ? { statusCode: 429, data: { error: { code: 'rate_limited', message: 'slow down', retryAfter: 3 } } }
      : { statusCode: 201, data: { id: 43 } }
  );
  const page = await openForm({ serviceId: '1' });
  await fill(page);
  await page.instance.onSubmit();
  await flush();
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '操作太频繁，请稍后再试' }));
  expect(wx.redirectTo).not.toHaveBeenCalled();
  await page.instance.onSubmit();
  await flush();
  const keys = posts().map((r) => r.header['Idempotency-Key']);
  expect(keys).toHaveLength(2);
  expect(keys[0]).toBe(keys[1]);
  expect(wx.redirectTo).toHaveBeenCalledWith({ url: '/pages/user/order-detail?id=43' });
});

test('a 422 from the hub marks its fields', async () => {
  wx.__route('POST', /^\/api\/orders$/, () => ({
    statusCode: 422,
    data: { error: { code: 'validation_error', message: 'address: outside every service area', fields: [{ field: 'address', message: '不在服务范围内' }] } },
  }));
  const page = await openForm({ serviceId: '1' });
  await fill(page);
  await page.instance.onSubmit();
  await flush();
  expect(texts(page, '.err-address')).toEqual(['不在服务范围内']);
});

test('logs in with wx.login first when no token is stored', async () => {
  wx.removeStorageSync('orderhub.token');
  wx.__route('POST', /wechat-login$/, () => ({ statusCode: 200, data: { token: 'new-tok', user: { id: 1 } } }));
  wx.__route('POST', /^\/api\/orders$/, () => ({ statusCode: 201, data: { id: 50 } }));
  const page = await openForm({ serviceId: '1' });
  await fill(page);
  await page.instance.onSubmit();
  await flush();
  expect(wx.__requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual(['/api/auth/wechat-login', '/api/orders']);
  expect(posts()[0].header.Authorization).toBe('Bearer new-tok');
});

test('the submit tap asks for the first three messages of the order, reports the answer, then posts', async () => {
  wx.__route('POST', /^\/api\/orders$/, () => ({ statusCode: 201, data: { id: 44, status: 'pending', seq: 1 } }));
  wx.__route('POST', /^\/api\/me\/subscriptions$/, () => ({ statusCode: 200, data: { balances: {} } }));
  const ids = require('../utils/config').templates();
  let answer;
  wx.requestSubscribeMessage.mockImplementation((o) => {
    answer = o;
  });
  const page = await openForm({ serviceId: '1' });
  await fill(page);
  const done = page.instance.onSubmit();
  // the dialog opens within the tap handler, before any await; the order waits for its answer
  expect(wx.requestSubscribeMessage).toHaveBeenCalledTimes(1);
  expect(answer.tmplIds).toEqual([ids.order_accepted, ids.order_departed, ids.order_arrived]);
  await flush();
  expect(posts()).toHaveLength(0);
  answer.success({ errMsg: 'requestSubscribeMessage:ok', [ids.order_accepted]: 'accept', [ids.order_departed]: 'accept', [ids.order_arrived]: 'reject' });
  await done;
  await flush();
  const reported = wx.__requests.filter((r) => r.path === '/api/me/subscriptions');
  expect(reported.map((r) => r.data)).toEqual([{ accepted: ['order_accepted', 'order_departed'], rejected: ['order_arrived'] }]);
  expect(posts()).toHaveLength(1);
  expect(wx.redirectTo).toHaveBeenCalledWith({ url: '/pages/user/order-detail?id=44' });
});

test('a refused or failing subscribe dialog never stops the order', async () => {
  wx.__route('POST', /^\/api\/orders$/, () => ({ statusCode: 201, data: { id: 45, status: 'pending', seq: 1 } }));
  wx.requestSubscribeMessage.mockImplementation((o) => o.fail({ errMsg: 'requestSubscribeMessage:fail can only be invoked by user TAP gesture', errCode: 10005 }));
  const page = await openForm({ serviceId: '1' });
  await fill(page);
  await page.instance.onSubmit();
  await flush(100);
  expect(posts()).toHaveLength(1);
  expect(wx.__requests.filter((r) => r.path === '/api/me/subscriptions')).toHaveLength(0);
  expect(wx.redirectTo).toHaveBeenCalledWith({ url: '/pages/user/order-detail?id=45' });
});
