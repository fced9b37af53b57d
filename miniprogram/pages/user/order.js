// Order form: service, address and point (wx.chooseLocation), description, contact, urgency,
// dispatch mode; validated here (utils/order_form.js), then POST /api/orders with an
// Idempotency-Key that stays the same until the order is made, so a retried or double-tapped
// submit creates one order (CONTRACT §5). On success: the order's detail page.
const api = require('../../utils/api');
const auth = require('../../utils/auth');
const { validateOrder } = require('../../utils/order_form');
const { formatPrice, categoryLabel } = require('../../utils/order_status');

Page({
  data: {
    services: [],
    serviceNames: [],
    serviceIndex: -1,
    form: {
      serviceId: '',
      address: '',
      lat: '',
      lng: '',
      description: '',
      contactName: '',
      contactPhone: '',
      urgency: 'normal',
      dispatchMode: 'grab',
    },
    urgencyOptions: [
      { value: 'normal', label: '普通' },
      { value: 'urgent', label: '紧急' },
    ],
    dispatchOptions: [
      { value: 'grab', label: '抢单（附近师傅抢单）' },
      { value: 'auto', label: '系统派单' },
    ],
    errors: {},
    submitting: false,
    estimate: '',
  },

  onLoad(query) {
    this.idempotencyKey = '';
    const wanted = query && query.serviceId ? Number(query.serviceId) : null;
    return api.get('/api/services', null, { auth: false }).then(
      (services) => {
        const list = services || [];
        const data = {
          services: list,
          serviceNames: list.map((s) => categoryLabel(s.category) + ' · ' + s.name),
        };
        const i = wanted ? list.findIndex((s) => s.id === wanted) : -1;
        this.setData(data);
        if (i >= 0) this.selectService(i);
      },
      (err) => api.showError(err)
    );
  },

  selectService(i) {
    const svc = this.data.services[i];
    if (!svc) return;
    this.setData({
      serviceIndex: i,
      'form.serviceId': svc.id,
      'errors.serviceId': '',
      estimate: formatPrice(svc.basePrice),
    });
    this.formChanged();
  },

  onServiceChange(e) {
    this.selectService(Number(e.detail.value));
  },

  // inputs carry data-field="description" etc.
  onInput(e) {
    const field = e.currentTarget.dataset.field;
    this.setData({ ['form.' + field]: e.detail.value, ['errors.' + field]: '' });
    this.formChanged();
  },

  onUrgencyChange(e) {
    this.setData({ 'form.urgency': e.detail.value });
    this.formChanged();
  },

  onDispatchChange(e) {
    this.setData({ 'form.dispatchMode': e.detail.value });
    this.formChanged();
  },

  onChooseLocation() {
    const form = this.data.form;
    const opts = {
      success: (res) => {
        const address = [res.address, res.name].filter(Boolean).join(' ');
        this.setData({
          'form.address': address || form.address,
          'form.lat': res.latitude,
          'form.lng': res.longitude,
          'errors.address': '',
          'errors.location': '',
        });
        this.formChanged();
      },
      fail: (e) => {
        if (e && /cancel/.test(e.errMsg || '')) return;
        wx.showToast({ title: '无法打开地图，请检查定位权限', icon: 'none' });
      },
    };
    if (form.lat !== '' && form.lng !== '') {
      opts.latitude = form.lat;
      opts.longitude = form.lng;
    }
    wx.chooseLocation(opts);
  },

  // A changed form is a new order: a new Idempotency-Key on the next submit.
  formChanged() {
    if (!this.data.submitting) this.idempotencyKey = '';
  },

  onSubmit() {
    if (this.data.submitting) return Promise.resolve();
    const v = validateOrder(this.data.form);
    if (!v.ok) {
      this.setData({ errors: v.errors });
      wx.showToast({ title: v.first, icon: 'none' });
      return Promise.resolve();
    }
    if (!this.idempotencyKey) this.idempotencyKey = api.newIdempotencyKey();
    this.setData({ submitting: true, errors: {} });
    wx.showLoading({ title: '提交中', mask: true });
    return auth
      .ensureLogin('customer')
      .then(() => api.post('/api/orders', v.body, { idempotencyKey: this.idempotencyKey }))
      .then(
        (order) => {
          wx.hideLoading();
          this.idempotencyKey = '';
          this.setData({ submitting: false });
          wx.redirectTo({ url: '/pages/user/order-detail?id=' + order.id });
        },
        (err) => {
          wx.hideLoading();
          this.setData({ submitting: false });
          if (err && err.code === 'validation_error' && Array.isArray(err.fields)) {
            const errors = {};
            for (const f of err.fields) errors[f.field] = f.message;
            this.setData({ errors });
          }
          api.showError(err);
        }
      );
  },
});
