// 领券中心: the coupons this customer may still claim (GET /api/coupons, CONTRACT §12), each
// with its rule, where it applies, how long it lasts and, when few are left, how many; 领取 →
// POST /api/coupons/{id}/claim. A refused claim (409) is said in Chinese and leaves the offer
// marked (抢光了 / 已领取 / 已结束); the coupon is then in 我的优惠券 and chosen at payment.
const api = require('../../utils/api');
const auth = require('../../utils/auth');
const coupons = require('../../utils/coupons');

const BUTTON = { '': '立即领取', claiming: '领取中…', claimed: '已领取', gone: '已抢光', limit: '已领取', ended: '已结束' };

function withButton(o) {
  return Object.assign(o, { button: BUTTON[o.state] || '立即领取', disabled: o.state !== '' });
}

Page({
  data: {
    loading: true,
    error: '',
    offers: [],
  },

  onLoad() {
    return this.load();
  },

  onPullDownRefresh() {
    return this.load().then(() => wx.stopPullDownRefresh());
  },

  load() {
    this.setData({ loading: true, error: '' });
    return auth
      .ensureLogin('customer')
      .then(() => coupons.offers())
      .then(
        (offers) => this.setData({ loading: false, offers: offers.map(withButton) }),
        (err) => this.setData({ loading: false, error: (err && err.message) || '加载失败' })
      );
  },

  setOffer(index, state) {
    this.setData({ ['offers[' + index + ']']: withButton(Object.assign({}, this.data.offers[index], { state })) });
  },

  onClaimTap(e) {
    const index = Number(e.currentTarget.dataset.index);
    const offer = this.data.offers[index];
    if (!offer || offer.disabled) return Promise.resolve();
    this.setOffer(index, 'claiming');
    return coupons.claim(offer.id).then(
      () => {
        this.setOffer(index, 'claimed');
        wx.showToast({ title: '领取成功', icon: 'success' });
      },
      (err) => {
        const refused = coupons.claimRefusal(err, offer);
        if (refused) {
          this.setOffer(index, refused.state);
          wx.showToast({ title: refused.text, icon: 'none' });
        } else {
          this.setOffer(index, ''); // the network, a rate limit: it may be tried again
          api.showError(err);
        }
      }
    );
  },

  onMineTap() {
    wx.navigateTo({ url: '/pages/user/coupons' });
  },
});
