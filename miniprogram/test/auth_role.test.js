const { installWx } = require('./helpers/wx');

let wx;
let auth;

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  auth = require('../utils/auth');
});

test('ensureRole: a stored login of that role is used as it is', async () => {
  wx.setStorageSync('orderhub.token', 'tok-p');
  wx.setStorageSync('orderhub.user', { id: 2, role: 'provider' });
  await expect(auth.ensureRole('provider')).resolves.toMatchObject({ role: 'provider' });
  expect(wx.__requests).toHaveLength(0);
});

test('ensureRole: no login yet logs in with the role', async () => {
  wx.__route('POST', /wechat-login$/, (req) => ({ statusCode: 200, data: { token: 't', user: { id: 2, role: req.data.role } } }));
  await expect(auth.ensureRole('provider')).resolves.toMatchObject({ id: 2, role: 'provider' });
  expect(wx.__requests.map((r) => r.data.role)).toEqual(['provider']);
});

test('ensureRole: a customer login logs in again; a WeChat user who is a customer is refused', async () => {
  wx.setStorageSync('orderhub.token', 'tok-c');
  wx.setStorageSync('orderhub.user', { id: 1, role: 'customer' });
  wx.__route('POST', /wechat-login$/, () => ({ statusCode: 200, data: { token: 'tok-c2', user: { id: 1, role: 'customer' } } }));
  await expect(auth.ensureRole('provider')).rejects.toMatchObject({ code: 'wrong_role', status: 403, message: '当前微信账号是客户账号，不能进入师傅端' });
  // a develop build with another sandbox code: the provider's login replaces the customer's
  wx.setStorageSync('orderhub.sandboxCode', 'sandbox-wang');
  wx.__route('POST', /wechat-login$/, (req) => ({ statusCode: 200, data: { token: 'tok-p', user: { id: 5, role: req.data.code === 'sandbox-wang' ? 'provider' : 'customer' } } }));
  await expect(auth.ensureRole('provider')).resolves.toMatchObject({ id: 5 });
  expect(wx.getStorageSync('orderhub.token')).toBe('tok-p');
});
