// orderhub mini program: the app. Pages live under pages/ (routes as in seed 003);
// the logic they share is in utils/ (plain CommonJS, tested with jest in test/).
const api = require('./utils/api');
const auth = require('./utils/auth');

App({
  globalData: {
    role: 'customer',
  },

  onLaunch() {
    // A 401 (token expired or revoked) clears the stored token in utils/api.js; log in again
    // silently with wx.login so the next call has a fresh token.
    api.onUnauthorized(() => {
      wx.showToast({ title: '登录已过期，正在重新登录', icon: 'none' });
      auth.login(this.globalData.role).catch(api.showError);
    });
  },
});
