const { installWx } = require('./helpers/wx');

let wx;
let areas;

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  areas = require('../utils/areas');
});

const BOX = [[19.9, 110.2], [19.9, 110.4], [20.1, 110.4], [20.1, 110.2]];

test('a point in an area, as the hub decides it', () => {
  expect(areas.pointInPolygon(20.0, 110.3, BOX)).toBe(true);
  expect(areas.pointInPolygon(20.2, 110.3, BOX)).toBe(false);
  const list = [{ id: 1, boundary: BOX, active: false }, { id: 2, boundary: BOX }];
  expect(areas.areaAt(list, 20.0, 110.3).id).toBe(2);
  expect(areas.areaAt(list, 30, 120)).toBe(null);
});

test('the areas are fetched once; unreadable areas ask no deposit and are asked again', async () => {
  let n = 0;
  wx.__route('GET', /^\/api\/areas$/, () => {
    n += 1;
    return n <= 3 ? { statusCode: 503, data: { error: { code: 'unavailable', message: 'x' } } } : { statusCode: 200, data: [{ id: 1, boundary: BOX, depositAmount: 5000 }] };
  });
  const order = { lat: 20.0, lng: 110.3, price: { estimated: 4000 } };
  require('../utils/api').setSleep(() => Promise.resolve());
  await expect(areas.depositFor(order)).resolves.toBe(0); // 503 (retried twice): none
  await expect(areas.depositFor(order)).resolves.toBe(4000); // min(deposit, estimated)
  await expect(areas.depositFor(Object.assign({}, order, { lat: 25 }))).resolves.toBe(0);
  expect(n).toBe(4); // 3 tries of the failed load, then one load kept
});

test('the timeline names payment events by their action', () => {
  const st = require('../utils/order_status');
  expect(st.eventLabel({ status: 'pending', detail: { action: 'payment_opened' } })).toBe('发起支付');
  expect(st.eventLabel({ status: 'pending', detail: { action: 'paid' } })).toBe('支付成功');
  expect(st.eventLabel({ status: 'accepted', detail: { action: 'no_show' } })).toBe('师傅未按时上门，重新派单');
});
