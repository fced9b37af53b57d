// Pay an order (CONTRACT §6): what is due — the full price after the service, or in an area
// that asks a deposit (`kind=deposit`, utils/areas.js) the deposit while the order is live and
// the balance after it — then prepay → wx.requestPayment →
// wait for `paid` (the order's socket event, or GET /api/payments/{id} asked meanwhile; see
// utils/pay.js). A cancelled or failed payment can be tried again: the hub answers the same
// open payment, so a second tap never prepays twice. The customer's coupons are listed against
// what is due (utils/coupons.js), the best one chosen, and the chosen one sent at prepay.
const api = require('../../utils/api');
const auth = require('../../utils/auth');
const live = require('../../utils/live');
const pay = require('../../utils/pay');
const areas = require('../../utils/areas');
const coupons = require('../../utils/coupons');
const st = require('../../utils/order_status');

// state: loading → ready → paying → waiting → paid | ready (again, after a cancel or failure)
Page({
  data: {
    state: 'loading',
    order: null,
    amountText: '',
    dueLabel: '订单金额',
    canReview: false,
    coupons: [],
    couponId: 0,
    discountText: '',
    payText: '',
    message: '',
    error: '',
  },

  onLoad(query) {
    this.orderId = Number(query && query.id);
    this.kind = query && query.kind === 'deposit' ? 'deposit' : '';
    return auth
      .ensureLogin('customer')
      .then(() => api.get('/api/orders/' + this.orderId))
      .then((order) => this.due(order).then((due) => this.show(order, due)))
      .then(() => (this.data.state === 'ready' ? this.loadCoupons() : null))
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

  // {label, amount (fen)}: what this page is about to ask the hub for (the hub's prepay
  // answer has the final word)
  due(order) {
    const whole = st.currentPrice(order.price);
    if (this.kind === 'deposit') return areas.depositFor(order).then((amount) => ({ label: '定金', amount }));
    if (order.paymentStatus !== 'deposit_paid') return Promise.resolve({ label: '订单金额', amount: whole });
    return api.get('/api/orders/' + order.id + '/payments').then((res) => {
      const deposit = (res.items || []).filter((p) => p.kind === 'deposit' && p.status === 'paid').reduce((n, p) => n + p.amount, 0);
      return { label: '尾款', amount: Math.max(whole - deposit, 0) };
    });
  },

  show(order, due) {
    this.dueAmount = due.amount;
    const ps = order.paymentStatus;
    const paid = ps === 'paid' || (this.kind === 'deposit' && ps === 'deposit_paid');
    this.setData({
      order: Object.assign({}, order, { statusLabel: st.statusLabel(order.status), paymentLabel: st.paymentLabel(ps) }),
      amountText: st.formatPrice(due.amount),
      payText: st.formatPrice(due.amount),
      dueLabel: due.label,
      canReview: order.status === 'completed',
      state: paid ? 'paid' : 'ready',
      message: paid ? (this.kind === 'deposit' ? '定金已支付' : '订单已支付') : '',
    });
  },

  // Coupons against what is due now; the hub's figures replace the page's own estimate.
  loadCoupons() {
    return coupons.forOrder(this.orderId).then(
      (c) => {
        if (c.payable) this.dueAmount = c.amount;
        this.setData({ coupons: c.items });
        this.chooseCoupon(c.suggestedId);
      },
      () => this.chooseCoupon(0) // no coupons to offer: pay the price
    );
  },

  chooseCoupon(id) {
    const c = this.data.coupons.find((x) => x.id === id && x.usable);
    const discount = c ? c.discount : 0;
    this.setData({
      couponId: c ? c.id : 0,
      discountText: c ? c.discountText : '',
      payText: st.formatPrice(Math.max(this.dueAmount - discount, 0)),
    });
  },

  // a tap on a usable coupon chooses it; on the chosen one, uses none
  onCouponTap(e) {
    const id = Number(e.currentTarget.dataset.id);
    const c = this.data.coupons.find((x) => x.id === id);
    if (!c || !c.usable || this.data.state !== 'ready') return; // shown with why, not chosen
    this.chooseCoupon(id === this.data.couponId ? 0 : id);
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
      .prepay(this.orderId, this.kind, this.data.couponId)
      .then((p) => {
        this.payment = p;
        this.setData({ payText: st.formatPrice(p.amount) });
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
            const ps = this.kind === 'deposit' ? 'deposit_paid' : 'paid';
            const message = this.kind === 'deposit' ? '定金支付成功' : '支付成功';
            this.setData({ state: 'paid', message, 'order.paymentStatus': ps, 'order.paymentLabel': st.paymentLabel(ps) });
            wx.showToast({ title: message, icon: 'success' });
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
          this.setData({ state: 'paid', message: this.kind === 'deposit' ? '定金已支付' : '订单已支付' });
          return;
        }
        this.setData({ state: 'ready' });
        api.showError(err);
        if (err && /^coupon_|below_threshold/.test(err.code || '')) return this.loadCoupons();
        return null;
      });
  },

  onReviewTap() {
    wx.redirectTo({ url: '/pages/user/evaluate?id=' + this.orderId });
  },

  onBackTap() {
    wx.redirectTo({ url: '/pages/user/order-detail?id=' + this.orderId });
  },
});
