// What a provider may do with an order in each status (CONTRACT §5, actors/transitions.py),
// in display order, and the provider's status tabs. Pure: the pages call the hub.
//
//   accepted    → depart (出发), navigate, decline (退单: back to dispatch, before arriving)
//   departed    → arrive (已到达), navigate, decline
//   arrived     → quote (报价; again to revise until the customer confirms), or start
//                 (开始服务) when there is no quote: the hub refuses start with a quote open
//                 (409 quote_pending) — the customer's confirm-quote starts it then
//   in_progress → complete (完工), through the repair-input page (work done, photos)
// `navigate` and `call` are the page's own (wx.openLocation, the masked number), not hub moves.
const ACTION_LABELS = {
  depart: '出发',
  arrive: '已到达',
  quote: '报价',
  requote: '修改报价',
  start: '开始服务',
  complete: '完工',
  decline: '退单',
  navigate: '导航',
  call: '联系客户',
};

// Where the provider is on the way or on site: the location is reported (§7 location.update)
const ON_ORDER = ['accepted', 'departed', 'arrived', 'in_progress'];

// The tabs of the provider's orders ('' = all)
const STATUS_FILTERS = [
  { value: '', label: '全部' },
  { value: 'accepted', label: '待出发' },
  { value: 'departed', label: '已出发' },
  { value: 'arrived', label: '已到达' },
  { value: 'in_progress', label: '服务中' },
  { value: 'completed', label: '已完成' },
  { value: 'cancelled', label: '已取消' },
];

// An order event's detail.action → the provider's timeline (the customer's words are in
// order_status.js); unknown ones fall back to the status label.
const EVENT_LABELS = {
  create: '客户已下单',
  dispatch: '派单中',
  grab: '已抢单',
  accept: '已接单',
  assign: '已指派给您',
  auto_assign: '已指派给您',
  decline: '已退单',
  no_show: '未按时出发，订单已改派',
  slot_reminder: '预约时间快到了',
  depart: '已出发',
  arrive: '已到达',
  quote: '已报价',
  'confirm-quote': '客户已确认报价',
  start: '开始服务',
  complete: '已完工',
  cancel: '订单已取消',
  expire: '订单已过期',
  paid: '客户已支付',
  refunded: '已退款',
};

function eventLabel(ev, statusLabel) {
  const action = ev && ev.detail && ev.detail.action;
  return (action && EVENT_LABELS[action]) || statusLabel(ev && ev.status);
}

function hasQuote(order) {
  const p = (order && order.price) || {};
  return p.quoted !== null && p.quoted !== undefined;
}

// The hub moves an order along with these; the others are the page's.
const HUB_MOVES = ['depart', 'arrive', 'start', 'decline'];

function providerActions(order) {
  if (!order) return [];
  switch (order.status) {
    case 'accepted':
      return ['depart', 'navigate', 'call', 'decline'];
    case 'departed':
      return ['arrive', 'navigate', 'call', 'decline'];
    case 'arrived':
      return hasQuote(order) ? ['requote', 'call'] : ['quote', 'start', 'call'];
    case 'in_progress':
      return ['complete', 'call'];
    default:
      return [];
  }
}

function actionButtons(order) {
  return providerActions(order).map((a) => ({
    action: a,
    label: ACTION_LABELS[a],
    primary: a !== 'decline' && a !== 'navigate' && a !== 'call',
  }));
}

function isOnOrder(status) {
  return ON_ORDER.indexOf(status) >= 0;
}

// The quote as typed (yuan, "85" or "85.5") → fen, or null when it is not a price
function parseYuan(text) {
  const s = String(text === undefined || text === null ? '' : text).trim();
  if (!/^\d{1,6}(\.\d{1,2})?$/.test(s)) return null;
  const fen = Math.round(parseFloat(s) * 100);
  return fen >= 1 ? fen : null;
}

module.exports = { ACTION_LABELS, EVENT_LABELS, eventLabel, STATUS_FILTERS, HUB_MOVES, providerActions, actionButtons, isOnOrder, hasQuote, parseYuan };
