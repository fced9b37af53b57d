const s = require('../utils/order_status');
const { validateOrder } = require('../utils/order_form');

test('every contract status and payment status has a Chinese label', () => {
  expect(['pending', 'accepted', 'departed', 'arrived', 'in_progress', 'completed', 'cancelled', 'expired'].map(s.statusLabel)).toEqual([
    '待接单', '已接单', '已出发', '已到达', '服务中', '已完成', '已取消', '已过期',
  ]);
  expect(['unpaid', 'paying', 'deposit_paid', 'paid', 'refunding', 'refunded'].map(s.paymentLabel)).toEqual([
    '未支付', '支付中', '已付定金', '已支付', '退款中', '已退款',
  ]);
  expect(s.statusLabel('weird')).toBe('weird');
});

test.each([
  ['pending', {}, ['cancel']],
  ['accepted', {}, ['cancel']],
  ['departed', {}, ['cancel']],
  ['arrived', {}, ['cancel']],
  ['arrived', { price: { quoted: 12000 } }, ['confirm-quote', 'cancel']],
  ['in_progress', {}, []],
  ['completed', { paymentStatus: 'unpaid' }, ['pay', 'review']],
  ['completed', { paymentStatus: 'deposit_paid' }, ['pay', 'review']],
  ['completed', { paymentStatus: 'paid' }, ['review']],
  ['completed', { paymentStatus: 'paid', reviewed: true }, []],
  ['cancelled', {}, []],
  ['expired', {}, []],
])('customer actions in %s %j', (status, extra, expected) => {
  expect(s.customerActions(Object.assign({ status }, extra))).toEqual(expected);
});

test('tracking, finality, price', () => {
  expect(s.isTracked('departed')).toBe(true);
  expect(s.isTracked('pending')).toBe(false);
  expect(s.isFinal('expired')).toBe(true);
  expect(s.formatPrice(12050)).toBe('¥120.50');
  expect(s.formatPrice(null)).toBe('');
  expect(s.actionButtons({ status: 'pending' })).toEqual([{ action: 'cancel', label: '取消订单' }]);
});

test('order form validation', () => {
  const good = {
    serviceId: '2', address: ' 北京市朝阳区 ', lat: 39.9, lng: 116.4, description: '插座冒烟',
    contactName: '张三', contactPhone: '13800000000', urgency: 'urgent', dispatchMode: 'auto',
  };
  const ok = validateOrder(good);
  expect(ok.ok).toBe(true);
  // the form's point is GCJ-02 (wx.chooseLocation); the body's is the hub's WGS-84
  const { wgs84ToGcj02, distanceM } = require('../utils/coords');
  expect(distanceM(wgs84ToGcj02(ok.body.lat, ok.body.lng), { lat: 39.9, lng: 116.4 })).toBeLessThan(1);
  expect(ok.body).toEqual({
    serviceId: 2, address: '北京市朝阳区', lat: ok.body.lat, lng: ok.body.lng, description: '插座冒烟',
    contactName: '张三', contactPhone: '13800000000', urgency: 'urgent', dispatchMode: 'auto',
  });
  expect(ok.body.lat).not.toBe(39.9);
  // outside China the two systems are the same
  expect(validateOrder(Object.assign({}, good, { lat: 48.8566, lng: 2.3522 })).body).toMatchObject({ lat: 48.8566, lng: 2.3522 });
  const bad = validateOrder({ serviceId: '', address: '', lat: '', lng: '', description: ' ', contactName: '', contactPhone: '123', dispatchMode: 'x' });
  expect(bad.ok).toBe(false);
  expect(Object.keys(bad.errors).sort()).toEqual(['address', 'contactName', 'contactPhone', 'description', 'dispatchMode', 'location', 'serviceId']);
  expect(bad.first).toBe('请选择服务项目');
});

test('category slugs and event actions have Chinese words', () => {
  expect(['electrical', 'plumbing', 'appliance', 'cleaning', 'other-thing', ''].map(s.categoryLabel)).toEqual([
    '电路维修', '水暖管道', '家电维修', '家政保洁', 'other-thing', '其他',
  ]);
  expect(s.eventLabel({ status: 'pending', detail: { action: 'create' } })).toBe('已下单');
  expect(s.eventLabel({ status: 'pending', detail: { action: 'dispatch', stage: 'grab' } })).toBe('正在为您派单');
  expect(s.eventLabel({ status: 'departed', detail: {} })).toBe('已出发');
  expect(s.eventLabel({ status: 'arrived', detail: { action: 'new-thing' } })).toBe('已到达');
});

test('the price that holds now: final, else quoted, else estimated', () => {
  expect(s.currentPrice({ estimated: 5000, quoted: 6000, final: 5500 })).toBe(5500);
  expect(s.currentPrice({ estimated: 5000, quoted: 6000, final: null })).toBe(6000);
  expect(s.currentPrice({ estimated: 5000, quoted: null })).toBe(5000);
  expect(s.currentPrice({ estimated: 5000, quoted: 0 })).toBe(0);
  expect(s.currentPrice(undefined)).toBeUndefined();
});
