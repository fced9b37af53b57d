// The provider's own page: who they are and their verification (GET /api/me), the online
// switch (utils/duty.js), earnings (GET /api/me/earnings: balance withdrawable, pending held,
// requested, withdrawn), withdrawals (POST /api/me/withdrawals {amount}, the recent ones, and
// withdrawing a request not decided yet), and the reviews they got, each answered once
// (GET /api/providers/{id}/reviews, POST /api/reviews/{id}/reply). CONTRACT §8, §9.
const api = require('../../utils/api');
const subscribe = require('../../utils/subscribe');
const auth = require('../../utils/auth');
const duty = require('../../utils/duty');
const st = require('../../utils/order_status');
const pa = require('../../utils/provider_actions');
const { formatTime } = require('../../utils/format');

const VERIFICATION = { pending: '资质审核中', approved: '已认证', rejected: '审核未通过' };
const WITHDRAWAL = { requested: '审核中', approved: '已打款', rejected: '已驳回', cancelled: '已撤回' };
const REVIEW_PAGE = 10;

function stars(n) {
  const k = Math.max(0, Math.min(5, Math.round(Number(n) || 0)));
  return '★★★★★'.slice(0, k) + '☆☆☆☆☆'.slice(0, 5 - k);
}

function reviewItem(r) {
  return {
    id: r.id,
    stars: stars(r.rating),
    customer: r.customer || '匿名',
    content: r.content || '',
    tags: r.tags || [],
    reply: r.reply || '',
    at: formatTime(r.at),
  };
}

function withdrawalItem(w) {
  return { id: w.id, amountText: st.formatPrice(w.amount), status: w.status, statusLabel: WITHDRAWAL[w.status] || w.status, note: w.note || '', at: formatTime(w.createdAt), cancellable: w.status === 'requested' };
}

