// Subscribe-message consent (CONTRACT §13, docs/notifications.md): WeChat sends a user one
// message of a template per time they accepted it in wx.requestSubscribeMessage. The app asks
// at the moments below and reports the answer to the hub (POST /api/me/subscriptions) by
// template KEY; the ids are per account (utils/config.js templates()).
//
// WeChat's rules that shape this module:
// - the dialog opens only from a tap (or a payment's callback): ask() calls
//   wx.requestSubscribeMessage synchronously, so a page must call it first thing in its tap
//   handler, before any await;
// - at most 3 templates per call (newer clients take 5, older ones 3): a moment asks ≤ 3, and the
//   order's four progress messages are split over two taps (ordering, then the detail page);
// - a refusal, a dismissed dialog, an old client or a failed report never stops the user: ask()
//   never rejects, and the page goes on once the dialog is answered.
const api = require('./api');
const config = require('./config');

const MAX_PER_CALL = 3;

// The moments, each one call's keys.
const MOMENTS = {
  // submitting an order: its first steps, which come within the hour
  ordered: ['order_accepted', 'order_departed', 'order_arrived'],
  // the customer's order detail while a provider is on it: the end of the service and the bill
  finishing: ['order_completed', 'payment_due'],
  // 去支付 on a completed, unpaid order: the reminders if they leave without paying
  paymentDue: ['payment_due'],
  // a provider's scheduled job (an appointment): the reminder before its slot
  job: ['job_reminder'],
  // a provider asking for a withdrawal: its approval or rejection
  withdrawal: ['withdrawal_result'],
};

const NOTHING = { accepted: [], rejected: [], reported: Promise.resolve(null) };

// WeChat's answer {errMsg, <templateId>: 'accept'|'reject'|'ban'|'filter'} → keys.
// 'ban' (the template is banned) and 'filter' (a duplicate title) are neither.
function readAnswer(keys, ids, res) {
  const accepted = [];
  const rejected = [];
  for (const key of keys) {
    const v = res && res[ids[key]];
    if (v === 'accept') accepted.push(key);
    else if (v === 'reject') rejected.push(key);
  }
  return { accepted, rejected };
}

// Tell the hub; resolves the balances, or null when there was nothing to tell or it failed.
function report(answer) {
  if (!answer.accepted.length && !answer.rejected.length) return Promise.resolve(null);
  const body = { accepted: answer.accepted };
  if (answer.rejected.length) body.rejected = answer.rejected;
  return api.post('/api/me/subscriptions', body).then(
    (res) => (res && res.balances) || null,
    () => null // the consent stays at WeChat; the hub just does not count it
  );
}

// Ask for `keys` (or a moment's name). Resolves {accepted, rejected, reported} once the dialog
// is answered; `reported` resolves when the hub has been told (pages need not wait for it).
function ask(keysOrMoment) {
  const keys = typeof keysOrMoment === 'string' ? MOMENTS[keysOrMoment] || [] : keysOrMoment || [];
  const ids = config.templates();
  const wanted = keys.filter((k) => ids[k]).slice(0, MAX_PER_CALL);
  if (!wanted.length || typeof wx === 'undefined' || typeof wx.requestSubscribeMessage !== 'function') {
    return Promise.resolve(NOTHING);
  }
  return new Promise((resolve) => {
    try {
      wx.requestSubscribeMessage({
        tmplIds: wanted.map((k) => ids[k]),
        success: (res) => resolve(readAnswer(wanted, ids, res)),
        fail: () => resolve({ accepted: [], rejected: [] }), // e.g. 20004: the user switched them all off
      });
    } catch (e) {
      resolve({ accepted: [], rejected: [] });
    }
  }).then((answer) => Object.assign(answer, { reported: report(answer) }));
}

module.exports = { ask, readAnswer, MOMENTS, MAX_PER_CALL };
