// My orders: GET /api/orders?status=&page=&limit= → {items, total} (CONTRACT §5), a tab per
// status, pull down to refresh, more on reaching the bottom.
const api = require('../../utils/api');
const auth = require('../../utils/auth');
const config = require('../../utils/config');
const st = require('../../utils/order_status');
const { formatTime } = require('../../utils/format');
const { pagedListPage } = require('../../utils/paged_list');

function decorate(o) {
  return {
    id: o.id,
    orderNo: o.orderNo,
    status: o.status,
    statusLabel: st.statusLabel(o.status),
    paymentLabel: st.paymentLabel(o.paymentStatus),
    address: o.address,
    priceText: st.formatPrice(st.currentPrice(o.price)),
    createdText: formatTime(o.createdAt),
  };
}

Page(pagedListPage({
  data: {
    filters: st.STATUS_FILTERS,
    status: '',
  },

  onLoad(query) {
    if (query && query.status) this.setData({ status: query.status });
    return this.reload();
  },

  onFilterTap(e) {
    return this.showTab(e.currentTarget.dataset.status);
  },

  fetchPage(page) {
    return auth
      .ensureLogin('customer')
      .then(() => api.get('/api/orders', { status: this.data.status, page, limit: config.pageSize }))
      .then((res) => ({ items: (res.items || []).map(decorate), total: res.total }));
  },

  onOrderTap(e) {
    wx.navigateTo({ url: '/pages/user/order-detail?id=' + e.currentTarget.dataset.id });
  },
}));
