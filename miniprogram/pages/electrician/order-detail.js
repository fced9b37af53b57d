// The provider's order detail: the order and its timeline, live over the socket (order.status
// in seq order, as on the customer's detail), and the moves the status allows
// (utils/provider_actions.js): depart, arrive, start, decline with a reason; quote and
// complete go through the repair-input page. Navigation opens WeChat's map at the service
// point (wx.openLocation, GCJ-02); 联系客户 dials the order's masked number (CONTRACT §13).
// While the provider is on the order (accepted..in_progress) utils/duty.js reports the
// location closely (location.update), whether or not this page stays open.
// A scheduled job (an appointment) that is accepted offers the hub's reminder before its slot:
// one tap asks WeChat's subscribe dialog for job_reminder (utils/subscribe.js), once per order.
const api = require('../../utils/api');
const contact = require('../../utils/contact');
const auth = require('../../utils/auth');
const live = require('../../utils/live');
const duty = require('../../utils/duty');
const st = require('../../utils/order_status');
const ov = require('../../utils/order_view');
const pa = require('../../utils/provider_actions');
const { wgs84ToGcj02 } = require('../../utils/coords');
const subscribe = require('../../utils/subscribe');
const { formatTime } = require('../../utils/format');

const REMIND_ASKED = 'orderhub.jobRemindAsked.';

function remindAsked(orderId) {
  try {
    return !!wx.getStorageSync(REMIND_ASKED + orderId);
  } catch (e) {
    return false;
  }
}

const DECLINE_REASONS = ['临时有事无法前往', '距离太远', '无法提供该服务', '其他原因'];
const MOVE_DONE = { depart: '已出发', arrive: '已到达', start: '开始服务' };

function decorate(order) {
  const price = order.price || {};
  return Object.assign({}, order, {
    statusLabel: st.statusLabel(order.status),
    paymentLabel: st.paymentLabel(order.paymentStatus),
    estimatedText: st.formatPrice(price.estimated),
    quotedText: st.formatPrice(price.quoted),
    finalText: st.formatPrice(price.final),
    quoteOpen: order.status === 'arrived' && pa.hasQuote(order),
    urgent: order.urgency === 'urgent',
    scheduledText: order.scheduledAt ? formatTime(order.scheduledAt) : '',
    createdText: formatTime(order.createdAt),
  });
}

function timelineItem(ev) {
  const amount = ev.detail && ev.detail.action === 'quote' ? ' ' + st.formatPrice(ev.detail.amount) : '';
  return { seq: ev.seq, label: pa.eventLabel(ev, st.statusLabel) + amount, at: formatTime(ev.at) };
}

