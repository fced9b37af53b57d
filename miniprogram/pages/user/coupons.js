// 我的优惠券: GET /api/me/coupons?status= (CONTRACT §12) by tab — 可使用 / 已使用 / 已过期 —,
// soonest to expire first, 20 a page, more at the bottom, pull down to reload. A usable coupon
// is chosen at payment (pages/user/payment); 去使用 opens the services to order one.
const auth = require('../../utils/auth');
const coupons = require('../../utils/coupons');
const { pagedListPage } = require('../../utils/paged_list');

const TABS = [
  { value: 'usable', label: '可使用' },
  { value: 'used', label: '已使用' },
  { value: 'expired', label: '已过期' },
];
const PAGE_SIZE = 20;
const EMPTY = { usable: '暂无可用的优惠券', used: '暂无已使用的优惠券', expired: '暂无已过期的优惠券' };

Page(pagedListPage({
  data: {
    tabs: TABS,
    status: 'usable',
    emptyText: EMPTY.usable,
  },

  onLoad(query) {
    const status = query && TABS.some((t) => t.value === query.status) ? query.status : 'usable';
    this.setData({ status, emptyText: EMPTY[status] });
    return this.reload();
  },

  onTabTap(e) {
    const status = e.currentTarget.dataset.status;
    return this.showTab(status, { emptyText: EMPTY[status] });
  },

  fetchPage(page) {
    return auth.ensureLogin('customer').then(() => coupons.mine(this.data.status, page, PAGE_SIZE));
  },

  onUseTap() {
    wx.navigateTo({ url: '/pages/index/index' });
  },

  onCenterTap() {
    wx.navigateTo({ url: '/pages/user/coupon-center' });
  },
}));
