// Repair input, opened from the provider's order detail:
// - mode=quote (order arrived): the price in yuan → POST /api/orders/{id}/quote {amount: fen};
//   the customer confirms it (confirm-quote) and the work starts. A note goes to the order's
//   chat, where the customer reads it.
// - mode=complete (order in_progress): what was done and photos of it, then
//   POST /api/orders/{id}/complete. The photos go to POST /api/uploads (utils/upload.js).
//   The hub keeps no repair record on the order (complete takes no body), so the record is sent
//   as a chat message (chat.send, with the photos' URLs): both parties and staff see it in the
//   order's chat. A retried submit reuses its clientMsgId: the hub keeps one message.
const api = require('../../utils/api');
const auth = require('../../utils/auth');
const live = require('../../utils/live');
const st = require('../../utils/order_status');
const pa = require('../../utils/provider_actions');
const upload = require('../../utils/upload');

const MAX_TEXT = 500;

function chatText(title, text, urls) {
  const lines = [title + (text ? '：' + text : '')];
  if (urls && urls.length) lines.push('现场照片：' + urls.join(' '));
  return lines.join('\n');
}

Page({
  data: {
    loading: true,
    error: '',
    mode: 'quote',
    order: null,
    amount: '',
    note: '',
    workText: '',
    photos: [],
    maxPhotos: upload.MAX_IMAGES,
    errors: {},
    submitting: false,
  },

  onLoad(query) {
    this.orderId = Number(query && query.id);
    const mode = query && query.mode === 'complete' ? 'complete' : 'quote';
    this.setData({ mode });
    wx.setNavigationBarTitle({ title: mode === 'quote' ? '报价' : '完工确认' });
    return auth
      .ensureRole('provider')
      .then(() => api.get('/api/orders/' + this.orderId))
      .then((order) => {
        const price = order.price || {};
        const want = mode === 'quote' ? 'arrived' : 'in_progress';
        this.setData({
          loading: false,
          order: { id: order.id, orderNo: order.orderNo, address: order.address, status: order.status, statusLabel: st.statusLabel(order.status), estimatedText: st.formatPrice(price.estimated), quotedText: st.formatPrice(price.quoted) },
          amount: price.quoted ? (price.quoted / 100).toFixed(2) : '',
          error: order.status === want ? '' : '订单当前' + st.statusLabel(order.status) + '，不能' + (mode === 'quote' ? '报价' : '完工'),
        });
      })
      .catch((err) => this.setData({ loading: false, error: (err && err.message) || '加载失败' }));
  },

  onAmountInput(e) {
    this.setData({ amount: e.detail.value, 'errors.amount': '' });
  },

  onNoteInput(e) {
    this.setData({ note: e.detail.value });
  },

  onWorkInput(e) {
    this.setData({ workText: e.detail.value });
  },

  // ---- photos ----
  onAddPhotoTap() {
    const room = this.data.maxPhotos - this.data.photos.length;
    if (room <= 0) return Promise.resolve();
    return upload.chooseImages(room).then((paths) => {
      if (paths.length) this.setData({ photos: this.data.photos.concat(paths).slice(0, this.data.maxPhotos) });
    });
  },

  onRemovePhotoTap(e) {
    const i = Number(e.currentTarget.dataset.index);
    this.setData({ photos: this.data.photos.filter((_, k) => k !== i) });
  },

  onPreviewTap(e) {
    wx.previewImage({ urls: this.data.photos, current: this.data.photos[Number(e.currentTarget.dataset.index)] });
  },

  // ---- submit ----
  onSubmitTap() {
    if (this.data.submitting || this.data.error) return Promise.resolve();
    return this.data.mode === 'quote' ? this.submitQuote() : this.submitComplete();
  },

  submitQuote() {
    const fen = pa.parseYuan(this.data.amount);
    if (fen === null) {
      this.setData({ 'errors.amount': '请输入报价金额（元，最多两位小数）' });
      return Promise.resolve();
    }
    const note = String(this.data.note || '').trim().slice(0, MAX_TEXT);
    this.setData({ submitting: true });
    wx.showLoading({ title: '提交中', mask: true });
    return api
      .post('/api/orders/' + this.orderId + '/quote', { amount: fen })
      .then(() => (note ? this.sendChat(chatText('报价说明（' + st.formatPrice(fen) + '）', note)).catch(() => null) : null))
      .then(
        () => this.done('已报价，等待客户确认'),
        (err) => this.failed(err)
      );
  },

  submitComplete() {
    const text = String(this.data.workText || '').trim().slice(0, MAX_TEXT);
    this.setData({ submitting: true });
    wx.showLoading({ title: this.data.photos.length ? '上传照片中' : '提交中', mask: true });
    const record = text || this.data.photos.length;
    return (this.uploaded ? Promise.resolve(this.uploaded) : upload.uploadAll(this.data.photos))
      .then((urls) => {
        this.uploaded = urls; // a retry after a failed complete does not upload them again
        return record ? this.sendChat(chatText('维修记录', text, urls)) : null;
      })
      .then(() => api.post('/api/orders/' + this.orderId + '/complete', {}))
      .then(
        () => this.done('已完工'),
        (err) => this.failed(err)
      );
  },

  sendChat(text) {
    if (!this.clientMsgId) this.clientMsgId = api.newIdempotencyKey();
    return live
      .getSocket()
      .emit('chat.send', { orderId: this.orderId, text, clientMsgId: this.clientMsgId })
      .then((ack) => {
        if (!ack || !ack.ok) throw (ack && ack.error) || { code: 'error', message: '发送失败' };
        return ack;
      });
  },

  done(title) {
    wx.hideLoading();
    this.setData({ submitting: false });
    wx.showToast({ title, icon: 'success' });
    wx.navigateBack({ delta: 1 });
  },

  failed(err) {
    wx.hideLoading();
    this.setData({ submitting: false });
    if (err && err.code === 'quote_pending') err = { message: '客户还未确认报价' };
    api.showError(err);
  },
});
