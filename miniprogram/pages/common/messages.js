// Chats by order (seed 003 common/messages). Without `id`: my orders that have a provider,
// each opening its chat. With `id`: that order's chat (utils/chat.js): the history, live
// messages, sending with a clientMsgId and a failed message resent by a tap. For customers
// and providers alike (the role comes from the logged-in user).
const api = require('../../utils/api');
const auth = require('../../utils/auth');
const live = require('../../utils/live');
const st = require('../../utils/order_status');
const { OrderChat, MAX_TEXT } = require('../../utils/chat');
const { formatTime } = require('../../utils/format');

const CHAT_STATUSES = ['accepted', 'departed', 'arrived', 'in_progress', 'completed'];

Page({
  data: {
    mode: 'list', // 'list' | 'chat'
    loading: true,
    orders: [],
    order: null,
    messages: [],
    draft: '',
    maxText: MAX_TEXT,
    lastKey: '',
  },

  onLoad(query) {
    this.orderId = query && query.id ? Number(query.id) : 0;
    return auth
      .ensureLogin('customer')
      .then(() => (this.orderId ? this.openChat() : this.loadOrders()))
      .catch((err) => {
        this.setData({ loading: false });
        api.showError(err);
      });
  },

  onUnload() {
    if (this.chat) this.chat.stop();
    this.chat = null;
  },

  loadOrders() {
    return api.get('/api/orders', { page: 1, limit: 50 }).then((res) => {
      const orders = (res.items || [])
        .filter((o) => o.providerId && CHAT_STATUSES.indexOf(o.status) >= 0)
        .map((o) => ({ id: o.id, orderNo: o.orderNo, address: o.address, statusLabel: st.statusLabel(o.status), updated: formatTime(o.updatedAt) }));
      this.setData({ mode: 'list', loading: false, orders });
    });
  },

  onOrderTap(e) {
    wx.navigateTo({ url: '/pages/common/messages?id=' + e.currentTarget.dataset.id });
  },

  openChat() {
    const user = auth.currentUser();
    return api.get('/api/orders/' + this.orderId).then((order) => {
      wx.setNavigationBarTitle({ title: '订单 ' + order.orderNo });
      this.setData({ mode: 'chat', order: { id: order.id, orderNo: order.orderNo, statusLabel: st.statusLabel(order.status) } });
      this.chat = new OrderChat({
        orderId: this.orderId,
        socket: live.getSocket(),
        role: (user && user.role) || 'customer',
        onChange: (messages) => this.show(messages),
      });
      return this.chat.start(order.seq).then(() => this.setData({ loading: false }));
    });
  },

  show(messages) {
    const list = messages.map((m) => Object.assign({}, m, { time: formatTime(m.at) }));
    this.setData({ messages: list, lastKey: list.length ? 'msg-' + list[list.length - 1].key : '' });
  },

  onDraftInput(e) {
    this.setData({ draft: e.detail.value });
  },

  onSendTap() {
    const text = String(this.data.draft || '').trim();
    if (!text || !this.chat) return Promise.resolve(false);
    this.setData({ draft: '' });
    return this.chat.send(text);
  },

  onResendTap(e) {
    return this.chat ? this.chat.resend(e.currentTarget.dataset.id) : Promise.resolve(false);
  },
});
