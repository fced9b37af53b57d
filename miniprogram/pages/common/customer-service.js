// Customer service (seed 003 common/customer-service; CONTRACT §8 complaints): pick an order
// (or come with `orderId`), raise a complaint about it (kind, text, photos through
// utils/upload.js) and follow each complaint's history as staff move it
// open → handling → resolved | rejected, with their notes.
const api = require('../../utils/api');
const auth = require('../../utils/auth');
const { photoListPage } = require('../../utils/photo_list');
const { formatTime } = require('../../utils/format');

const KINDS = [
  { value: 'quality', label: '服务质量' },
  { value: 'damage', label: '物品损坏' },
  { value: 'price', label: '价格争议' },
  { value: 'no_show', label: '师傅未上门' },
  { value: 'other', label: '其他问题' },
];
const STATUS_LABELS = { open: '待处理', handling: '处理中', resolved: '已解决', rejected: '已驳回' };
const BY_LABELS = { customer: '我', provider: '师傅', dispatcher: '客服', admin: '客服' };
const MAX_TEXT = 1000;

function kindLabel(kind) {
  const k = KINDS.find((x) => x.value === kind);
  return k ? k.label : kind;
}

function complaintView(c) {
  return {
    id: c.id,
    kindLabel: kindLabel(c.kind),
    statusLabel: STATUS_LABELS[c.status] || c.status,
    status: c.status,
    text: c.text,
    images: c.images || [],
    created: formatTime(c.createdAt),
    steps: (c.history || []).map((h, i) => ({
      key: i,
      label: STATUS_LABELS[h.status] || h.status,
      by: BY_LABELS[h.by] || h.by,
      note: h.note,
      at: formatTime(h.at),
    })),
  };
}

Page(photoListPage({
  data: {
    orders: [],
    orderNames: [],
    orderIndex: -1,
    orderId: 0,
    kinds: KINDS,
    kind: '',
    text: '',
    submitting: false,
    errors: {},
    complaints: [],
  },

  onLoad(query) {
    const wanted = query && query.orderId ? Number(query.orderId) : 0;
    return auth
      .ensureLogin('customer')
      .then(() => api.get('/api/orders', { page: 1, limit: 50 }))
      .then((res) => {
        const orders = (res.items || []).filter((o) => o.status !== 'pending');
        this.setData({ orders, orderNames: orders.map((o) => '订单 ' + o.orderNo + ' · ' + (o.address || '')) });
        const i = orders.findIndex((o) => o.id === wanted);
        if (i >= 0) return this.selectOrder(i);
        if (wanted) return this.selectOrderId(wanted);
        return null;
      })
      .catch(api.showError);
  },

  onOrderChange(e) {
    return this.selectOrder(Number(e.detail.value));
  },

  selectOrder(i) {
    const o = this.data.orders[i];
    if (!o) return Promise.resolve();
    this.setData({ orderIndex: i });
    return this.selectOrderId(o.id);
  },

  selectOrderId(id) {
    this.setData({ orderId: id, 'errors.order': '' });
    return this.loadComplaints();
  },

  loadComplaints() {
    if (!this.data.orderId) return Promise.resolve();
    return api.get('/api/orders/' + this.data.orderId + '/complaints').then(
      (res) => this.setData({ complaints: (res.items || []).map(complaintView) }),
      api.showError
    );
  },

  onKindChange(e) {
    this.setData({ kind: e.detail.value, 'errors.kind': '' });
  },

  onTextInput(e) {
    this.setData({ text: String(e.detail.value || '').slice(0, MAX_TEXT), 'errors.text': '' });
  },

  validate() {
    const errors = {};
    if (!this.data.orderId) errors.order = '请选择要投诉的订单';
    if (!this.data.kind) errors.kind = '请选择问题类型';
    if (!this.data.text.trim()) errors.text = '请描述遇到的问题';
    return errors;
  },

  onSubmit() {
    if (this.data.submitting || this.data.uploading) return Promise.resolve();
    const errors = this.validate();
    const first = Object.keys(errors)[0];
    if (first) {
      this.setData({ errors });
      wx.showToast({ title: errors[first], icon: 'none' });
      return Promise.resolve();
    }
    this.setData({ submitting: true, errors: {} });
    const body = { kind: this.data.kind, text: this.data.text.trim(), images: this.data.images };
    return api.post('/api/orders/' + this.data.orderId + '/complaints', body).then(
      () => {
        this.setData({ submitting: false, kind: '', text: '', images: [] });
        wx.showToast({ title: '已提交，客服会尽快处理', icon: 'none' });
        return this.loadComplaints();
      },
      (err) => {
        this.setData({ submitting: false });
        api.showError(err);
      }
    );
  },
}));
