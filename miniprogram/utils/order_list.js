// A side's orders list (the customer's 我的订单, the provider's 我的订单): GET
// /api/orders?status=&page=&limit= → {items, total} (CONTRACT §5: each sees their own), a tab
// per status (?status= opens one), pages through utils/paged_list.js; a tap opens the detail.
const api = require('./api');
const config = require('./config');
const { pagedListPage } = require('./paged_list');

// filters: the status tabs; signIn(): resolves once signed in with the side's role;
// decorate(order): what a row shows; detailPage: the route a tap opens with ?id=.
function orderListPage({ filters, signIn, decorate, detailPage }) {
  return pagedListPage({
    data: { filters, status: '' },

    onLoad(query) {
      if (query && query.status) this.setData({ status: query.status });
      return this.reload();
    },

    onFilterTap(e) {
      return this.showTab(e.currentTarget.dataset.status);
    },

    fetchPage(page) {
      return signIn()
        .then(() => api.get('/api/orders', { status: this.data.status, page, limit: config.pageSize }))
        .then((res) => ({ items: (res.items || []).map(decorate), total: res.total }));
    },

    onOrderTap(e) {
      wx.navigateTo({ url: detailPage + '?id=' + e.currentTarget.dataset.id });
    },
  });
}

module.exports = { orderListPage };
