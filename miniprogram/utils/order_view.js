// What the customer's and the provider's order detail pages share: reading and showing the
// order with its timeline, the seq order in which a newer state replaces the shown one (CONTRACT §7), and
// the sheet of reasons a cancel or a decline asks for.
const api = require('./api');

// [order, timeline | null]: the timeline is extra (a failure leaves it out); the order is not.
function fetchOrderAndTimeline(orderId) {
  const base = '/api/orders/' + orderId;
  return Promise.all([api.get(base), api.get(base + '/timeline').catch(() => null)]);
}

// A detail page's first load, for page.orderId: signed in (signIn()), the order shown
// (page.setOrder) with its timeline (timelineItem per event), then live (page.startLive), then
// afterOpen(order) if given. A failure leaves `error` on the page and a toast.
function openOrderDetail(page, { signIn, timelineItem, afterOpen }) {
  return signIn()
    .then(() => fetchOrderAndTimeline(page.orderId))
    .then(([order, timeline]) => {
      page.setOrder(order);
      page.setData({ loading: false, timeline: ((timeline && timeline.items) || []).map(timelineItem) });
      page.startLive(order);
      return afterOpen ? afterOpen(order) : undefined;
    })
    .catch((err) => {
      page.setData({ loading: false, error: (err && err.message) || '加载失败' });
      api.showError(err);
    });
}

// An order older (by seq) than the one shown: a late reply that must not replace it.
function isOlder(order, shown) {
  return !!shown && typeof shown.seq === 'number' && typeof order.seq === 'number' && order.seq < shown.seq;
}

// An order.status event of this order that is newer than the one shown (applied once).
function isNewStatusEvent(ev, orderId, shown) {
  if (!ev || String(ev.orderId) !== String(orderId)) return false;
  return !!shown && typeof ev.seq === 'number' && ev.seq > shown.seq;
}

// The reason the user picks from `reasons` (WeChat's action sheet); undefined when they cancel.
function chooseReason(reasons) {
  return new Promise((resolve) => {
    wx.showActionSheet({
      itemList: reasons,
      success: (res) => resolve(reasons[res.tapIndex]),
      fail: () => resolve(undefined),
    });
  });
}

module.exports = { fetchOrderAndTimeline, openOrderDetail, isOlder, isNewStatusEvent, chooseReason };
