// Home: the service catalog (GET /api/services, public), grouped by category.
// Tapping a service opens the order form with it chosen. Below, the providers online near the
// customer (wx.getLocation → GET /api/providers/nearby, any service) with their ratings.
const api = require('../../utils/api');
const auth = require('../../utils/auth');
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
    nearby: [],
  },

  onLoad() {
    this.loadNearby(); // its own section: a refused location or login does not stop the catalog
    return this.loadServices();
  },

  // Only for a customer already logged in: the home page never logs anyone in, since the hub
  // fixes a user's role at their first login and a provider may be opening the app.
  loadNearby() {
    const user = auth.currentUser();
    if (!auth.isLoggedIn() || !user || user.role !== 'customer') return Promise.resolve();
    return new Promise((resolve) => {
      wx.getLocation({ type: 'wgs84', success: resolve, fail: () => resolve(null) });
    })
      .then((loc) => {
        if (!loc) return null;
        return api
          .get('/api/providers/nearby', { lat: loc.latitude, lng: loc.longitude, limit: 5 })
          .then((res) =>
            this.setData({
              nearby: (res.items || []).map((p) => ({
                id: p.id,
                name: p.name,
                ratingText: Number(p.rating).toFixed(1),
                completedOrders: p.completedOrders,
                distanceText: p.distanceM >= 1000 ? (p.distanceM / 1000).toFixed(1) + '公里' : p.distanceM + '米',
              })),
            })
          );
      })
      .catch(() => null);
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
