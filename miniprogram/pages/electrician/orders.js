// The provider's orders: GET /api/orders?status=&page=&limit= → {items, total} (CONTRACT §5:
// a provider sees those assigned to them), a tab per status, pull down to refresh, more on
// reaching the bottom. A tap opens the provider's order detail.
const auth = require('../../utils/auth');
const st = require('../../utils/order_status');
const pa = require('../../utils/provider_actions');
const { formatTime } = require('../../utils/format');
const { orderListPage } = require('../../utils/order_list');

function decorate(o) {
  return {
    id: o.id,
    orderNo: o.orderNo,
    status: o.status,
    statusLabel: st.statusLabel(o.status),
    onOrder: pa.isOnOrder(o.status),
    address: o.address,
    urgent: o.urgency === 'urgent',
    scheduledText: o.scheduledAt ? '预约 ' + formatTime(o.scheduledAt) : '',
    priceText: st.formatPrice(st.currentPrice(o.price)),
    createdText: formatTime(o.createdAt),
  };
}

Page(
  orderListPage({
    filters: pa.STATUS_FILTERS,
    signIn: () => auth.ensureRole('provider'),
    decorate,
    detailPage: '/pages/electrician/order-detail',
  })
);
