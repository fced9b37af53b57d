// A list read a page at a time under tabs (my orders, a provider's orders, my coupons): the
// first page on load and on a tab, the next one at the bottom, all again on pull-down. A page
// that arrives after the tab changed is dropped: each reload takes a new request id.
function emptyList() {
  return { items: [], total: 0, page: 0, loading: false, noMore: false, error: '' };
}

const LIST_HANDLERS = {
  onPullDownRefresh() {
    return this.reload().then(() => wx.stopPullDownRefresh());
  },

  onReachBottom() {
    return this.loadMore();
  },

  // Show the tab `status` (and `extra` data with it) from its first page; the shown tab: nothing.
  showTab(status, extra) {
    if (status === this.data.status) return Promise.resolve();
    this.setData(Object.assign({ status }, extra));
    return this.reload();
  },

  reload() {
    this.requestId = (this.requestId || 0) + 1;
    this.setData(emptyList());
    return this.loadMore();
  },

  loadMore() {
    if (this.data.loading || this.data.noMore) return Promise.resolve();
    const page = this.data.page + 1;
    const requestId = this.requestId;
    this.setData({ loading: true });
    return Promise.resolve()
      .then(() => this.fetchPage(page))
      .then(
        (res) => {
          if (requestId !== this.requestId) return; // the tab changed meanwhile
          const got = res.items || [];
          const items = this.data.items.concat(got);
          const total = res.total || 0;
          this.setData({ items, total, page, loading: false, noMore: items.length >= total || got.length === 0 });
        },
        (err) => {
          if (requestId !== this.requestId) return;
          this.setData({ loading: false, error: (err && err.message) || '加载失败' });
        }
      );
  },
};

// The options of Page() with the list's data and handlers added. The page gives
// fetchPage(page) → Promise<{items, total}> for its current tab (this.data.status), items
// ready to show.
function pagedListPage(options) {
  return Object.assign({}, LIST_HANDLERS, options, { data: Object.assign(emptyList(), options.data) });
}

module.exports = { pagedListPage };
