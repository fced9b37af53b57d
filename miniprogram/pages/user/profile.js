// My account: who I am (GET /api/me: nickname, role, the phone masked), and the ways to my
// orders, coupons (mine, the coupon centre), chats, customer service and phone binding; log out.
const api = require('../../utils/api');
const auth = require('../../utils/auth');
const config = require('../../utils/config');

const MENU = [
  { key: 'orders', label: '我的订单', url: '/pages/user/orders' },
  { key: 'coupons', label: '我的优惠券', url: '/pages/user/coupons' },
  { key: 'coupon-center', label: '领券中心', url: '/pages/user/coupon-center' },
  { key: 'messages', label: '消息', url: '/pages/common/messages' },
  { key: 'service', label: '客服与投诉', url: '/pages/common/customer-service' },
];

Page({
  data: {
    loading: true,
    user: null,
    menu: MENU,
  },

  onShow() {
    return this.load();
  },

  load() {
    return auth
      .ensureLogin('customer')
      .then(() => api.get('/api/me'))
      .then((me) => {
        wx.setStorageSync(config.KEYS.user, me.user);
        this.setData({ loading: false, user: me.user });
      })
      .catch((err) => {
        this.setData({ loading: false });
        api.showError(err);
      });
  },

  onMenuTap(e) {
    const item = MENU.find((m) => m.key === e.currentTarget.dataset.key);
    if (item) wx.navigateTo({ url: item.url });
  },

  onBindPhoneTap() {
    wx.navigateTo({ url: '/pages/login/login?redirect=' + encodeURIComponent('/pages/user/profile') });
  },

  onLogoutTap() {
    return new Promise((resolve) => {
      wx.showModal({
        title: '退出登录',
        content: '确定退出当前账号吗？',
        success: (res) => {
          if (res.confirm) {
            auth.logout();
            require('../../utils/live').reset();
            this.setData({ user: null });
            wx.redirectTo({ url: '/pages/login/login' });
          }
          resolve();
        },
        fail: () => resolve(),
      });
    });
  },
});
