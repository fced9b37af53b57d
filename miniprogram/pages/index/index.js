// Home: the service catalog (GET /api/services, public), grouped by category.
// Tapping a service opens the order form with it chosen.
const api = require('../../utils/api');
const { formatPrice, categoryLabel } = require('../../utils/order_status');

// [{category, services}] in the order categories first appear
function groupByCategory(services) {
  const groups = [];
  const index = {};
  for (const s of services || []) {
    const cat = categoryLabel(s.category);
    if (index[cat] === undefined) {
      index[cat] = groups.length;
      groups.push({ category: cat, services: [] });
    }
    groups[index[cat]].services.push(
      Object.assign({}, s, {
        priceText: formatPrice(s.basePrice),
        durationText: s.durationMin ? '约' + s.durationMin + '分钟' : '',
      })
    );
  }
  return groups;
}

Page({
  data: {
    loading: true,
    error: '',
    groups: [],
  },

  onLoad() {
    return this.loadServices();
  },

  onPullDownRefresh() {
    return this.loadServices().then(() => wx.stopPullDownRefresh());
  },

  loadServices() {
    this.setData({ loading: true, error: '' });
    return api.get('/api/services', null, { auth: false }).then(
      (services) => this.setData({ loading: false, groups: groupByCategory(services) }),
      (err) => this.setData({ loading: false, error: (err && err.message) || '加载失败' })
    );
  },

  onServiceTap(e) {
    const id = e.currentTarget.dataset.id;
    wx.navigateTo({ url: '/pages/user/order?serviceId=' + id });
  },

  onMyOrdersTap() {
    wx.navigateTo({ url: '/pages/user/orders' });
  },

  // the provider side (pages/electrician/*): it logs in as a provider itself
  onProviderTap() {
    wx.navigateTo({ url: '/pages/electrician/hall' });
  },

  onRetryTap() {
    return this.loadServices();
  },
});
