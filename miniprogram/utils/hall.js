// The grab hall's state, pure (no wx.*): the offers open to this provider (CONTRACT §7
// order.offer / order.taken / hall.snapshot), each with its countdown, and the result of a grab.
// Lists are never changed in place: each function returns a new list, nearest offer first.
//
// An offer: {orderId, serviceId, distanceM, price, address (district only), urgency,
// dispatchMode, expiresAt} as the hub sends it, plus `expiresTs` (ms, device clock) and
// `grab`: '' | 'grabbing' | 'won' | 'taken' | 'error'.
const { formatPrice } = require('./order_status');

// Why an offer left the hall (order.taken reason) → what the provider reads.
const TAKEN_LABELS = {
  taken: '已被其他师傅抢走',
  declined: '订单已被退回',
  cancelled: '客户已取消订单',
  expired: '订单已过期',
  withdrawn: '抢单时间已过',
  reassigned: '客服已将订单改派给其他师傅',
};

// A lost or refused grab (its error code, CONTRACT §5 and docs/api.md) → a short message.
const GRAB_ERRORS = {
  already_taken: '手慢了，订单已被抢走',
  order_cancelled: '客户已取消订单',
  order_expired: '订单已过期',
  not_grabbable: '该订单已不能抢',
  at_capacity: '手上订单已满，完成后再来抢',
  provider_offline: '请先上线再抢单',
  not_verified: '资质审核通过后才能抢单',
  not_a_provider: '请先申请成为师傅',
  rate_limited: '抢单太频繁，请稍后再试',
  not_found: '订单不存在或已结束',
  not_offered: '该订单已不再派给您',
  disconnected: '网络中断，请重试',
  ack_timeout: '网络超时，请重试',
};

const URGENCY_LABELS = { urgent: '加急', normal: '' };

// The device clock minus the hub's (ms), learnt from the heartbeat ack's serverTime, so a
// countdown is right on a phone whose clock is off.
function clockSkew(serverTime, deviceNow) {
  const t = new Date(serverTime).getTime();
  return isNaN(t) ? 0 : deviceNow - t;
}

function normalize(offer, skewMs) {
  const t = new Date(offer.expiresAt).getTime();
  return Object.assign({}, offer, {
    expiresTs: isNaN(t) ? 0 : t + (skewMs || 0),
    grab: offer.grab || '',
  });
}

function byDistance(a, b) {
  return (a.distanceM || 0) - (b.distanceM || 0) || a.orderId - b.orderId;
}

function isLive(offer, now) {
  // an offer being grabbed stays until the grab is answered
  return offer.grab === 'grabbing' || offer.grab === 'won' || offer.expiresTs > now;
}

// hall.snapshot's offers replace the list (after a (re)connect nothing else is to be trusted);
// a grab still in flight keeps its state.
function applySnapshot(list, offers, now, skewMs) {
  const busy = {};
  for (const o of list || []) if (o.grab === 'grabbing') busy[o.orderId] = o;
  const out = (offers || [])
    .map((o) => normalize(o, skewMs))
    .map((o) => (busy[o.orderId] ? Object.assign(o, { grab: 'grabbing' }) : o))
    .filter((o) => isLive(o, now));
  return out.sort(byDistance);
}

// order.offer: a new offer, or a renewed one (same order: the newer replaces it)
function addOffer(list, offer, now, skewMs) {
  const o = normalize(offer, skewMs);
  if (!isLive(o, now)) return list || [];
  const old = (list || []).find((x) => x.orderId === o.orderId);
  if (old && old.grab) o.grab = old.grab;
  return (list || []).filter((x) => x.orderId !== o.orderId).concat([o]).sort(byDistance);
}

function removeOffer(list, orderId) {
  return (list || []).filter((x) => String(x.orderId) !== String(orderId));
}

// order.taken: the offer vanishes, unless it is the one this provider just won
function takeOffer(list, orderId) {
  const o = (list || []).find((x) => String(x.orderId) === String(orderId));
  if (o && (o.grab === 'won' || o.grab === 'grabbing')) return list;
  return removeOffer(list, orderId);
}

function setGrab(list, orderId, state) {
  return (list || []).map((x) => (String(x.orderId) === String(orderId) ? Object.assign({}, x, { grab: state }) : x));
}

// Drop what has run out; true in `changed` when something was dropped.
function expire(list, now) {
  const out = (list || []).filter((o) => isLive(o, now));
  return { list: out, changed: out.length !== (list || []).length };
}

function secondsLeft(offer, now) {
  return Math.max(0, Math.ceil((offer.expiresTs - now) / 1000));
}

// 75 → "01:15"
function countdownText(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const mm = Math.floor(s / 60);
  const ss = s % 60;
  return (mm < 10 ? '0' : '') + mm + ':' + (ss < 10 ? '0' : '') + ss;
}

// 850 → "850米", 1234 → "1.2公里"
function distanceText(m) {
  if (m === null || m === undefined || !isFinite(Number(m))) return '';
  const n = Math.max(0, Math.round(Number(m)));
  return n < 1000 ? n + '米' : (n / 1000).toFixed(1) + '公里';
}

function takenLabel(reason) {
  return TAKEN_LABELS[reason] || '订单已结束';
}

function grabErrorLabel(err) {
  return (err && GRAB_ERRORS[err.code]) || (err && err.message) || '抢单失败，请重试';
}

const GRAB_BUTTON = { '': '抢单', grabbing: '抢单中…', won: '已抢到', taken: '已被抢', error: '抢单' };
const ACCEPT_BUTTON = { '': '接单', grabbing: '接单中…', won: '已接单', taken: '已失效', error: '接单' };

// An offer from the grab window is grabbed (first come); any other (a batch, a direct or
// staff-assigned one) is the provider's own to accept or decline. The hub says which in
// `respond` ("grab" | "accept"); without it (an older hub) the dispatch mode decides, and a
// grab refused not_grabbable is accepted instead.
// A grab or accept whose outcome is unknown: asked again (ASK_AGAIN times), since the hub
// answers the provider who already holds the order with the order (docs/api.md).
const ASK_AGAIN = 3;
const LOST = ['disconnected', 'ack_timeout', 'network_error', 'unavailable', 'internal'];
function answerLost(err) {
  return !!err && LOST.indexOf(err.code) >= 0;
}

function isPersonal(offer) {
  if (offer.respond) return offer.respond !== 'grab';
  return offer.dispatchMode !== 'grab';
}

// What the hall shows: one item per offer. services: {id: name}.
function view(list, now, services) {
  return (list || []).map((o) => {
    const left = secondsLeft(o, now);
    return {
      orderId: o.orderId,
      serviceName: (services && services[o.serviceId]) || '服务',
      address: o.address || '',
      distanceText: distanceText(o.distanceM),
      priceText: formatPrice(o.price),
      urgent: o.urgency === 'urgent',
      urgencyText: URGENCY_LABELS[o.urgency] || '',
      countdown: countdownText(left),
      ending: left <= 10,
      grab: o.grab,
      personal: isPersonal(o),
      grabText: (isPersonal(o) ? ACCEPT_BUTTON : GRAB_BUTTON)[o.grab] || '抢单',
      disabled: o.grab !== '' && o.grab !== 'error',
    };
  });
}

module.exports = {
  TAKEN_LABELS,
  GRAB_ERRORS,
  clockSkew,
  applySnapshot,
  addOffer,
  removeOffer,
  takeOffer,
  setGrab,
  expire,
  secondsLeft,
  countdownText,
  distanceText,
  takenLabel,
  grabErrorLabel,
  isPersonal,
  answerLost,
  ASK_AGAIN,
  view,
};