Page({
  data: {
    loading: true,
    error: '',
    user: null,
    provider: null,
    verificationText: '',
    online: false,
    busy: false,
    earnings: null,
    withdrawals: [],
    summary: null,
    reviews: [],
    reviewTotal: 0,
    reviewPage: 0,
  },

  onLoad() {
    this.offs = [duty.onChange((s) => this.setData({ online: s.online, busy: s.busy }))];
    const s = duty.snapshot();
    this.setData({ online: s.online });
    return this.load();
  },

  onUnload() {
    for (const off of this.offs || []) off();
    this.offs = [];
  },

  onPullDownRefresh() {
    return this.load().then(() => wx.stopPullDownRefresh());
  },

  onReachBottom() {
    return this.loadReviews(false);
  },

  load() {
    return auth
      .ensureRole('provider')
      .then(() => api.get('/api/me'))
      .then((me) => {
        const p = me.provider;
        this.setData({
          loading: false,
          error: '',
          user: me.user,
          provider: p ? { id: p.id, name: p.name, rating: Number(p.rating || 0).toFixed(2), completedOrders: p.completedOrders || 0, verification: p.verification, note: p.verificationNote || '' } : null,
          verificationText: p ? VERIFICATION[p.verification] || p.verification : '未入驻',
        });
        if (!p) return null;
        return Promise.all([this.loadMoney(), this.loadReviews(true)]);
      })
      .catch((err) => this.setData({ loading: false, error: (err && err.message) || '加载失败' }));
  },

  loadMoney() {
    return Promise.all([api.get('/api/me/earnings', { page: 1, limit: 5 }), api.get('/api/me/withdrawals', { page: 1, limit: 5 })]).then(([e, w]) => {
      this.setData({
        earnings: {
          balance: e.balance,
          balanceText: st.formatPrice(e.balance || 0),
          pendingText: st.formatPrice(e.pending || 0),
          requestedText: st.formatPrice(e.requested || 0),
          withdrawnText: st.formatPrice(e.withdrawn || 0),
        },
        withdrawals: (w.items || []).map(withdrawalItem),
      });
    }, api.showError);
  },

  loadReviews(fresh) {
    const p = this.data.provider;
    if (!p) return Promise.resolve();
    if (!fresh && this.data.reviews.length >= this.data.reviewTotal) return Promise.resolve();
    const page = fresh ? 1 : this.data.reviewPage + 1;
    return api.get('/api/providers/' + p.id + '/reviews', { page, limit: REVIEW_PAGE }).then((res) => {
      const items = (res.items || []).map(reviewItem);
      const summary = res.summary || {};
      this.setData({
        reviews: fresh ? items : this.data.reviews.concat(items),
        reviewTotal: res.total || 0,
        reviewPage: page,
        summary: { rating: Number(summary.rating || 0).toFixed(2), count: summary.count || 0 },
      });
    }, api.showError);
  },

  // ---- online ----
  onOnlineChange(e) {
    const want = !!(e && e.detail && e.detail.value);
    if (want === duty.isOnline()) return Promise.resolve();
    return (want ? duty.goOnline() : duty.goOffline()).catch((err) => {
      this.setData({ online: duty.isOnline() }); // the switch goes back
      const code = err && err.code;
      wx.showToast({ title: code === 'not_verified' ? '资质审核通过后才能上线' : (err && err.message) || '操作失败', icon: 'none' });
    });
  },

  // ---- withdrawals ----
  // 提现: within the tap, the subscribe dialog for the result (staff approve or reject it later;
  // the message opens this page), then the amount whatever the answer
  onWithdrawTap() {
    const e = this.data.earnings;
    if (!e || !(e.balance > 0)) {
      wx.showToast({ title: '暂无可提现余额', icon: 'none' });
      return Promise.resolve();
    }
    return subscribe.ask('withdrawal').then(() => this.askAmount(e));
  },

  askAmount(e) {
    return new Promise((resolve) => {
      wx.showModal({
        title: '提现',
        editable: true,
        placeholderText: '提现金额（元），最多 ' + e.balanceText,
        success: (res) => {
          if (!res.confirm) return resolve();
          const fen = pa.parseYuan(res.content);
          if (fen === null) {
            wx.showToast({ title: '请输入正确的金额', icon: 'none' });
            return resolve();
          }
          resolve(this.withdraw(fen));
        },
        fail: () => resolve(),
      });
    });
  },

  withdraw(fen) {
    return api.post('/api/me/withdrawals', { amount: fen }).then(
      () => {
        wx.showToast({ title: '已提交提现申请', icon: 'success' });
        return this.loadMoney();
      },
      (err) => {
        if (err && err.code === 'insufficient_balance') wx.showToast({ title: '可提现余额不足', icon: 'none' });
        else api.showError(err);
      }
    );
  },

  onCancelWithdrawalTap(e) {
    const id = e.currentTarget.dataset.id;
    return api.post('/api/me/withdrawals/' + id + '/cancel', {}).then(() => this.loadMoney(), api.showError);
  },

  // ---- reviews ----
  onReplyTap(e) {
    const id = e.currentTarget.dataset.id;
    return new Promise((resolve) => {
      wx.showModal({
        title: '回复评价',
        editable: true,
        placeholderText: '感谢客户或说明情况（500字以内）',
        success: (res) => {
          const content = String((res && res.content) || '').trim();
          if (!res.confirm || !content) return resolve();
          resolve(this.reply(id, content.slice(0, 500)));
        },
        fail: () => resolve(),
      });
    });
  },

  reply(id, content) {
    return api.post('/api/reviews/' + id + '/reply', { content }).then(
      (review) => {
        const reviews = this.data.reviews.map((r) => (r.id === id ? Object.assign({}, r, { reply: review.reply || content }) : r));
        this.setData({ reviews });
        wx.showToast({ title: '已回复', icon: 'success' });
      },
      (err) => {
        if (err && err.code === 'already_replied') wx.showToast({ title: '每条评价只能回复一次', icon: 'none' });
        else api.showError(err);
      }
    );
  },

  onApplyTap() {
    wx.navigateTo({ url: '/pages/electrician/apply' });
  },

  // back from the application: show its state
  onShow() {
    if (this.applied === undefined) {
      this.applied = false; // the first show follows onLoad, which loads already
      return Promise.resolve();
    }
    return this.data.provider && this.data.provider.verification !== 'rejected' ? Promise.resolve() : this.load();
  },

  onHallTap() {
    wx.navigateTo({ url: '/pages/electrician/hall' });
  },

  onOrdersTap() {
    wx.navigateTo({ url: '/pages/electrician/orders' });
  },
});
