// The home page's nearby providers: the customer's location → GET /api/providers/nearby.
const { installWx, flush } = require('./helpers/wx');
const { loadPage, texts } = require('./helpers/page');

let wx;

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  wx.__route('GET', /^\/api\/services$/, () => ({ statusCode: 200, data: [{ id: 1, category: 'electrical', name: '跳闸检修', basePrice: 5000, durationMin: 60 }] }));
  wx.__route('POST', /^\/api\/auth\/wechat-login$/, () => ({ statusCode: 200, data: { token: 'tok-c', user: { id: 3, role: 'customer', nickname: '微信用户' } } }));
  wx.__route('GET', /^\/api\/providers\/nearby$/, () => ({
    statusCode: 200,
    data: { items: [{ id: 11, name: '李师傅', rating: 4.86, ratingCount: 120, completedOrders: 356, distanceM: 800 }] },
  }));
});

test('lists the providers near a logged-in customer', async () => {
  wx.setStorageSync('orderhub.token', 'tok-c');
  wx.setStorageSync('orderhub.user', { id: 3, role: 'customer' });
  wx.getLocation = jest.fn((o) => o.success({ latitude: 20.03, longitude: 110.3 }));
  const page = loadPage('pages/index/index');
  await page.instance.onLoad();
  await flush(100);
  expect(wx.getLocation.mock.calls[0][0].type).toBe('wgs84');
  const req = wx.__requests.find((r) => r.path === '/api/providers/nearby');
  expect(req.query).toEqual({ lat: '20.03', lng: '110.3', limit: '5' });
  expect(req.header.Authorization).toBe('Bearer tok-c');
  expect(texts(page, '.nearby-name')).toEqual(['李师傅']);
  expect(texts(page, '.nearby-distance')).toEqual(['800米']);
});

test('nobody is logged in from the home page (a provider may be opening the app)', async () => {
  wx.getLocation = jest.fn((o) => o.success({ latitude: 20.03, longitude: 110.3 }));
  const page = loadPage('pages/index/index');
  await page.instance.onLoad();
  await flush(100);
  expect(wx.getLocation).not.toHaveBeenCalled();
  expect(wx.__requests.map((r) => r.path)).toEqual(['/api/services']);
  expect(texts(page, '.nearby-name')).toEqual([]);
});

test('no location permission, or a provider logged in: no section, the catalog still shows', async () => {
  wx.setStorageSync('orderhub.token', 'tok-c');
  wx.setStorageSync('orderhub.user', { id: 3, role: 'customer' });
  wx.getLocation = jest.fn((o) => o.fail({ errMsg: 'getLocation:fail auth deny' }));
  const page = loadPage('pages/index/index');
  await page.instance.onLoad();
  await flush(100);
  expect(texts(page, '.nearby-name')).toEqual([]);
  expect(texts(page, '.service-name')).toEqual(['跳闸检修']);
  wx.setStorageSync('orderhub.user', { id: 5, role: 'provider' });
  wx.getLocation.mockClear();
  await page.instance.loadNearby();
  expect(wx.getLocation).not.toHaveBeenCalled();
  expect(wx.__requests.filter((r) => r.path === '/api/providers/nearby')).toHaveLength(0);
});
