// Order form: service, address and point (wx.chooseLocation), description, contact, urgency,
// dispatch mode (grab, auto, or `direct`: a provider chosen from the nearby list with their
// ratings, GET /api/providers/nearby), photos (utils/upload.js → POST /api/uploads);
// validated here (utils/order_form.js), then POST /api/orders with an
// Idempotency-Key that stays the same until the order is made, so a retried or double-tapped
// submit creates one order (CONTRACT §5). On success: the order's detail page.
// The point is posted in WGS-84 (the picker's is GCJ-02: utils/order_form.js hubPoint). The
// submit tap first asks WeChat's subscribe dialog for the order's first steps (accepted,
// departed, arrived: utils/subscribe.js), then posts whatever the answer.
const api = require('../../utils/api');
const auth = require('../../utils/auth');
const upload = require('../../utils/upload');
const { schedule } = require('../../utils/time_slots');
const subscribe = require('../../utils/subscribe');
const { validateOrder, hubPoint, MAX_IMAGES } = require('../../utils/order_form');
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
      providerId: '',
      images: [],
      scheduleMode: 'now',
      scheduledAt: '',
    },
    scheduleOptions: [
      { value: 'now', label: '尽快上门' },
      { value: 'later', label: '预约时间' },
    ],
    days: [],
    dayNames: [],
    dayIndex: -1,
    slotNames: [],
    slotIndex: -1,
    urgencyOptions: [
      { value: 'normal', label: '普通' },
      { value: 'urgent', label: '紧急' },
    ],
    dispatchOptions: [
      { value: 'grab', label: '抢单（附近师傅抢单）' },
      { value: 'auto', label: '系统派单' },
      { value: 'direct', label: '指定师傅（附近师傅及评分）' },
    ],
    nearby: [],
    nearbyState: '', // '' | 'loading' | 'loaded' | 'need-location'
    uploading: false,
    maxImages: MAX_IMAGES,
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
    this.loadNearby();
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

  onScheduleModeChange(e) {
    const later = e.detail.value === 'later';
    const data = { 'form.scheduleMode': later ? 'later' : 'now', 'form.scheduledAt': '', 'errors.scheduledAt': '', dayIndex: -1, slotIndex: -1, slotNames: [] };
    if (later) {
      const days = schedule();
      Object.assign(data, { days, dayNames: days.map((d) => d.label) });
    }
    this.setData(data);
    this.formChanged();
  },

  onDayChange(e) {
    const i = Number(e.detail.value);
    const day = this.data.days[i];
    if (!day) return;
    this.setData({ dayIndex: i, slotNames: day.slots.map((s) => s.label), slotIndex: -1, 'form.scheduledAt': '' });
    this.formChanged();
  },

  onSlotChange(e) {
    const i = Number(e.detail.value);
    const day = this.data.days[this.data.dayIndex];
    const slot = day && day.slots[i];
    if (!slot) return;
    this.setData({ slotIndex: i, 'form.scheduledAt': slot.startAt, 'errors.scheduledAt': '' });
    this.formChanged();
  },

  onDispatchChange(e) {
    this.setData({ 'form.dispatchMode': e.detail.value, 'errors.providerId': '' });
    this.formChanged();
    return this.loadNearby();
  },

  // The providers a direct order may go to: online, with the service's skill, near the point
  // (their distance rounded, never their position), with their rating and completed orders.
  loadNearby() {
    const f = this.data.form;
    if (f.dispatchMode !== 'direct') return Promise.resolve();
    if (f.lat === '' || f.lng === '' || !f.serviceId) {
      this.setData({ nearby: [], nearbyState: 'need-location' });
      return Promise.resolve();
    }
    this.setData({ nearbyState: 'loading' });
    return auth
      .ensureLogin('customer')
      .then(() => {
        const p = hubPoint(f.lat, f.lng); // the picker's GCJ-02 point, as the hub's WGS-84
        return api.get('/api/providers/nearby', { lat: p.lat, lng: p.lng, serviceId: f.serviceId, limit: 10 });
      })
      .then(
        (res) => {
          const nearby = (res.items || []).map((p) => ({
            id: p.id,
            name: p.name,
            ratingText: Number(p.rating).toFixed(1),
            ratingCount: p.ratingCount,
            completedOrders: p.completedOrders,
            distanceText: p.distanceM >= 1000 ? (p.distanceM / 1000).toFixed(1) + '公里' : p.distanceM + '米',
          }));
          const still = nearby.some((p) => String(p.id) === String(this.data.form.providerId));
          this.setData({ nearby, nearbyState: 'loaded', 'form.providerId': still ? this.data.form.providerId : '' });
        },
        (err) => {
          this.setData({ nearby: [], nearbyState: 'loaded' });
          api.showError(err);
        }
      );
  },

  onProviderTap(e) {
    this.setData({ 'form.providerId': Number(e.currentTarget.dataset.id), 'errors.providerId': '' });
    this.formChanged();
  },

  onAddPhotos() {
    const left = MAX_IMAGES - this.data.form.images.length;
    if (left <= 0 || this.data.uploading) return Promise.resolve();
    return auth
      .ensureLogin('customer')
      .then(() => upload.chooseImages(left))
      .then((paths) => {
        if (!paths.length) return null;
        this.setData({ uploading: true });
        return upload.uploadAll(paths).then((urls) => {
          this.setData({ 'form.images': this.data.form.images.concat(urls), uploading: false });
          this.formChanged();
        });
      })
      .catch((err) => {
        this.setData({ uploading: false });
        api.showError(err);
      });
  },

  onRemovePhoto(e) {
    const i = Number(e.currentTarget.dataset.index);
    this.setData({ 'form.images': this.data.form.images.filter((_, j) => j !== i) });
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
        this.loadNearby();
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
    if (this.data.submitting || this.data.uploading) return Promise.resolve();
    const v = validateOrder(this.data.form);
    if (!v.ok) {
      this.setData({ errors: v.errors });
      wx.showToast({ title: v.first, icon: 'none' });
      return Promise.resolve();
    }
    if (!this.idempotencyKey) this.idempotencyKey = api.newIdempotencyKey();
    this.setData({ submitting: true, errors: {} });
    // within the tap (WeChat opens the dialog only there); once per form, not on a retry
    const asked = this.subscribeAsked ? Promise.resolve() : subscribe.ask('ordered');
    this.subscribeAsked = true;
    return asked
      .then(() => {
        wx.showLoading({ title: '提交中', mask: true });
        return auth.ensureLogin('customer');
      })
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
