// Coupons at payment (CONTRACT §12): GET /api/orders/{id}/coupons answers what is due now
// ({kind, amount, payable}) and each of the customer's coupons against it — usable with its
// discount, or why not — with the best one suggested. The page shows them and sends the
// chosen one's id at prepay; the hub computes the discount and locks the coupon to the payment.
// Also the coupon centre (GET /api/coupons, POST /api/coupons/{id}/claim) and my coupons
// (GET /api/me/coupons?status=), shaped for their pages.
const api = require('./api');
const { formatPrice } = require('./order_status');
const { formatDate } = require('./format');

const REFUSALS = {
  coupon_expired: '已过期',
  coupon_paused: '活动已暂停',
  coupon_not_applicable: '不适用于该订单',
  below_threshold: '未达到使用门槛',
  coupon_in_use: '正在其他支付中使用',
};

// '满100减20', '8.5折（最多减¥30.00）', '减¥10.00'
function describe(c) {
  if (c.kind === 'discount' && c.percentOff) {
    const rate = (100 - c.percentOff) / 10;
    return String(rate).replace(/\.0$/, '') + '折' + (c.maxOff ? '（最多减' + formatPrice(c.maxOff) + '）' : '');
  }
  const off = formatPrice(c.amountOff || 0);
  return c.threshold ? '满' + c.threshold / 100 + '减' + (c.amountOff || 0) / 100 : '减' + off;
}

// → {kind, amount, payable, suggestedId, items: [{id, name, rule, discount, discountText, usable, reason}]}
function forOrder(orderId) {
  return api.get('/api/orders/' + orderId + '/coupons').then((res) => ({
    kind: res.kind,
    amount: res.amount,
    payable: !!res.payable,
    suggestedId: res.suggested ? res.suggested.couponId : 0,
    items: (res.items || []).map((i) => ({
      id: i.coupon.id,
      name: i.coupon.name,
      rule: describe(i.coupon),
      discount: i.discount || 0,
      discountText: '-' + formatPrice(i.discount || 0),
      usable: !!i.usable,
      reason: i.refusal ? REFUSALS[i.refusal.code] || i.refusal.message : '',
    })),
  }));
}

// Where a coupon applies: '全部服务', or the limits it carries
function scopeText(c) {
  const limits = [];
  if (c.serviceIds && c.serviceIds.length) limits.push('限指定服务');
  if (c.areaIds && c.areaIds.length) limits.push('限指定区域');
  return limits.length ? limits.join('，') : '全部服务可用';
}

// A template on offer: '领取后7天内有效' / '有效期至 2026-12-31'
function offerValidity(t) {
  if (t.validDays) return '领取后' + t.validDays + '天内有效' + (t.validTo ? '（' + formatDate(t.validTo) + '前）' : '');
  return t.validTo ? '有效期至 ' + formatDate(t.validTo) : '';
}

// The coupon centre: the templates this customer may still claim
function offers() {
  return api.get('/api/coupons').then((res) =>
    (res.items || []).map((t) => ({
      id: t.id,
      name: t.name,
      rule: describe(t),
      scope: scopeText(t),
      validity: offerValidity(t),
      leftText: t.left > 0 && t.left <= 20 ? '仅剩' + t.left + '张' : '',
      newOnly: !!t.newCustomerOnly,
      state: t.left > 0 ? '' : 'gone', // '' claimable, 'claimed', 'gone', 'limit', 'ended'
    }))
  );
}

// A claim's 409s (and 404) in the customer's words, and the state the offer is left in
const CLAIM_REFUSALS = {
  out_of_stock: { text: '手慢了，券已被领完', state: 'gone' },
  limit_reached: { text: '您已领过这张券，不能再领了', state: 'limit' },
  not_eligible: { text: '活动已结束，无法领取', state: 'ended' },
  not_found: { text: '这张券已下架', state: 'ended' },
};

function claimRefusal(err, offer) {
  if (err && err.code === 'not_eligible' && offer && offer.newOnly) return { text: '仅限新用户（未下过单）领取', state: 'ended' };
  return (err && CLAIM_REFUSALS[err.code]) || null;
}

function claim(templateId) {
  return api.post('/api/coupons/' + templateId + '/claim', {});
}

const STATUS_TEXT = { usable: '可使用', locked: '支付中', used: '已使用', expired: '已过期' };

// My coupons of one status, a page at a time → {items, total}
function mine(status, page, limit) {
  return api.get('/api/me/coupons', { status, page, limit }).then((res) => ({
    total: res.total || 0,
    items: (res.items || []).map((c) => ({
      id: c.id,
      name: c.name,
      rule: describe(c),
      scope: scopeText(c),
      status: c.status,
      statusText: STATUS_TEXT[c.status] || '',
      validity: c.validTo ? '有效期至 ' + formatDate(c.validTo) : '长期有效',
      usedText: c.status === 'used' && c.discount ? '已抵扣 ' + formatPrice(c.discount) : '',
    })),
  }));
}

module.exports = { forOrder, describe, offers, claim, claimRefusal, mine, scopeText, offerValidity };
