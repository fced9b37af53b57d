// Paying an order (CONTRACT §6): prepay → wx.requestPayment → wait until the hub says `paid`.
// The hub learns of a payment from WeChat Pay's notification (or by asking WeChat while the
// payment is open), never from the mini program: wx.requestPayment's "ok" only means the user
// paid in WeChat, so the page waits for the order's `paid` event on the socket and asks
// GET /api/payments/{id} meanwhile (that call also queries WeChat, so a lost notification
// cannot leave the order unpaid).
const api = require('./api');
const config = require('./config');

// POST /api/payments {orderId, kind?} → {paymentId, amount, expiresAt, paymentParams}. Asking again
// while a payment is open answers the same one (200), so a retry never prepays twice.
// `kind`: 'deposit' while the order is live in an area that asks one; left out, the hub picks
// what is due (the balance after a deposit, else the full price).
// `couponId`: one of the customer's usable coupons (utils/coupons.js), locked to the payment.
function prepay(orderId, kind, couponId) {
  const body = { orderId: Number(orderId) };
  if (kind) body.kind = kind;
  if (couponId) body.couponId = Number(couponId);
  return api.post('/api/payments', body);
}

// In a develop build a WeChat sandbox URL in storage (orderhub.sandboxCashier) pays through
// the sandbox's cashier instead of WeChat's (the DevTools cannot pay a sandbox prepay);
// ignored in trial/release, like the sandbox login code.
function sandboxCashier() {
  return config.developSetting(config.KEYS.sandboxCashier);
}

// wx.requestPayment as a Promise: {ok: true} | {ok: false, cancelled, message}.
function requestPayment(params) {
  const cashier = sandboxCashier();
  if (cashier) {
    return new Promise((resolve) => {
      wx.request({
        url: String(cashier).replace(/\/+$/, '') + '/sandbox/pay/cashier',
        method: 'POST',
        data: params,
        header: { 'Content-Type': 'application/json' },
        success: (res) => resolve(outcome((res.data && res.data.errMsg) || 'requestPayment:fail')),
        fail: (e) => resolve(outcome((e && e.errMsg) || 'requestPayment:fail')),
      });
    });
  }
  return new Promise((resolve) => {
    wx.requestPayment(
      Object.assign({}, params, {
        success: () => resolve({ ok: true }),
        fail: (e) => resolve(outcome((e && e.errMsg) || 'requestPayment:fail')),
      })
    );
  });
}

function outcome(errMsg) {
  if (errMsg === 'requestPayment:ok') return { ok: true };
  return { ok: false, cancelled: /cancel/.test(errMsg), message: errMsg.replace(/^requestPayment:fail\s*/, '') || '支付失败' };
}

// Resolve with the payment once it is paid: on the order's `paid` event (socket) or when
// GET /api/payments/{id} says so, asked every `everyMs`; reject after `timeoutMs`.
// opts: {socket, everyMs = 2000, timeoutMs = 60000}; returns {promise, cancel}.
function waitPaid(paymentId, orderId, opts) {
  const o = opts || {};
  const everyMs = o.everyMs || 2000;
  const timeoutMs = o.timeoutMs || 60000;
  let timer = null;
  let deadline = null;
  let off = null;
  let done = false;
  let finish;
  const promise = new Promise((resolve, reject) => {
    finish = (err, payment) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(deadline);
      if (off) off();
      if (err) reject(err);
      else resolve(payment);
    };
    const check = () =>
      api.get('/api/payments/' + paymentId).then(
        (p) => {
          if (p && p.status === 'paid') finish(null, p);
          else if (p && (p.status === 'closed' || p.status === 'failed')) finish(new api.ApiError('payment_' + p.status, p.status === 'closed' ? '支付已关闭，请重新支付' : '支付失败', 0));
          else if (!done) timer = setTimeout(check, everyMs);
        },
        () => {
          if (!done) timer = setTimeout(check, everyMs);
        }
      );
    if (o.socket) {
      off = o.socket.on('order.status', (ev) => {
        const action = ev && ev.detail && ev.detail.action;
        if (String(ev.orderId) === String(orderId) && action === 'paid') check();
      });
    }
    deadline = setTimeout(() => finish(new api.ApiError('pay_timeout', '暂未收到支付结果，请稍后在订单中查看', 0)), timeoutMs);
    check();
  });
  return { promise, cancel: () => finish(new api.ApiError('cancelled', 'cancelled', 0)) };
}

module.exports = { prepay, requestPayment, waitPaid };
