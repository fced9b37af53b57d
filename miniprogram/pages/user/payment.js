// Pay an order (CONTRACT §6): the amount the hub computes, then prepay → wx.requestPayment →
// wait for `paid` (the order's socket event, or GET /api/payments/{id} asked meanwhile; see
// utils/pay.js). A cancelled or failed payment can be tried again: the hub answers the same
// open payment, so a second tap never prepays twice.
const api = require('../../utils/api');
const auth = require('../../utils/auth');
const live = require('../../utils/live');
const pay = require('../../utils/pay');
const st = require('../../utils/order_status');

// state: loading → ready → paying → waiting → paid | ready (again, after a cancel or failure)
Page({
  data: {
    state: 'loading',
    order: null,
    amountText: '',
    message: '',
    error: '',
  },

  onLoad(query) {
    this.orderId = Number(query && query.id);
    return auth
      .ensureLogin('customer')
      .then(() => api.get('/api/orders/' + this.orderId))
      .then((order) => this.show(order))
      .catch((err) => {
        this.setData({ state: 'error', error: (err && err.message) || '加载失败' });
        api.showError(err);
      });
  },

  onUnload() {
    if (this.waiting) this.waiting.cancel();
    this.waiting = null;
    // the order's detail below this page may watch it too: leave its watch alone
    if (this.socket && this.ownWatch) this.socket.unwatchOrder(this.orderId);
  },

  show(order) {
    const price = order.price || {};
    const due = price.final !== null && price.final !== undefined ? price.final : price.quoted !== null && price.quoted !== undefined ? price.quoted : price.estimated;
    const paid = order.paymentStatus === 'paid';
    this.setData({
      order: Object.assign({}, order, { statusLabel: st.statusLabel(order.status), paymentLabel: st.paymentLabel(order.paymentStatus) }),
      amountText: st.formatPrice(due),
      state: paid ? 'paid' : 'ready',
      message: paid ? '订单已支付' : '',
    });
  },

  onPayTap() {
    if (this.data.state !== 'ready') return Promise.resolve();
    this.setData({ state: 'paying', message: '' });
    // watch the order first, so the `paid` event cannot slip by between paying and listening
    this.socket = live.getSocket();
    if (this.socket.lastSeq(this.orderId) === undefined) {
      this.ownWatch = true;
      this.socket.watchOrder(this.orderId, this.data.order.seq);
    }
    return pay
      .prepay(this.orderId)
      .then((p) => {
        this.payment = p;
        this.setData({ amountText: st.formatPrice(p.amount) });
        return pay.requestPayment(p.paymentParams).then((r) => ({ p, r }));
      })
      .then(({ p, r }) => {
        if (!r.ok) {
          this.setData({ state: 'ready', message: r.cancelled ? '已取消支付' : '支付失败：' + r.message });
          return null;
        }
        this.setData({ state: 'waiting', message: '正在确认支付结果…' });
        this.waiting = pay.waitPaid(p.paymentId, this.orderId, { socket: this.socket });
        return this.waiting.promise.then(
          () => {
            this.waiting = null;
            this.setData({ state: 'paid', message: '支付成功', 'order.paymentStatus': 'paid', 'order.paymentLabel': st.paymentLabel('paid') });
            wx.showToast({ title: '支付成功', icon: 'success' });
          },
          (err) => {
            this.waiting = null;
            if (err && err.code === 'cancelled') return;
            this.setData({ state: 'ready', message: err.message });
          }
        );
      })
      .catch((err) => {
        if (err && err.code === 'already_paid') {
          this.setData({ state: 'paid', message: '订单已支付' });
          return;
        }
        this.setData({ state: 'ready' });
        api.showError(err);
      });
  },

  onReviewTap() {
    wx.redirectTo({ url: '/pages/user/evaluate?id=' + this.orderId });
  },

  onBackTap() {
    wx.redirectTo({ url: '/pages/user/order-detail?id=' + this.orderId });
  },
});
