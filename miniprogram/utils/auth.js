// WeChat login: wx.login → POST /api/auth/wechat-login {code, role} (CONTRACT §3) → the token
// kept with wx.setStorageSync (utils/api.js sends it as a Bearer token on every call).
const api = require('./api');
const config = require('./config');

// In a develop build, a sandbox code set in storage (orderhub.sandboxCode = 'sandbox-alice')
// stands in for wx.login's: the local WeChat sandbox knows only those (docs/miniprogram.md).
function sandboxCode() {
  return config.developSetting(config.KEYS.sandboxCode);
}

function wxLogin() {
  const devCode = sandboxCode();
  if (devCode) return Promise.resolve(String(devCode));
  return new Promise((resolve, reject) => {
    wx.login({
      success: (res) => (res && res.code ? resolve(res.code) : reject(new api.ApiError('wx_login_failed', '微信登录失败', 0))),
      fail: (e) => reject(new api.ApiError('wx_login_failed', (e && e.errMsg) || '微信登录失败', 0)),
    });
  });
}

async function login(role) {
  const code = await wxLogin();
  const res = await api.post('/api/auth/wechat-login', { code, role: role || 'customer' }, { auth: false });
  wx.setStorageSync(config.KEYS.token, res.token);
  wx.setStorageSync(config.KEYS.user, res.user || null);
  return res;
}

function currentUser() {
  try {
    return wx.getStorageSync(config.KEYS.user) || null;
  } catch (e) {
    return null;
  }
}

function isLoggedIn() {
  return !!api.getToken();
}

// The stored token, or a fresh login (role only matters when the user is created).
async function ensureLogin(role) {
  const token = api.getToken();
  if (token) return token;
  const res = await login(role);
  return res.token;
}

// A login of this role: the provider pages need a provider account. The stored login may be
// another role's (the customer side was opened first); log in again (a develop build may have
// a new sandbox code). The hub fixes a user's role when the user is created, so a WeChat user
// who is a customer stays one: that is a 403 wrong_role the page shows.
async function ensureRole(role) {
  await ensureLogin(role);
  const user = currentUser();
  if (user && user.role === role) return user;
  const res = await login(role);
  if (res.user && res.user.role === role) return res.user;
  const text = role === 'provider' ? '当前微信账号是客户账号，不能进入师傅端' : '当前微信账号是师傅账号，不能下单';
  throw new api.ApiError('wrong_role', text, 403);
}

function logout() {
  wx.removeStorageSync(config.KEYS.token);
  wx.removeStorageSync(config.KEYS.user);
}

module.exports = { login, ensureLogin, ensureRole, logout, currentUser, isLoggedIn };
