// Order detail: the order (GET /api/orders/{id}) and its timeline, kept live over the socket:
// order.status events applied in seq order (older or repeated seq ignored; the socket module
// resumes with order.watch {afterSeq} after a drop), the provider's position from
// provider.location on a map with the fix's age, and the customer's actions (cancel with a
// reason, confirm a quote, pay → user/payment, review → user/evaluate); the chat with the
// provider (common/messages, with a count of their messages that came while this page was
// open) and after-sales (common/customer-service); 拨打电话 through the order's masked number
// (utils/contact.js). The map speaks GCJ-02 (WeChat's): the hub's WGS-84 points, the service
// point and the provider's fixes, are converted before they are shown.
// Subscribe messages (utils/subscribe.js): while a provider is on the order a card offers the
// end-of-service and payment reminders (one tap, asked once per order); 去支付 asks for the
// payment reminder when that card was not answered.
const api = require('../../utils/api');
const auth = require('../../utils/auth');
const live = require('../../utils/live');
const areas = require('../../utils/areas');
const st = require('../../utils/order_status');
const ov = require('../../utils/order_view');
const contact = require('../../utils/contact');
const subscribe = require('../../utils/subscribe');
const { wgs84ToGcj02 } = require('../../utils/coords');
const { formatTime, ageText } = require('../../utils/format');

const CANCEL_REASONS = ['不需要了', '师傅迟迟未到', '信息填写错误', '已找到其他师傅', '其他原因'];
const ORDER_MARKER = 1;
const PROVIDER_MARKER = 2;
// a provider is on the order: the chat is open (and stays readable once it is completed)
const CHAT_STATUSES = ['accepted', 'departed', 'arrived', 'in_progress', 'completed'];
// the order has a virtual number (CONTRACT §13: 409 not_live otherwise)
const CALL_STATUSES = ['accepted', 'departed', 'arrived', 'in_progress'];
const ASKED_KEY = 'orderhub.subscribeAsked.';

// a hub point (WGS-84) as the map component takes it (GCJ-02)
function mapPoint(lat, lng) {
  const p = wgs84ToGcj02(lat, lng);
  return { lat: p.lat, lng: p.lng };
}

function askedFor(orderId) {
  try {
    return !!wx.getStorageSync(ASKED_KEY + orderId);
  } catch (e) {
    return false;
  }
}

function decorate(order) {
  const price = order.price || {};
  return Object.assign({}, order, {
    statusLabel: st.statusLabel(order.status),
    paymentLabel: st.paymentLabel(order.paymentStatus),
    priceText: st.formatPrice(st.currentPrice(price)),
    quotedText: st.formatPrice(price.quoted),
    createdText: formatTime(order.createdAt),
    scheduledText: order.scheduledAt ? formatTime(order.scheduledAt) : '',
    images: Array.isArray(order.images) ? order.images : [],
  });
}

function timelineItem(ev) {
  return { seq: ev.seq, status: ev.status, label: st.eventLabel(ev), at: formatTime(ev.at), by: ev.by || '' };
}

