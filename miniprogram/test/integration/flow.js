// The mini program against the real hub, in Node (tests/test_miniprogram_integration.py runs
// it; docs/miniprogram.md "Integration test"). The customer's pages run their own logic here
// (login, order, order-detail, messages, payment, evaluate) over the app's own request and
// socket modules; the provider is another process (provider.js) with the same modules.
// The customer orders; the provider sees the offer and grabs it; the order's detail receives
// the live statuses and locations, loses its socket while the order moves on and misses no
// status; the customer chats, pays (the area's deposit while the order is live, the balance
// after the service) through the WeChat sandbox's cashier, and reviews with a photo. Exit 0 and a last line `RESULT {...}` when every check held; else exit 1.
//
//   HUB_URL=http://127.0.0.1:8000 SANDBOX_URL=http://127.0.0.1:8100 SERVICE_ID=1 LAT=.. LNG=..
//   CUSTOMER_CODE=sandbox-c1 PROVIDER_CODE=sandbox-p1 (an approved provider)
//   DEPOSIT=2000 (the area's depositAmount, fen) COUPON=1 (the customer holds a coupon)
//   CLAIM_TEMPLATE=<id> (a coupon template on offer) VIRTUAL_NUMBER=<the area's pool number> node flow.js
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { fork } = require('child_process');
const zlib = require('zlib');
const { createWx } = require('./wx_node');
const { loadPage, tap } = require('./page_host');
const { wgs84ToGcj02, distanceM } = require('../../utils/coords');

const env = process.env;
const LAT = Number(env.LAT);
const LNG = Number(env.LNG);
const DEPOSIT = Number(env.DEPOSIT || 0);
const COUPON = env.COUPON === '1';
const CLAIM_TEMPLATE = Number(env.CLAIM_TEMPLATE || 0); // a template on offer in the coupon centre
const T0 = Date.now();
const log = (...a) => console.log('[' + ((Date.now() - T0) / 1000).toFixed(1) + 's]', ...a);

function tinyPng() {
  const crc = (buf) => {
    let c = ~0;
    for (const b of buf) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    }
    return (~c) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.from([0, 255, 0, 0]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const photo = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'orderhub-mp-')), 'repair.png');
fs.writeFileSync(photo, tinyPng());

// wx.chooseLocation answers in GCJ-02, as WeChat's map does: the point whose WGS-84 is LAT/LNG
const PICKED = wgs84ToGcj02(LAT, LNG);
global.wx = createWx({
  sandboxUrl: env.SANDBOX_URL,
  location: { name: '测试小区 3 栋', address: '海口市美兰区', latitude: PICKED.lat, longitude: PICKED.lng },
  photos: [photo],
});
const config = require('../../utils/config');

wx.setStorageSync(config.KEYS.baseUrl, env.HUB_URL);
wx.setStorageSync(config.KEYS.sandboxCode, env.CUSTOMER_CODE);
const api = require('../../utils/api');
const live = require('../../utils/live');

function until(fn, ms, what) {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      let v;
      try {
        v = fn();
      } catch (e) {
        return reject(e);
      }
      if (v) return resolve(v);
      if (Date.now() > end) return reject(new Error('timed out waiting for ' + what));
      setTimeout(tick, 25);
    };
    tick();
  });
}

// the provider process
const provider = fork(path.join(__dirname, 'provider.js'), [], { env, stdio: 'inherit' });
let nextId = 1;
const waiting = {};
provider.on('message', (m) => {
  const w = waiting[m.id];
  delete waiting[m.id];
  if (w) (m.ok ? w.resolve(m.result) : w.reject(new Error(m.error)));
});
function ask(cmd, args) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    waiting[id] = { resolve, reject };
    provider.send({ id, cmd, args });
  });
}

const lastSocket = () => wx.__sockets[wx.__sockets.length - 1];
const statuses = (page) => page.data.timeline.map((t) => t.seq + ':' + t.label);

