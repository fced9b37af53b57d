const { installWx, flush } = require('./helpers/wx');
const { loadPage, texts } = require('./helpers/page');

let wx;
let page;

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  wx.navigateBack = jest.fn();
  wx.__route('POST', /^\/api\/auth\/wechat-login$/, (req) => ({
    statusCode: 200,
    data: { token: 'tok-new', user: { id: 3, role: req.data.role, nickname: '微信用户', phone: null }, isNewUser: true },
  }));
  wx.__route('POST', /^\/api\/auth\/bind-phone$/, (req) => ({
    statusCode: req.data.phoneCode === 'phone-code-1' ? 200 : 400,
    data: req.data.phoneCode === 'phone-code-1'
      ? { user: { id: 3, role: 'customer', nickname: '微信用户', phone: '138****0000' }, provider: null }
      : { error: { code: 'invalid_code', message: 'WeChat rejected the phone code (40029)' } },
  }));
});

async function open(query) {
  page = loadPage('pages/login/login');
  page.instance.onLoad(query || {});
  await flush();
  return page;
}

test('logs in with wx.login, then binds the phone with the getPhoneNumber code', async () => {
  await open({ redirect: encodeURIComponent('/pages/user/order?serviceId=2') });
  expect(texts(page, '.login')).toEqual(['微信一键登录']);
  page.querySelector('.login').dispatchEvent('tap');
  await flush(100);
  const login = wx.__requests.find((r) => r.path === '/api/auth/wechat-login');
  expect(login.data).toEqual({ code: 'sandbox-alice', role: 'customer' });
  expect(wx.getStorageSync('orderhub.token')).toBe('tok-new');
  expect(texts(page, '.no-phone')).toHaveLength(1);
  expect(texts(page, '.bind')).toEqual(['绑定微信手机号']);
  await page.instance.onGetPhoneNumber({ detail: { errMsg: 'getPhoneNumber:ok', code: 'phone-code-1' } });
  await flush();
  const req = wx.__requests.find((r) => r.path === '/api/auth/bind-phone');
  expect(req.data).toEqual({ phoneCode: 'phone-code-1' });
  expect(req.header.Authorization).toBe('Bearer tok-new');
  expect(texts(page, '.phone')).toEqual(['手机号 138****0000']);
  expect(wx.getStorageSync('orderhub.user').phone).toBe('138****0000');
  expect(page.querySelectorAll('.bind')).toHaveLength(0);
  page.querySelector('.done').dispatchEvent('tap');
  await flush();
  expect(wx.redirectTo).toHaveBeenCalledWith({ url: '/pages/user/order?serviceId=2' });
});

test('a refused phone permission sends nothing; a bad code shows the hub message', async () => {
  await open({ role: 'provider', redirect: 'https://evil.example.com/' });
  await page.instance.onLoginTap();
  expect(wx.__requests[0].data.role).toBe('provider');
  await page.instance.onGetPhoneNumber({ detail: { errMsg: 'getPhoneNumber:fail user deny' } });
  expect(wx.__requests.filter((r) => r.path === '/api/auth/bind-phone')).toHaveLength(0);
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '未授权手机号，可稍后在“我的”中绑定' }));
  await page.instance.onGetPhoneNumber({ detail: { code: 'stale' } });
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: 'WeChat rejected the phone code (40029)' }));
  page.instance.onDoneTap(); // an outside redirect is ignored
  expect(wx.redirectTo).not.toHaveBeenCalled();
  expect(wx.navigateBack).toHaveBeenCalled();
});
