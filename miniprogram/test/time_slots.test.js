const { schedule } = require('../utils/time_slots');
const { validateOrder } = require('../utils/order_form');

test('seven days of two-hour slots, today only from an hour ahead', () => {
  const now = new Date(2026, 10, 29, 13, 30).getTime(); // a Sunday, 13:30 local
  const days = schedule(now);
  expect(days).toHaveLength(7);
  expect(days.map((d) => d.label.split(' ')[0])).toEqual(['今天', '明天', '周二', '周三', '周四', '周五', '周六']);
  expect(days[0].label).toBe('今天 11-29');
  expect(days[0].slots.map((s) => s.label)).toEqual(['16:00-18:00', '18:00-20:00']);
  expect(days[1].slots.map((s) => s.label)).toEqual(['08:00-10:00', '10:00-12:00', '12:00-14:00', '14:00-16:00', '16:00-18:00', '18:00-20:00']);
  expect(new Date(days[1].slots[0].startAt).getTime()).toBe(new Date(2026, 10, 30, 8, 0).getTime());
});

test('late in the evening today has no slot left and is not offered', () => {
  const days = schedule(new Date(2026, 10, 29, 19, 30).getTime());
  expect(days[0].label.startsWith('明天')).toBe(true);
  expect(days).toHaveLength(6);
});

test('an appointment needs a future slot and is posted as scheduledAt', () => {
  const form = {
    serviceId: 1, address: '望京街10号', lat: 39.9, lng: 116.4, description: '跳闸', contactName: '张三',
    contactPhone: '13800001234', urgency: 'normal', dispatchMode: 'grab', scheduleMode: 'later', scheduledAt: '',
  };
  expect(validateOrder(form).errors).toEqual({ scheduledAt: '请选择预约时间' });
  expect(validateOrder(Object.assign({}, form, { scheduledAt: '2020-01-01T00:00:00.000Z' })).ok).toBe(false);
  const at = new Date(Date.now() + 3 * 3600 * 1000).toISOString();
  expect(validateOrder(Object.assign({}, form, { scheduledAt: at })).body.scheduledAt).toBe(at);
  expect(validateOrder(Object.assign({}, form, { scheduleMode: 'now', scheduledAt: at })).body).not.toHaveProperty('scheduledAt');
});
