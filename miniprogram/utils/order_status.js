// Order and payment statuses (CONTRACT §5, §6) for the customer's screens: Chinese labels,
// and what a customer may do in each status.
const STATUS_LABELS = {
  pending: '待接单',
  accepted: '已接单',
  departed: '已出发',
  arrived: '已到达',
  in_progress: '服务中',
  completed: '已完成',
  cancelled: '已取消',
  expired: '已过期',
};

const PAYMENT_LABELS = {
  unpaid: '未支付',
  paying: '支付中',
  deposit_paid: '已付定金',
  paid: '已支付',
  refunding: '退款中',
  refunded: '已退款',
};

// Service categories as the hub's catalog names them (slugs) → Chinese; others shown as they are.
const CATEGORY_LABELS = {
  electrical: '电路维修',
  plumbing: '水暖管道',
  appliance: '家电维修',
  cleaning: '家政保洁',
  locks: '开锁换锁',
  installation: '安装服务',
};

// An order event's detail.action → what the timeline says (several events can share a
// status: create and dispatch are both `pending`).
const EVENT_LABELS = {
  create: '已下单',
  dispatch: '正在为您派单',
  grab: '师傅已抢单',
  accept: '师傅已接单',
  assign: '已为您指派师傅',
  auto_assign: '已为您指派师傅',
  decline: '师傅已退单，重新派单',
  depart: '师傅已出发',
  arrive: '师傅已到达',
  quote: '师傅已报价',
  'confirm-quote': '已确认报价',
  start: '开始服务',
  complete: '服务完成',
  cancel: '订单已取消',
  expire: '订单已过期',
  slot_reminder: '即将上门提醒',
  no_show: '师傅未按时上门，重新派单',
  payment_opened: '发起支付',
  paid: '支付成功',
  payment_failed: '支付失败',
  payment_closed: '支付已关闭',
  refund_requested: '申请退款',
  refunded: '已退款',
  refund_failed: '退款失败',
};

const ACTION_LABELS = {
  'pay-deposit': '支付定金',
  cancel: '取消订单',
  'confirm-quote': '确认报价',
  pay: '去支付',
  review: '评价',
};

// The tabs of the orders list: '' = all.
const STATUS_FILTERS = [
  { value: '', label: '全部' },
  { value: 'pending', label: '待接单' },
  { value: 'accepted', label: '已接单' },
  { value: 'in_progress', label: '服务中' },
  { value: 'completed', label: '已完成' },
  { value: 'cancelled', label: '已取消' },
];

// A provider is on the way or on site: its location is shown (CONTRACT §7 provider.location).
const TRACKED = ['accepted', 'departed', 'arrived', 'in_progress'];
const FINAL = ['completed', 'cancelled', 'expired'];
// the customer may cancel until in_progress (CONTRACT §5)
const CANCELLABLE = ['pending', 'accepted', 'departed', 'arrived'];

function statusLabel(status) {
  return STATUS_LABELS[status] || status || '';
}

function categoryLabel(category) {
  return CATEGORY_LABELS[category] || category || '其他';
}

// The timeline's words for an order.status event (or a timeline item): its action, else its status.
function eventLabel(ev) {
  const action = ev && ev.detail && ev.detail.action;
  return (action && EVENT_LABELS[action]) || statusLabel(ev && ev.status);
}

function paymentLabel(status) {
  return PAYMENT_LABELS[status] || status || '';
}

function isFinal(status) {
  return FINAL.indexOf(status) >= 0;
}

function isTracked(status) {
  return TRACKED.indexOf(status) >= 0;
}

// The actions a customer may take on an order now, in display order.
// - cancel: pending | accepted | departed | arrived
// - confirm-quote: arrived, with a quote the customer has not confirmed yet
// - pay-deposit: the order's area asks a deposit (opts.deposit > 0, utils/areas.js), the order
//   is live and nothing is paid yet
// - pay: the balance / full price once completed and not yet paid
// - review: completed (once; the hub answers 409 already_reviewed for a second one)
const DEPOSIT_WHILE = ['pending', 'accepted', 'departed', 'arrived', 'in_progress'];

function customerActions(order, opts) {
  if (!order) return [];
  const s = order.status;
  const pay = order.paymentStatus || 'unpaid';
  const price = order.price || {};
  const out = [];
  const deposit = (opts && opts.deposit) || 0;
  if (deposit > 0 && pay === 'unpaid' && DEPOSIT_WHILE.indexOf(s) >= 0) out.push('pay-deposit');
  if (s === 'arrived' && price.quoted !== null && price.quoted !== undefined) out.push('confirm-quote');
  if (s === 'completed' && (pay === 'unpaid' || pay === 'deposit_paid' || pay === 'paying')) out.push('pay');
  if (s === 'completed' && !order.reviewed) out.push('review');
  if (CANCELLABLE.indexOf(s) >= 0) out.push('cancel');
  return out;
}

function actionButtons(order, opts) {
  return customerActions(order, opts).map((a) => ({ action: a, label: ACTION_LABELS[a] }));
}

// The price that holds now (fen): the final one, else the quote, else the estimate.
function currentPrice(price) {
  const p = price || {};
  if (p.final !== null && p.final !== undefined) return p.final;
  if (p.quoted !== null && p.quoted !== undefined) return p.quoted;
  return p.estimated;
}

// fen → "¥12.50"
function formatPrice(fen) {
  if (fen === null || fen === undefined || fen === '') return '';
  const n = Number(fen);
  if (!isFinite(n)) return '';
  return '¥' + (n / 100).toFixed(2);
}

module.exports = {
  STATUS_LABELS,
  PAYMENT_LABELS,
  ACTION_LABELS,
  STATUS_FILTERS,
  CATEGORY_LABELS,
  EVENT_LABELS,
  statusLabel,
  categoryLabel,
  eventLabel,
  paymentLabel,
  isFinal,
  isTracked,
  customerActions,
  actionButtons,
  currentPrice,
  formatPrice,
};
