// Log in (CONTRACT §3): wx.login → POST /api/auth/wechat-login (utils/auth.js), then bind the
// phone through WeChat's getPhoneNumber button: its one-time code goes to
// POST /api/auth/bind-phone {phoneCode}; the hub asks WeChat for the number, keeps it
// encrypted and shows it masked (138****0000). The phone is optional; the page then goes
// back, or to `redirect` (a page of this app only).
const api = require('../../utils/api');
const auth = require('../../utils/auth');
const config = require('../../utils/config');

const ROLES = ['customer', 'provider'];

function safeRedirect(url) {
  const u = url ? decodeURIComponent(String(url)) : '';
  return /^\/pages\/[A-Za-z0-9_/-]+(\?[A-Za-z0-9_=&%.-]*)?$/.test(u) ? u : '';
}

Page({
  data: {
    user: null,
    loggingIn: false,
    binding: false,
    role: 'customer',
  },

  onLoad(query) {
    const q = query || {};
    this.redirect = safeRedirect(q.redirect);
    const role = ROLES.indexOf(q.role) >= 0 ? q.role : 'customer';
    this.setData({ role, user: auth.isLoggedIn() ? auth.currentUser() : null });
  },

  onLoginTap() {
    if (this.data.loggingIn) return Promise.resolve();
    this.setData({ loggingIn: true });
    return auth.login(this.data.role).then(
      (res) => {
        this.setData({ loggingIn: false, user: res.user });
        wx.showToast({ title: res.isNewUser ? '注册成功' : '登录成功', icon: 'success' });
      },
      (err) => {
        this.setData({ loggingIn: false });
        api.showError(err);
      }
    );
  },

  // <button open-type="getPhoneNumber" bindgetphonenumber>: e.detail.code, or errMsg when the
  // user said no (then nothing is sent).
  onGetPhoneNumber(e) {
    const detail = (e && e.detail) || {};
    if (!detail.code) {
      wx.showToast({ title: '未授权手机号，可稍后在“我的”中绑定', icon: 'none' });
      return Promise.resolve();
    }
    this.setData({ binding: true });
    return api.post('/api/auth/bind-phone', { phoneCode: detail.code }).then(
      (res) => {
        wx.setStorageSync(config.KEYS.user, res.user);
        this.setData({ binding: false, user: res.user });
        wx.showToast({ title: '手机号已绑定', icon: 'success' });
      },
      (err) => {
        this.setData({ binding: false });
        api.showError(err);
      }
    );
  },

  onDoneTap() {
    if (this.redirect) wx.redirectTo({ url: this.redirect });
    else wx.navigateBack({ delta: 1, fail: () => wx.redirectTo({ url: '/pages/index/index' }) });
  },
});