async function main() {
  const result = {};

  // login: wx.login (the sandbox code) → the token; the phone bound through getPhoneNumber
  const login = loadPage('pages/login/login');
  login.onLoad({});
  await login.onLoginTap();
  assert.ok(login.data.user && login.data.user.role === 'customer', 'logged in as a customer');
  await login.onGetPhoneNumber({ detail: { code: 'sandbox-phone-13800138000' } });
  assert.strictEqual(login.data.user.phone, '138****8000', 'the phone is shown masked');
  log('customer logged in, phone bound', login.data.user.phone);

  // the coupon centre: claim the template on offer, then again (the hub's 409 in Chinese); it
  // is then among my usable coupons
  if (CLAIM_TEMPLATE) {
    const center = loadPage('pages/user/coupon-center');
    await center.onLoad({});
    const index = center.data.offers.findIndex((o) => o.id === CLAIM_TEMPLATE);
    assert.ok(index >= 0, 'the template is on offer: ' + JSON.stringify(center.data.offers));
    await center.onClaimTap(tap({ index }));
    assert.strictEqual(center.data.offers[index].state, 'claimed', 'claimed: ' + wx.__toasts.slice(-1));
    const again = await require('../../utils/coupons').claim(CLAIM_TEMPLATE).catch((e) => e);
    const refused = require('../../utils/coupons').claimRefusal(again, center.data.offers[index]);
    assert.ok(refused && refused.state === 'limit', 'a second claim is refused: ' + JSON.stringify(again));
    const mine = loadPage('pages/user/coupons');
    await mine.onLoad({});
    const names = mine.data.items.map((c) => c.name);
    assert.ok(names.includes(center.data.offers[index].name), 'my usable coupons: ' + names);
    result.claimed = { refusedAgain: refused.text, usable: names.length };
    log('coupon claimed; again:', refused.text, '; usable', names.length);
  }

  const online = await ask('online', { lat: LAT + 0.005, lng: LNG });
  log('provider online', online);

  // the order form: the service, the point from wx.chooseLocation, the nearby list, a photo
  const form = loadPage('pages/user/order');
  await form.onLoad({ serviceId: String(env.SERVICE_ID) });
  form.onChooseLocation();
  await form.onDispatchChange({ detail: { value: 'direct' } });
  await until(() => form.data.nearbyState === 'loaded', 5000, 'the nearby list');
  // the provider's fix reaches the index with its host's next tick: ask again until listed
  for (let i = 0; i < 40 && !form.data.nearby.length; i++) {
    await new Promise((r) => setTimeout(r, 100));
    await form.loadNearby();
  }
  assert.ok(form.data.nearby.length >= 1, 'the online provider is in the nearby list');
  result.nearby = form.data.nearby.map((p) => p.distanceText);
  await form.onDispatchChange({ detail: { value: 'grab' } }); // a grab order: the hall sees it
  form.onInput(tap({ field: 'description' }, { value: '客厅插座跳闸' }));
  form.onInput(tap({ field: 'contactName' }, { value: '王女士' }));
  form.onInput(tap({ field: 'contactPhone' }, { value: '13800138000' }));
  await form.onAddPhotos();
  assert.strictEqual(form.data.form.images.length, 1, 'the order photo is uploaded');
  await form.onSubmit();
  const to = wx.__navigations.pop();
  const orderId = Number(/order-detail\?id=(\d+)/.exec(to)[1]);
  log('order created', orderId);
  result.orderId = orderId;
  // the submit tap asked for the first three progress messages; accepted, the hub counts them
  assert.strictEqual(wx.__subscribeAsked.length, 1, 'the subscribe dialog at the submit');
  let balances = (await api.get('/api/me/subscriptions')).balances;
  assert.deepStrictEqual([balances.order_accepted, balances.order_departed, balances.order_arrived], [1, 1, 1], JSON.stringify(balances));

  // the order's detail, live
  const detail = loadPage('pages/user/order-detail');
  await detail.onLoad({ id: String(orderId) });
  assert.strictEqual(detail.data.order.status, 'pending');
  // the point the hub holds is the picked GCJ-02 point turned back into WGS-84
  assert.ok(distanceM(detail.data.order, { lat: LAT, lng: LNG }) < 1, 'the order is at the WGS-84 point: ' + JSON.stringify([detail.data.order.lat, detail.data.order.lng]));
  result.pointOffM = Math.round(distanceM(detail.data.order, { lat: LAT, lng: LNG }) * 100) / 100;

  // the area asks a deposit: 支付定金 while the order is live
  if (DEPOSIT > 0) {
    assert.strictEqual(detail.data.actions[0].action, 'pay-deposit', 'the deposit is offered');
    const deposit = loadPage('pages/user/payment');
    await deposit.onLoad({ id: String(orderId), kind: 'deposit' });
    assert.strictEqual(deposit.data.dueLabel, '定金');
    await deposit.onPayTap();
    assert.strictEqual(deposit.data.state, 'paid', 'deposit paid: ' + deposit.data.message);
    deposit.onUnload();
    await until(() => detail.data.order.paymentStatus === 'deposit_paid', 10000, 'deposit_paid on the detail page');
    assert.ok(!detail.data.actions.some((a) => a.action === 'pay-deposit'), 'the deposit is not offered again');
    result.deposit = deposit.data.amountText;
    log('deposit paid', result.deposit);
  }
  const tGrab = Date.now();
  const grabbed = await ask('grab', { orderId });
  log('provider saw the offer and grabbed it', grabbed.status, 'offer', JSON.stringify(grabbed.offer));
  await until(() => detail.data.order.status === 'accepted', 10000, 'accepted on the detail page');
  result.acceptedSeenMs = Date.now() - tGrab;

  // chat: the customer writes from common/messages, the provider answers
  const chat = loadPage('pages/common/messages');
  await chat.onLoad({ id: String(orderId) });
  chat.onDraftInput({ detail: { value: '师傅您好，大概几点到？' } });
  assert.ok(await chat.onSendTap(), 'the message is sent');
  await ask('reply', { orderId, heard: '师傅您好，大概几点到？', text: '二十分钟内到' });
  await until(() => chat.data.messages.some((m) => !m.mine && m.text === '二十分钟内到'), 10000, "the provider's answer");
  chat.onUnload();
  assert.strictEqual(detail.data.unread, 1, 'the detail page counted the answer');
  log('chat both ways');

  await ask('act', { orderId, action: 'depart' });
  await until(() => detail.data.order.status === 'departed', 10000, 'departed');
  await ask('location', { lat: LAT + 0.003, lng: LNG });
  await until(() => detail.data.fix && Math.abs(detail.data.fix.lat - (LAT + 0.003)) < 1e-9, 10000, 'the first location');
  await ask('location', { lat: LAT + 0.001, lng: LNG + 0.001 });
  await until(() => detail.data.fix && Math.abs(detail.data.fix.lat - (LAT + 0.001)) < 1e-9, 10000, 'the second location');
  // the provider's WGS-84 fix on WeChat's GCJ-02 map
  const marker = detail.data.markers.find((m) => m.id === 2);
  const shownAt = wgs84ToGcj02(LAT + 0.001, LNG + 0.001);
  assert.ok(marker && Math.abs(marker.latitude - shownAt.lat) < 1e-9 && Math.abs(marker.longitude - shownAt.lng) < 1e-9, "the provider's marker moved, in GCJ-02");

  // the reminders card: completion and payment, accepted; 拨打电话 through the masked number
  // (VIRTUAL_NUMBER: the one number of the area's pool, bound at accept; without a pool the
  // hub's 409 is told plainly and nothing is dialled)
  assert.ok(detail.data.offerReminders, 'the reminders card is offered');
  const reminded = await detail.onRemindersTap();
  await reminded.reported;
  balances = (await api.get('/api/me/subscriptions')).balances;
  assert.deepStrictEqual([balances.order_completed, balances.payment_due], [1, 1], JSON.stringify(balances));
  assert.ok(detail.data.canCall, 'the call button is shown');
  const dialled = await detail.onCallTap();
  const callToast = wx.__toasts[wx.__toasts.length - 1];
  if (env.VIRTUAL_NUMBER) assert.deepStrictEqual(wx.__calls, [env.VIRTUAL_NUMBER], 'dialled the masked number: ' + callToast);
  else assert.ok(dialled ? wx.__calls[0] === dialled : /隐私号码|手机号|号码/.test(callToast), 'a dial or a clear refusal: ' + callToast);
  result.call = dialled ? 'dialled' : callToast;
  log('subscriptions', JSON.stringify(balances), 'call:', result.call);
  log('locations live', JSON.stringify(detail.data.fix), detail.data.fixAge);

  // the network drops; the order moves on meanwhile; the socket comes back and catches up
  const sockets = wx.__sockets.length;
  wx.__blockConnect = true;
  lastSocket().drop();
  await ask('act', { orderId, action: 'arrive' });
  await ask('act', { orderId, action: 'start' });
  // at least one dial refused while the network is down (the back-off goes on), then it is up
  await until(() => wx.__sockets.length >= sockets + 2, 10000, 'a dial while the network is down');
  assert.strictEqual(detail.data.order.status, 'departed', 'nothing arrived while the socket was down');
  wx.__blockConnect = false;
  const tBack = Date.now();
  await until(() => detail.data.order.status === 'in_progress', 20000, 'in_progress after the reconnect');
  result.resumeMs = Date.now() - tBack;
  result.dials = wx.__sockets.length - sockets;
  log('socket back after', result.dials, 'dials; caught up in', result.resumeMs, 'ms');

  await ask('act', { orderId, action: 'complete' });
  await until(() => detail.data.order.status === 'completed', 10000, 'completed');
  const actions = detail.data.actions.map((a) => a.action);
  assert.deepStrictEqual(actions, ['pay', 'review'], 'pay and review offered once completed');
  const timeline = await api.get('/api/orders/' + orderId + '/timeline');
  const rest = timeline.items.map((t) => t.seq + ':' + t.status);
  const seen = detail.data.timeline.map((t) => t.seq + ':' + t.status);
  assert.deepStrictEqual(seen, rest, 'the detail page holds every status event once, in order');
  result.timeline = statuses(detail);
  detail.onUnload();
  await ask('offline', {});

  // pay: prepay → wx.requestPayment (the sandbox cashier) → the hub's `paid`
  const payment = loadPage('pages/user/payment');
  await payment.onLoad({ id: String(orderId) });
  assert.strictEqual(payment.data.state, 'ready');
  assert.strictEqual(payment.data.dueLabel, DEPOSIT > 0 ? '尾款' : '订单金额');
  if (COUPON) {
    // the customer's coupon, listed against what is due and chosen as the best
    assert.ok(payment.data.couponId > 0, 'a coupon is chosen: ' + JSON.stringify(payment.data.coupons));
    result.coupon = payment.data.discountText;
  }
  const shown = payment.data.payText;
  const tPay = Date.now();
  await payment.onPayTap();
  assert.strictEqual(payment.data.state, 'paid', 'paid: ' + payment.data.message);
  result.paidMs = Date.now() - tPay;
  result.amount = payment.data.payText;
  assert.strictEqual(result.amount, shown, 'the page showed what the hub asked');
  const paidOrder = await api.get('/api/orders/' + orderId);
  assert.strictEqual(paidOrder.paymentStatus, 'paid');
  payment.onUnload();
  log('paid', result.amount, 'in', result.paidMs, 'ms');

  // review: stars, tags, text and a photo
  const review = loadPage('pages/user/evaluate');
  await review.onLoad({ id: String(orderId) });
  review.onStarTap(tap({ key: 'speedRating', n: 4 }));
  review.onTagTap(tap({ index: 0 }));
  review.onTagTap(tap({ index: 1 }));
  review.onContentInput({ detail: { value: '很专业，准时到' } });
  await review.onAddPhotos();
  assert.strictEqual(review.data.images.length, 1, 'the review photo is uploaded');
  await review.onSubmit();
  assert.ok(review.data.done, 'reviewed: ' + review.data.error);
  const order = await api.get('/api/orders/' + orderId);
  const reviews = await api.get('/api/providers/' + order.providerId + '/reviews', null, { auth: false });
  const mine = reviews.items[0];
  assert.strictEqual(mine.speedRating, 4);
  assert.deepStrictEqual(mine.tags, ['准时上门', '技术专业']);
  const image = await fetch(mine.images[0]);
  assert.ok(Buffer.from(await image.arrayBuffer()).equals(tinyPng()), 'the review photo is served back');
  log('reviewed', JSON.stringify({ rating: mine.rating, speedRating: mine.speedRating, tags: mine.tags }));

  result.seconds = (Date.now() - T0) / 1000;
  return result;
}

main().then(
  (result) => {
    live.reset();
    provider.disconnect();
    console.log('RESULT ' + JSON.stringify(result));
    process.exit(0);
  },
  (err) => {
    console.error('FAILED', err && err.stack ? err.stack : err);
    console.error('toasts:', JSON.stringify(wx.__toasts));
    provider.kill();
    process.exit(1);
  }
);
