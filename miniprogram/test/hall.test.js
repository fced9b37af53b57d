const hall = require('../utils/hall');

const NOW = Date.parse('2026-11-29T10:00:00Z');
const offer = (id, distanceM, secs, extra) =>
  Object.assign({ orderId: id, serviceId: 1, distanceM, price: 8000, address: '朝阳区', urgency: 'normal', dispatchMode: 'grab', expiresAt: new Date(NOW + secs * 1000).toISOString() }, extra || {});

test('a snapshot replaces the list, nearest first, without expired offers', () => {
  const list = hall.applySnapshot([offer(9, 10, 60)], [offer(1, 900, 60), offer(2, 300, 30), offer(3, 100, -1)], NOW, 0);
  expect(list.map((o) => o.orderId)).toEqual([2, 1]);
  expect(list[0].grab).toBe('');
});

test('a snapshot keeps a grab in flight', () => {
  let list = hall.addOffer([], offer(1, 500, 60), NOW);
  list = hall.setGrab(list, 1, 'grabbing');
  list = hall.applySnapshot(list, [offer(1, 500, 60)], NOW, 0);
  expect(list[0].grab).toBe('grabbing');
});

test('offers appear, are renewed in place and vanish', () => {
  let list = hall.addOffer([], offer(1, 900, 60), NOW);
  list = hall.addOffer(list, offer(2, 300, 60), NOW);
  expect(list.map((o) => o.orderId)).toEqual([2, 1]);
  list = hall.addOffer(list, offer(1, 200, 120), NOW); // renewed: newer wins
  expect(list.map((o) => [o.orderId, o.distanceM])).toEqual([[1, 200], [2, 300]]);
  expect(hall.addOffer(list, offer(3, 50, -5), NOW)).toHaveLength(2); // already run out
  expect(hall.takeOffer(list, 2).map((o) => o.orderId)).toEqual([1]);
  expect(hall.removeOffer(list, '1').map((o) => o.orderId)).toEqual([2]);
});

test('order.taken leaves an offer being grabbed or won (the grab answer decides)', () => {
  let list = hall.addOffer([], offer(1, 900, 60), NOW);
  list = hall.setGrab(list, 1, 'grabbing');
  expect(hall.takeOffer(list, 1)).toHaveLength(1);
  list = hall.setGrab(list, 1, 'won');
  expect(hall.takeOffer(list, 1)).toHaveLength(1);
});

test('expire drops what ran out and says so; the countdown counts down', () => {
  const list = hall.applySnapshot([], [offer(1, 10, 5), offer(2, 20, 65)], NOW, 0);
  expect(hall.expire(list, NOW + 1000)).toEqual({ list, changed: false });
  const later = hall.expire(list, NOW + 6000);
  expect(later.changed).toBe(true);
  expect(later.list.map((o) => o.orderId)).toEqual([2]);
  expect(hall.secondsLeft(list[1], NOW)).toBe(65);
  expect(hall.countdownText(65)).toBe('01:05');
  expect(hall.countdownText(0)).toBe('00:00');
  expect(hall.countdownText(-3)).toBe('00:00');
});

test('a phone whose clock is ahead of the hub still counts the right time', () => {
  const skew = hall.clockSkew('2026-11-29T09:59:30Z', NOW); // device 30 s ahead
  expect(skew).toBe(30000);
  const [o] = hall.applySnapshot([], [offer(1, 10, 20)], NOW, skew);
  expect(hall.secondsLeft(o, NOW)).toBe(50);
  expect(hall.clockSkew('garbage', NOW)).toBe(0);
});

test('the view: service name, distance, price, countdown, urgency, grab button', () => {
  let list = hall.applySnapshot([], [offer(1, 850, 9, { urgency: 'urgent' }), offer(2, 1234, 75, { serviceId: 5 })], NOW, 0);
  list = hall.setGrab(list, 2, 'grabbing');
  const v = hall.view(list, NOW, { 1: '电路维修' });
  expect(v[0]).toMatchObject({ orderId: 1, serviceName: '电路维修', distanceText: '850米', priceText: '¥80.00', countdown: '00:09', ending: true, urgent: true, urgencyText: '加急', grabText: '抢单', disabled: false });
  expect(v[1]).toMatchObject({ serviceName: '服务', distanceText: '1.2公里', countdown: '01:15', ending: false, grabText: '抢单中…', disabled: true });
});

test('labels for taken reasons and grab errors', () => {
  expect(hall.takenLabel('taken')).toBe('已被其他师傅抢走');
  expect(hall.takenLabel('withdrawn')).toBe('抢单时间已过');
  expect(hall.takenLabel('reassigned')).toBe('客服已将订单改派给其他师傅');
  expect(hall.takenLabel('???')).toBe('订单已结束');
  expect(hall.grabErrorLabel({ code: 'already_taken' })).toBe('手慢了，订单已被抢走');
  expect(hall.grabErrorLabel({ code: 'odd', message: '奇怪' })).toBe('奇怪');
  expect(hall.grabErrorLabel(null)).toBe('抢单失败，请重试');
  expect(hall.distanceText(null)).toBe('');
});

test('a personal offer is accepted, a grab offer grabbed', () => {
  const list = hall.applySnapshot([], [offer(1, 10, 60, { dispatchMode: 'auto' }), offer(2, 20, 60)], NOW, 0);
  expect(hall.view(list, NOW, {}).map((v) => [v.personal, v.grabText])).toEqual([[true, '接单'], [false, '抢单']]);
  expect(hall.grabErrorLabel({ code: 'not_offered' })).toBe('该订单已不再派给您');
});

test("the hub's respond field decides grab or accept; the mode only when it is absent", () => {
  expect(hall.isPersonal(offer(1, 10, 60, { respond: 'grab' }))).toBe(false);
  // a grab order gone on to batches: still dispatchMode grab, but to be accepted
  expect(hall.isPersonal(offer(1, 10, 60, { respond: 'accept' }))).toBe(true);
  expect(hall.isPersonal(offer(1, 10, 60))).toBe(false);
  expect(hall.isPersonal(offer(1, 10, 60, { dispatchMode: 'auto' }))).toBe(true);
});