Page({
  data: {
    loading: true,
    error: '',
    order: null,
    actions: [],
    timeline: [],
    hasMap: false,
    center: { lat: 0, lng: 0 },
    markers: [],
    fix: null,
    fixAge: '',
    canChat: false,
    canCall: false,
    offerReminders: false,
    unread: 0,
  },

  onLoad(query) {
    this.orderId = Number(query && query.id);
    this.offs = [];
    return ov.openOrderDetail(this, {
      signIn: () => auth.ensureLogin('customer'),
      timelineItem,
      // a deposit asked by the order's area brings 支付定金 while the order is live
      afterOpen: (order) =>
        areas.depositFor(order).then((deposit) => {
          this.deposit = deposit;
          if (deposit > 0) this.setData({ actions: st.actionButtons(this.data.order, { deposit }) });
        }),
    });
  },

  onUnload() {
    this.stopLive();
  },

  onPullDownRefresh() {
    return this.refresh().then(() => wx.stopPullDownRefresh());
  },

  refresh() {
    return api.get('/api/orders/' + this.orderId).then((order) => this.setOrder(order), api.showError);
  },

  setOrder(order) {
    if (ov.isOlder(order, this.data.order)) return;
    const data = {
      order: decorate(order),
      actions: st.actionButtons(order, { deposit: this.deposit || 0 }),
      canChat: !!order.providerId && CHAT_STATUSES.indexOf(order.status) >= 0,
      canCall: !!order.providerId && CALL_STATUSES.indexOf(order.status) >= 0,
      offerReminders: !!order.providerId && CALL_STATUSES.indexOf(order.status) >= 0 && !askedFor(this.orderId),
    };
    if (typeof order.lat === 'number' && typeof order.lng === 'number') {
      data.hasMap = true;
      if (!this.data.fix) data.center = mapPoint(order.lat, order.lng);
    }
    this.setData(data);
    this.setData({ markers: this.buildMarkers() });
  },

  buildMarkers() {
    const o = this.data.order;
    const markers = [];
    if (o && typeof o.lat === 'number') {
      const p = mapPoint(o.lat, o.lng);
      markers.push({ id: ORDER_MARKER, latitude: p.lat, longitude: p.lng, title: '服务地址', width: 28, height: 28 });
    }
    const fix = this.data.fix;
    if (fix && o && st.isTracked(o.status)) {
      const p = mapPoint(fix.lat, fix.lng);
      markers.push({
        id: PROVIDER_MARKER,
        latitude: p.lat,
        longitude: p.lng,
        title: '师傅',
        width: 32,
        height: 32,
        callout: { content: '师傅 ' + ageText(fix.at), display: 'ALWAYS', padding: 6, borderRadius: 6 },
      });
    }
    return markers;
  },

  // ---- live ----
  startLive(order) {
    const socket = live.getSocket();
    this.socket = socket;
    this.offs.push(socket.on('order.status', (ev) => this.onStatusEvent(ev)));
    this.offs.push(socket.on('provider.location', (ev) => this.onLocation(ev)));
    this.offs.push(
      socket.on('chat.message', (m) => {
        const fromProvider = String((m && m.from) || '').split(':')[0] === 'provider';
        if (m && String(m.orderId) === String(this.orderId) && fromProvider) this.setData({ unread: this.data.unread + 1 });
      })
    );
    this.offs.push(
      socket.on('order.watched', (ack) => {
        if (String(ack.orderId) === String(this.orderId) && ack.order) this.setOrder(ack.order);
      })
    );
    if (!st.isFinal(order.status)) socket.watchOrder(this.orderId, order.seq);
    this.ageTimer = setInterval(() => {
      if (this.data.fix) this.setData({ fixAge: ageText(this.data.fix.at), markers: this.buildMarkers() });
    }, 5000);
  },

  stopLive() {
    for (const off of this.offs || []) off();
    this.offs = [];
    if (this.socket) this.socket.unwatchOrder(this.orderId);
    if (this.ageTimer) clearInterval(this.ageTimer);
    this.ageTimer = null;
  },

  // An order.status event (CONTRACT §7): applied once, in seq order.
  onStatusEvent(ev) {
    const cur = this.data.order;
    if (!ov.isNewStatusEvent(ev, this.orderId, cur)) return; // not ours, or already held
    const sameStatus = ev.status === cur.status;
    const next = Object.assign({}, cur, { status: ev.status || cur.status, seq: ev.seq, updatedAt: ev.at || cur.updatedAt });
    const detail = ev.detail || {};
    if (detail.paymentStatus) next.paymentStatus = detail.paymentStatus;
    if (detail.providerId) next.providerId = detail.providerId;
    this.setOrder(next);
    this.setData({ timeline: this.data.timeline.concat([timelineItem(ev)]) });
    // an event that does not move the status (a quote, a payment, a refund) may change what
    // the REST order shows: fetch it (not for the dispatch steps of a pending order)
    if (sameStatus && detail.action !== 'dispatch') this.refresh();
    if (st.isFinal(next.status) && this.socket) this.socket.unwatchOrder(this.orderId);
  },

  onLocation(ev) {
    if (!ev || String(ev.orderId) !== String(this.orderId)) return;
    const o = this.data.order;
    if (!o || !st.isTracked(o.status)) return;
    const fix = { lat: ev.lat, lng: ev.lng, at: ev.at }; // as the hub sent it: WGS-84
    this.setData({ fix, fixAge: ageText(ev.at), center: mapPoint(ev.lat, ev.lng) });
    this.setData({ markers: this.buildMarkers() });
  },

  // ---- actions ----
  onActionTap(e) {
    const action = e.currentTarget.dataset.action;
    if (action === 'cancel') return this.onCancelTap();
    if (action === 'confirm-quote') return this.onConfirmQuote();
    if (action === 'pay') return this.onPayTap();
    if (action === 'pay-deposit') wx.navigateTo({ url: '/pages/user/payment?id=' + this.orderId + '&kind=deposit' });
    if (action === 'review') wx.navigateTo({ url: '/pages/user/evaluate?id=' + this.orderId });
    return Promise.resolve();
  },

  // 去支付: the payment reminders (asked here, within the tap, unless the card was answered),
  // then the payment page whatever the answer
  onPayTap() {
    const go = () => wx.navigateTo({ url: '/pages/user/payment?id=' + this.orderId });
    if (askedFor(this.orderId)) {
      go();
      return Promise.resolve();
    }
    return subscribe.ask('paymentDue').then(go);
  },

  // the card: the end of the service and the bill, asked once per order
  onRemindersTap() {
    const asking = subscribe.ask('finishing');
    wx.setStorageSync(ASKED_KEY + this.orderId, 1);
    this.setData({ offerReminders: false });
    return asking.then((res) => {
      if (res.accepted.length) wx.showToast({ title: '已开启提醒', icon: 'success' });
      return res;
    });
  },

  onCallTap() {
    return contact.call(this.orderId, 'customer');
  },

  onPhotoTap(e) {
    const urls = this.data.order.images;
    wx.previewImage({ current: urls[Number(e.currentTarget.dataset.index)], urls });
  },

  onChatTap() {
    this.setData({ unread: 0 });
    wx.navigateTo({ url: '/pages/common/messages?id=' + this.orderId });
  },

  onServiceTap() {
    wx.navigateTo({ url: '/pages/common/customer-service?orderId=' + this.orderId });
  },

  onCancelTap() {
    return ov.chooseReason(CANCEL_REASONS).then((reason) => (reason === undefined ? undefined : this.cancel(reason)));
  },

  cancel(reason) {
    wx.showLoading({ title: '取消中', mask: true });
    return api.post('/api/orders/' + this.orderId + '/cancel', { reason }).then(
      (order) => {
        wx.hideLoading();
        this.setOrder(order);
        wx.showToast({ title: '订单已取消', icon: 'success' });
      },
      (err) => {
        wx.hideLoading();
        api.showError(err);
        return this.refresh(); // a 409: the status moved meanwhile
      }
    );
  },

  onConfirmQuote() {
    const o = this.data.order;
    return new Promise((resolve) => {
      wx.showModal({
        title: '确认报价',
        content: '师傅报价 ' + o.quotedText + '，确认后开始服务',
        success: (res) => {
          if (!res.confirm) return resolve();
          resolve(api.post('/api/orders/' + this.orderId + '/confirm-quote', {}).then((order) => this.setOrder(order), api.showError));
        },
        fail: () => resolve(),
      });
    });
  },
});
