// Review a completed order (CONTRACT §8): stars for the whole and per dimension (1–5), tags,
// text, photos (utils/upload.js → POST /api/uploads) and anonymity; once per order
// (POST /api/orders/{id}/review; a second one is 409 already_reviewed).
const api = require('../../utils/api');
const auth = require('../../utils/auth');
const { photoListPage } = require('../../utils/photo_list');

const DIMENSIONS = [
  { key: 'rating', label: '总体评价' },
  { key: 'serviceRating', label: '服务态度' },
  { key: 'qualityRating', label: '维修质量' },
  { key: 'speedRating', label: '上门速度' },
];
const TAGS = ['准时上门', '技术专业', '态度很好', '收费合理', '干净整洁', '沟通顺畅', '有待改进'];
const STAR_WORDS = ['', '很差', '较差', '一般', '满意', '非常满意'];
const MAX_TEXT = 500;

function dimensionRows(stars) {
  return DIMENSIONS.map((d) => ({
    key: d.key,
    label: d.label,
    value: stars[d.key],
    word: STAR_WORDS[stars[d.key]] || '',
    stars: [1, 2, 3, 4, 5].map((n) => ({ n, on: n <= stars[d.key] })),
  }));
}

Page(photoListPage({
  data: {
    orderId: 0,
    dimensions: dimensionRows({ rating: 5, serviceRating: 5, qualityRating: 5, speedRating: 5 }),
    tags: TAGS.map((t) => ({ text: t, on: false })),
    content: '',
    anonymous: false,
    submitting: false,
    done: false,
    error: '',
  },

  onLoad(query) {
    this.orderId = Number(query && query.id);
    this.stars = { rating: 5, serviceRating: 5, qualityRating: 5, speedRating: 5 };
    this.setData({ orderId: this.orderId });
    return auth.ensureLogin('customer').catch(api.showError);
  },

  // a star: data-key (dimension) and data-n (1–5)
  onStarTap(e) {
    const { key, n } = e.currentTarget.dataset;
    const value = Number(n);
    if (!(key in this.stars) || value < 1 || value > 5) return;
    this.stars[key] = value;
    this.setData({ dimensions: dimensionRows(this.stars) });
  },

  onTagTap(e) {
    const i = Number(e.currentTarget.dataset.index);
    const tag = this.data.tags[i];
    if (!tag) return;
    this.setData({ ['tags[' + i + '].on']: !tag.on });
  },

  onContentInput(e) {
    this.setData({ content: String(e.detail.value || '').slice(0, MAX_TEXT) });
  },

  onAnonymousChange(e) {
    this.setData({ anonymous: !!e.detail.value });
  },

  body() {
    return Object.assign({}, this.stars, {
      content: this.data.content.trim(),
      tags: this.data.tags.filter((t) => t.on).map((t) => t.text),
      images: this.data.images,
      anonymous: this.data.anonymous,
    });
  },

  onSubmit() {
    if (this.data.submitting || this.data.uploading || this.data.done) return Promise.resolve();
    this.setData({ submitting: true, error: '' });
    return api.post('/api/orders/' + this.orderId + '/review', this.body()).then(
      () => {
        this.setData({ submitting: false, done: true });
        wx.showToast({ title: '感谢您的评价', icon: 'success' });
      },
      (err) => {
        this.setData({ submitting: false });
        if (err && err.code === 'already_reviewed') {
          this.setData({ done: true });
          wx.showToast({ title: '该订单已评价', icon: 'none' });
          return;
        }
        this.setData({ error: (err && err.message) || '提交失败' });
        api.showError(err);
      }
    );
  },

  onBackTap() {
    wx.redirectTo({ url: '/pages/user/order-detail?id=' + this.orderId });
  },
}));
