const pa = require('../utils/provider_actions');

const order = (status, quoted) => ({ status, price: { estimated: 5000, quoted: quoted === undefined ? null : quoted, final: null } });

test('actions per status follow the state machine', () => {
  expect(pa.providerActions(order('pending'))).toEqual([]);
  expect(pa.providerActions(order('accepted'))).toEqual(['depart', 'navigate', 'call', 'decline']);
  expect(pa.providerActions(order('departed'))).toEqual(['arrive', 'navigate', 'call', 'decline']);
  expect(pa.providerActions(order('arrived'))).toEqual(['quote', 'start', 'call']);
  // a quote open: the customer's confirmation starts the work; the provider may revise it
  expect(pa.providerActions(order('arrived', 9000))).toEqual(['requote', 'call']);
  expect(pa.providerActions(order('in_progress'))).toEqual(['complete', 'call']);
  for (const s of ['completed', 'cancelled', 'expired']) expect(pa.providerActions(order(s))).toEqual([]);
  expect(pa.providerActions(null)).toEqual([]);
});

test('buttons carry labels; decline, navigate and call are secondary', () => {
  expect(pa.actionButtons(order('accepted'))).toEqual([
    { action: 'depart', label: '出发', primary: true },
    { action: 'navigate', label: '导航', primary: false },
    { action: 'call', label: '联系客户', primary: false },
    { action: 'decline', label: '退单', primary: false },
  ]);
});

test('on an order from accepted to in_progress', () => {
  expect(['pending', 'accepted', 'departed', 'arrived', 'in_progress', 'completed'].map(pa.isOnOrder)).toEqual([false, true, true, true, true, false]);
});

test('a typed quote in yuan becomes fen', () => {
  expect(pa.parseYuan('85')).toBe(8500);
  expect(pa.parseYuan(' 85.5 ')).toBe(8550);
  expect(pa.parseYuan('0.01')).toBe(1);
  expect(pa.parseYuan('0.29')).toBe(29);
  for (const bad of ['', '0', '-5', 'abc', '1.234', '1e3', '9999999', null, undefined]) expect(pa.parseYuan(bad)).toBeNull();
});

test("the provider's timeline words", () => {
  const st = require('../utils/order_status');
  expect(pa.eventLabel({ status: 'accepted', detail: { action: 'grab' } }, st.statusLabel)).toBe('已抢单');
  expect(pa.eventLabel({ status: 'in_progress', detail: { action: 'confirm-quote' } }, st.statusLabel)).toBe('客户已确认报价');
  expect(pa.eventLabel({ status: 'arrived', detail: {} }, st.statusLabel)).toBe('已到达');
});
