const { installWx } = require('./helpers/wx');

let wx;
let auth;

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  auth = require('../utils/auth');
});

test('login: wx.login code → POST /api/auth/wechat-login {code, role} → token stored', async () => {
  wx.__route('POST', /^\/api\/auth\/wechat-login$/, (req) => ({
    statusCode: 200,
    data: { token: 'jwt-abc', user: { id: 3, role: req.data.role, nickname: 'alice' }, isNewUser: true },
  }));
  const res = await auth.login('customer');
  expect(res.token).toBe('jwt-abc');
  const req = wx.__requests[0];
  expect(req.data).toEqual({ code: 'sandbox-alice', role: 'customer' });
  expect(req.header.Authorization).toBeUndefined();
  expect(wx.setStorageSync).toHaveBeenCalledWith('orderhub.token', 'jwt-abc');
  expect(auth.isLoggedIn()).toBe(true);
  expect(auth.currentUser()).toEqual({ id: 3, role: 'customer', nickname: 'alice' });
});

test('ensureLogin reuses a stored token and logs in only without one', async () => {
  wx.setStorageSync('orderhub.token', 'kept');
  await expect(auth.ensureLogin('customer')).resolves.toBe('kept');
  expect(wx.login).not.toHaveBeenCalled();

  auth.logout();
  wx.__route('POST', /wechat-login$/, () => ({ statusCode: 200, data: { token: 'fresh', user: { id: 1 } } }));
  await expect(auth.ensureLogin('provider')).resolves.toBe('fresh');
  expect(wx.__requests[0].data.role).toBe('provider');
});

test('a refused code rejects with the hub error and stores nothing', async () => {
  wx.__route('POST', /wechat-login$/, () => ({ statusCode: 401, data: { error: { code: 'invalid_code', message: '40029' } } }));
  await expect(auth.login()).rejects.toMatchObject({ code: 'invalid_code', status: 401 });
  expect(wx.getStorageSync('orderhub.token')).toBe('');
});

test('wx.login failing rejects with wx_login_failed', async () => {
  wx.login.mockImplementation((o) => o.fail({ errMsg: 'login:fail' }));
  await expect(auth.login()).rejects.toMatchObject({ code: 'wx_login_failed' });
  expect(wx.request).not.toHaveBeenCalled();
});

test('a develop build logs in with the sandbox code from storage; a release build ignores it', async () => {
  wx.setStorageSync('orderhub.sandboxCode', 'sandbox-bob');
  wx.__route('POST', /wechat-login$/, () => ({ statusCode: 200, data: { token: 't', user: { id: 2 } } }));
  await auth.login('customer');
  expect(wx.login).not.toHaveBeenCalled();
  expect(wx.__requests[0].data.code).toBe('sandbox-bob');

  wx.getAccountInfoSync.mockReturnValue({ miniProgram: { envVersion: 'release' } });
  await auth.login('customer');
  expect(wx.login).toHaveBeenCalledTimes(1);
  expect(wx.__requests[1].data.code).toBe('sandbox-alice');
});
