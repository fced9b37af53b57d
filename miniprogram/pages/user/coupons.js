// 我的优惠券: GET /api/me/coupons?status= (CONTRACT §12) by tab — 可使用 / 已使用 / 已过期 —,
// soonest to expire first, 20 a page, more at the bottom, pull down to reload. A usable coupon
// is chosen at payment (pages/user/payment); 去使用 opens the services to order one.
const auth = require('../../utils/auth');
const coupons = require('../../utils/coupons');

const TABS = [
  { value: 'usable', label: '可使用' },
  { value: 'used', label: '已使用' },
  { value: 'expired', label: '已过期' },
];
const PAGE_SIZE = 20;
const EMPTY = { usable: '暂无可用的优惠券', used: '暂无已使用的优惠券', expired: '暂无已过期的优惠券' };

Page({
  data: {
    tabs: TABS,
    status: 'usable',
    items: [],
    total: 0,
    page: 0,
    loading: false,
    noMore: false,
    error: '',
    emptyText: EMPTY.usable,
  },

  onLoad(query) {
    const status = query && TABS.some((t) => t.value === query.status) ? query.status : 'usable';
    this.setData({ status, emptyText: EMPTY[status] });
    return this.reload();
  },

  onPullDownRefresh() {
    return this.reload().then(() => wx.stopPullDownRefresh());
  },

  onReachBottom() {
    return this.loadMore();
  },

  onTabTap(e) {
    const status = e.currentTarget.dataset.status;
    if (status === this.data.status) return Promise.resolve();
    this.setData({ status, emptyText: EMPTY[status] });
    return this.reload();
  },

  reload() {
    this.requestId = (this.requestId || 0) + 1;
    this.setData({ items: [], total: 0, page: 0, noMore: false, error: '', loading: false });
    return this.loadMore();
  },

  loadMore() {
    if (this.data.loading || this.data.noMore) return Promise.resolve();
    const page = this.data.page + 1;
    const requestId = this.requestId;
    this.setData({ loading: true });
    return auth
      .ensureLogin('customer')
      .then(() => coupons.mine(this.data.status, page, PAGE_SIZE))
      .then(
        (res) => {
          if (requestId !== this.requestId) return; // the tab changed meanwhile
          const items = this.data.items.concat(res.items);
          this.setData({ items, total: res.total, page, loading: false, noMore: items.length >= res.total || res.items.length === 0 });
        },
        (err) => {
          if (requestId !== this.requestId) return;
          this.setData({ loading: false, error: (err && err.message) || '加载失败' });
        }
      );
  },

  onUseTap() {
    wx.navigateTo({ url: '/pages/index/index' });
  },

  onCenterTap() {
    wx.navigateTo({ url: '/pages/user/coupon-center' });
  },
});
