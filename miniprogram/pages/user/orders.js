// My orders: GET /api/orders?status=&page=&limit= → {items, total} (CONTRACT §5), a tab per
// status, pull down to refresh, more on reaching the bottom.
const auth = require('../../utils/auth');
const st = require('../../utils/order_status');
const { formatTime } = require('../../utils/format');
const { orderListPage } = require('../../utils/order_list');

function decorate(o) {
  return {
    id: o.id,
    orderNo: o.orderNo,
    status: o.status,
    statusLabel: st.statusLabel(o.status),
    paymentLabel: st.paymentLabel(o.paymentStatus),
    address: o.address,
    priceText: st.formatPrice(st.currentPrice(o.price)),
    createdText: formatTime(o.createdAt),
  };
}

Page(
  orderListPage({
    filters: st.STATUS_FILTERS,
    signIn: () => auth.ensureLogin('customer'),
    decorate,
    detailPage: '/pages/user/order-detail',
  })
);
