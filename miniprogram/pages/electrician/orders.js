// The provider's orders: GET /api/orders?status=&page=&limit= → {items, total} (CONTRACT §5:
// a provider sees those assigned to them), a tab per status, pull down to refresh, more on
// reaching the bottom. A tap opens the provider's order detail.
const api = require('../../utils/api');
const auth = require('../../utils/auth');
const config = require('../../utils/config');
const st = require('../../utils/order_status');
const pa = require('../../utils/provider_actions');
const { formatTime } = require('../../utils/format');

function decorate(o) {
  const price = o.price || {};
  const amount = price.final !== null && price.final !== undefined ? price.final : price.quoted !== null && price.quoted !== undefined ? price.quoted : price.estimated;
  return {
    id: o.id,
    orderNo: o.orderNo,
    status: o.status,
    statusLabel: st.statusLabel(o.status),
    onOrder: pa.isOnOrder(o.status),
    address: o.address,
    urgent: o.urgency === 'urgent',
    scheduledText: o.scheduledAt ? '预约 ' + formatTime(o.scheduledAt) : '',
    priceText: st.formatPrice(amount),
    createdText: formatTime(o.createdAt),
  };
}

Page({
  data: {
    filters: pa.STATUS_FILTERS,
    status: '',
    items: [],
    total: 0,
    page: 0,
    loading: false,
    noMore: false,
    error: '',
  },

  onLoad(query) {
    if (query && query.status) this.setData({ status: query.status });
    return this.reload();
  },

  onPullDownRefresh() {
    return this.reload().then(() => wx.stopPullDownRefresh());
  },

  onReachBottom() {
    return this.loadMore();
  },

  onFilterTap(e) {
    const status = e.currentTarget.dataset.status;
    if (status === this.data.status) return Promise.resolve();
    this.setData({ status });
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
      .ensureRole('provider')
      .then(() => api.get('/api/orders', { status: this.data.status, page, limit: config.pageSize }))
      .then(
        (res) => {
          if (requestId !== this.requestId) return; // a tab changed meanwhile
          const items = this.data.items.concat((res.items || []).map(decorate));
          const total = res.total || 0;
          this.setData({ items, total, page, loading: false, noMore: items.length >= total || (res.items || []).length === 0 });
        },
        (err) => {
          if (requestId !== this.requestId) return;
          this.setData({ loading: false, error: (err && err.message) || '加载失败' });
        }
      );
  },

  onOrderTap(e) {
    wx.navigateTo({ url: '/pages/electrician/order-detail?id=' + e.currentTarget.dataset.id });
  },
});
