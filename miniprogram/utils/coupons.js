// Coupons at payment (CONTRACT §12): GET /api/orders/{id}/coupons answers what is due now
// ({kind, amount, payable}) and each of the customer's coupons against it — usable with its
// discount, or why not — with the best one suggested. The page shows them and sends the
// chosen one's id at prepay; the hub computes the discount and locks the coupon to the payment.
const api = require('./api');
const { formatPrice } = require('./order_status');

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
  return c.threshold ? '满' + c.threshold / 100 + '减' + off.slice(1) : '减' + off;
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

module.exports = { forOrder, describe };