Page({
  data: {
    loading: true,
    error: '',
    order: null,
    actions: [],
    timeline: [],
    acting: false,
    offerJobReminder: false,
  },

  onLoad(query) {
    this.orderId = Number(query && query.id);
    this.offs = [];
    return ov.openOrderDetail(this, { signIn: () => auth.ensureRole('provider'), timelineItem });
  },

  // back from repair-input (a quote, a completion): read the order again
  onShow() {
    if (this.data.order) return this.refresh();
    return Promise.resolve();
  },

  onUnload() {
    for (const off of this.offs || []) off();
    this.offs = [];
    if (this.socket) this.socket.unwatchOrder(this.orderId);
  },

  onPullDownRefresh() {
    return this.refresh().then(() => wx.stopPullDownRefresh());
  },

  // the order and its timeline again (a quote or a completion made on repair-input is in both)
  refresh() {
    return ov.fetchOrderAndTimeline(this.orderId).then(
      ([order, timeline]) => {
        this.setOrder(order);
        if (timeline && timeline.items) this.setData({ timeline: timeline.items.map(timelineItem) });
      },
      (err) => {
        if (err && err.status === 404) this.gone('订单已不在您名下');
        else api.showError(err);
      }
    );
  },

  setOrder(order) {
    if (ov.isOlder(order, this.data.order)) return;
    // the slot still ahead: the hub reminds the provider a day before (docs/notifications.md)
    const ahead = order.status === 'accepted' && !!order.scheduledAt && new Date(order.scheduledAt).getTime() > Date.now();
    this.setData({ order: decorate(order), actions: pa.actionButtons(order), offerJobReminder: ahead && !remindAsked(order.id) });
    // report the location while on the order, stop when it ends or is handed back
    if (pa.isOnOrder(order.status)) duty.trackOrder(order.id);
    else duty.untrackOrder(order.id);
  },

  gone(message) {
    duty.untrackOrder(this.orderId);
    this.setData({ actions: [] });
    wx.showToast({ title: message, icon: 'none' });
  },

  // ---- live ----
  startLive(order) {
    const socket = live.getSocket();
    this.socket = socket;
    this.offs.push(socket.on('order.status', (ev) => this.onStatusEvent(ev)));
    this.offs.push(
      socket.on('order.watched', (ack) => {
        if (String(ack.orderId) === String(this.orderId) && ack.order) this.setOrder(ack.order);
      })
    );
    if (!st.isFinal(order.status)) socket.watchOrder(this.orderId, order.seq);
  },

  onStatusEvent(ev) {
    const cur = this.data.order;
    if (!ov.isNewStatusEvent(ev, this.orderId, cur)) return;
    const detail = ev.detail || {};
    const next = Object.assign({}, cur, { status: ev.status || cur.status, seq: ev.seq });
    if (detail.action === 'quote' && typeof detail.amount === 'number') next.price = Object.assign({}, cur.price, { quoted: detail.amount });
    if (detail.action === 'complete' && typeof detail.finalAmount === 'number') next.price = Object.assign({}, cur.price, { final: detail.finalAmount });
    if (detail.paymentStatus) next.paymentStatus = detail.paymentStatus;
    this.setOrder(next);
    this.setData({ timeline: this.data.timeline.concat([timelineItem(ev)]) });
    if (detail.action === 'cancel') wx.showToast({ title: '客户已取消订单', icon: 'none' });
    if (detail.action === 'confirm-quote') wx.showToast({ title: '客户已确认报价，可以开始服务', icon: 'none' });
    // handed to another provider (a no-show, staff): this provider is off the order
    if (ev.status === 'pending' && cur.status !== 'pending') this.gone('订单已改派');
    if (st.isFinal(next.status) && this.socket) this.socket.unwatchOrder(this.orderId);
  },

  // ---- actions ----
  onActionTap(e) {
    const action = e.currentTarget.dataset.action;
    if (action === 'navigate') return this.navigate();
    if (action === 'call') return this.callCustomer();
    if (action === 'decline') return this.onDeclineTap();
    if (action === 'quote' || action === 'requote') return this.openRepair('quote');
    if (action === 'complete') return this.openRepair('complete');
    return this.move(action, {});
  },

  move(action, body) {
    if (this.data.acting) return Promise.resolve();
    this.setData({ acting: true });
    wx.showLoading({ title: '提交中', mask: true });
    return api.post('/api/orders/' + this.orderId + '/' + action, body).then(
      (order) => {
        wx.hideLoading();
        this.setData({ acting: false });
        this.setOrder(order);
        if (MOVE_DONE[action]) wx.showToast({ title: MOVE_DONE[action], icon: 'success' });
        return order;
      },
      (err) => {
        wx.hideLoading();
        this.setData({ acting: false });
        api.showError(err);
        return this.refresh(); // a 409: the status moved meanwhile
      }
    );
  },

  onDeclineTap() {
    return ov.chooseReason(DECLINE_REASONS).then((reason) => (reason === undefined ? undefined : this.decline(reason)));
  },

  decline(reason) {
    return this.move('decline', { reason }).then((order) => {
      if (order && order.status === 'pending') {
        this.gone('已退单');
        wx.navigateBack({ delta: 1 });
      }
    });
  },

  // 开启提醒: within the tap, the subscribe dialog for the job's reminder
  onJobReminderTap() {
    const asking = subscribe.ask('job');
    wx.setStorageSync(REMIND_ASKED + this.orderId, 1);
    this.setData({ offerJobReminder: false });
    return asking.then((res) => {
      if (res.accepted.length) wx.showToast({ title: '将在上门前提醒您', icon: 'none' });
      return res;
    });
  },

  openRepair(mode) {
    wx.navigateTo({ url: '/pages/electrician/repair-input?id=' + this.orderId + '&mode=' + mode });
    return Promise.resolve();
  },

  // WeChat's map at the service point: it takes GCJ-02, the hub's points are WGS-84
  navigate() {
    const o = this.data.order;
    if (!o || typeof o.lat !== 'number') return Promise.resolve();
    const p = wgs84ToGcj02(o.lat, o.lng);
    wx.openLocation({ latitude: p.lat, longitude: p.lng, scale: 16, name: o.district || '服务地址', address: o.address });
    return Promise.resolve();
  },

  // the order's masked number (CONTRACT §13), never the customer's own (utils/contact.js)
  callCustomer() {
    return contact.call(this.orderId, 'provider');
  },
});
