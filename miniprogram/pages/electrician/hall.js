// The grab hall (CONTRACT §7): the offers open to this provider, live. order.offer adds one,
// order.taken takes it away (someone else grabbed it, the customer cancelled, it expired...),
// each counts down to its expiresAt; hall.snapshot on every (re)connect and on going online
// replaces the list, since offers may have come and gone while the socket was down.
// Grab with order.grab → won (opens the order), taken (someone was faster) or an error; a
// personal offer (auto batches, direct, staff) is accepted or declined instead (REST).
// The online switch is utils/duty.js (provider.online / provider.offline + location reports).
const api = require('../../utils/api');
const auth = require('../../utils/auth');
const live = require('../../utils/live');
const duty = require('../../utils/duty');
const hall = require('../../utils/hall');

const GONE_AFTER_MS = 1500; // how long a lost offer stays, marked 已被抢, before it vanishes

const ONLINE_ERRORS = {
  not_verified: '资质审核通过后才能上线',
  not_a_provider: '请先申请成为师傅',
  location_denied: '无法获取位置，请在设置中允许使用位置信息',
};

Page({
  data: {
    loading: true,
    error: '',
    online: false,
    busy: false,
    statusText: '未上线',
    connected: true,
    offers: [],
  },

  onLoad() {
    this.list = [];
    this.services = {};
    this.skew = 0;
    this.offs = [];
    this.timers = [];
    return auth.ensureRole('provider').then(
      () => {
        this.setData({ loading: false });
        this.loadServices();
        this.startLive();
      },
      (err) => this.setData({ loading: false, error: (err && err.message) || '登录失败' })
    );
  },

  onUnload() {
    for (const off of this.offs) off();
    this.offs = [];
    for (const t of this.timers) clearTimeout(t);
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  },

  onPullDownRefresh() {
    return this.snapshot().then(() => wx.stopPullDownRefresh());
  },

  loadServices() {
    return api.get('/api/services', null, { auth: false }).then(
      (services) => {
        for (const s of services || []) this.services[s.id] = s.name;
        this.render();
      },
      () => {} // names are a nicety: the offers show without them
    );
  },

  startLive() {
    const socket = live.getSocket();
    this.socket = socket;
    this.offs.push(socket.on('order.offer', (o) => this.onOffer(o)));
    this.offs.push(socket.on('order.taken', (ev) => this.onTaken(ev)));
    this.offs.push(
      socket.on('connect', () => {
        this.setData({ connected: true });
        this.snapshot();
      })
    );
    this.offs.push(socket.on('disconnect', () => this.setData({ connected: false })));
    this.offs.push(
      socket.on('heartbeat', (ack) => {
        if (ack && ack.serverTime) this.skew = hall.clockSkew(ack.serverTime, Date.now());
      })
    );
    this.offs.push(duty.onChange((s) => this.onDuty(s)));
    this.onDuty(duty.snapshot());
    if (socket.connected) this.snapshot();
    this.ticker = setInterval(() => this.tick(), 1000);
  },

  onDuty(s) {
    const wasOnline = this.data.online;
    this.setData({ online: s.online, busy: s.busy, statusText: s.online ? (s.status === 'busy' ? '服务中' : '接单中') : '未上线' });
    if (s.online && !wasOnline) this.snapshot();
  },

  // ---- the offers ----
  snapshot() {
    if (!this.socket) return Promise.resolve();
    return this.socket.emit('hall.snapshot', {}).then(
      (ack) => {
        if (!ack || !ack.ok) return;
        this.list = hall.applySnapshot(this.list, ack.offers, Date.now(), this.skew);
        this.render();
      },
      () => {} // the next connect asks again
    );
  },

  onOffer(offer) {
    if (!offer || offer.orderId === undefined) return;
    this.list = hall.addOffer(this.list, offer, Date.now(), this.skew);
    this.render();
  },

  onTaken(ev) {
    if (!ev) return;
    this.list = hall.takeOffer(this.list, ev.orderId);
    this.render();
  },

  tick() {
    const r = hall.expire(this.list, Date.now());
    this.list = r.list;
    if (this.list.length || r.changed) this.render();
  },

  render() {
    this.setData({ offers: hall.view(this.list, Date.now(), this.services) });
  },

  // ---- grab ----
  onGrabTap(e) {
    const orderId = Number(e.currentTarget.dataset.id);
    const offer = this.list.find((o) => o.orderId === orderId);
    if (!offer || (offer.grab && offer.grab !== 'error')) return Promise.resolve();
    this.list = hall.setGrab(this.list, orderId, 'grabbing');
    this.render();
    return this.take(offer).then(
      () => this.won(orderId),
      (err) => this.lost(orderId, err)
    );
  },

  // A grab order's offer: order.grab over the socket; refused as not_grabbable (the order went
  // on to batches and this is a personal offer) or any other offer: POST …/accept.
  // An answer that was lost (the socket dropped, no ack, a store down at the hub) is asked
  // again: the hub answers a provider who already holds the order with the order.
  take(offer, tries) {
    const orderId = offer.orderId;
    const left = tries === undefined ? hall.ASK_AGAIN : tries;
    const accept = () => api.post('/api/orders/' + orderId + '/accept', {});
    const grab = () => this.socket.emit('order.grab', { orderId }).then((ack) => {
      if (ack && ack.ok) return ack.order;
      const err = (ack && ack.error) || {};
      if (err.code === 'not_grabbable') return accept();
      throw err;
    });
    return (hall.isPersonal(offer) ? accept() : grab()).catch((err) => {
      if (left > 0 && hall.answerLost(err)) return this.take(offer, left - 1);
      throw err;
    });
  },

  // A personal offer can be refused: it goes to the next provider (CONTRACT §5 decline).
  onDeclineTap(e) {
    const orderId = Number(e.currentTarget.dataset.id);
    return api.post('/api/orders/' + orderId + '/decline', { reason: '' }).then(
      () => {
        this.list = hall.removeOffer(this.list, orderId);
        this.render();
      },
      (err) => {
        api.showError(err);
        this.list = hall.removeOffer(this.list, orderId); // gone or no longer ours either way
        this.render();
      }
    );
  },

  won(orderId) {
    this.list = hall.setGrab(this.list, orderId, 'won');
    this.render();
    wx.showToast({ title: '接单成功', icon: 'success' });
    duty.trackOrder(orderId);
    wx.navigateTo({ url: '/pages/electrician/order-detail?id=' + orderId });
    this.later(() => {
      this.list = hall.removeOffer(this.list, orderId);
      this.render();
    });
  },

  lost(orderId, err) {
    const code = err && err.code;
    wx.showToast({ title: hall.grabErrorLabel(err), icon: 'none' });
    if (['already_taken', 'order_cancelled', 'order_expired', 'not_grabbable', 'not_offered', 'not_found', 'invalid_transition'].indexOf(code) >= 0) {
      // the order is gone for this provider: show why on the card, then let it vanish
      this.list = hall.setGrab(this.list, orderId, 'taken');
      this.render();
      this.later(() => {
        this.list = hall.removeOffer(this.list, orderId);
        this.render();
      });
    } else {
      this.list = hall.setGrab(this.list, orderId, 'error');
      this.render();
    }
  },

  later(fn) {
    this.timers.push(setTimeout(fn, GONE_AFTER_MS));
  },

  // ---- online / offline ----
  onOnlineTap() {
    if (this.data.busy) return Promise.resolve();
    const go = this.data.online ? duty.goOffline() : duty.goOnline();
    return go.then(
      () => {
        if (!this.data.online) {
          this.list = [];
          this.render();
        }
        wx.showToast({ title: this.data.online ? '已上线，开始接单' : '已下线', icon: 'none' });
      },
      (err) => wx.showToast({ title: ONLINE_ERRORS[err && err.code] || (err && err.message) || '操作失败', icon: 'none' })
    );
  },

  onOrdersTap() {
    wx.navigateTo({ url: '/pages/electrician/orders' });
  },

  onProfileTap() {
    wx.navigateTo({ url: '/pages/electrician/profile' });
  },
});
