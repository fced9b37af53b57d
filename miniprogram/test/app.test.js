const { installWx, flush } = require('./helpers/wx');

let wx;

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
});

test('app.js: a 401 anywhere logs in again with wx.login', async () => {
  let app;
  global.App = (o) => {
    app = o;
  };
  require('../app');
  app.onLaunch();
  wx.setStorageSync('orderhub.token', 'expired');
  wx.__route('GET', /^\/api\/orders$/, () => ({ statusCode: 401, data: { error: { code: 'token_expired', message: 'expired' } } }));
  wx.__route('POST', /wechat-login$/, () => ({ statusCode: 200, data: { token: 'renewed', user: { id: 1, role: 'customer' } } }));
  const api = require('../utils/api');
  await expect(api.get('/api/orders')).rejects.toMatchObject({ status: 401 });
  await flush();
  expect(wx.__requests.map((r) => r.path)).toEqual(['/api/orders', '/api/auth/wechat-login']);
  expect(wx.__requests[1].data.role).toBe('customer');
  expect(wx.getStorageSync('orderhub.token')).toBe('renewed');
  delete global.App;
});
