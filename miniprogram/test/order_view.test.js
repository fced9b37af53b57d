// utils/order_view.js: the seq order of the detail pages and the reason sheet.
const { installWx } = require('./helpers/wx');
const ov = require('../utils/order_view');

let wx;

beforeEach(() => {
  wx = installWx();
});

test('an order older than the shown one is older; a newer, equal or unnumbered one is not', () => {
  expect(ov.isOlder({ seq: 3 }, { seq: 4 })).toBe(true);
  expect(ov.isOlder({ seq: 4 }, { seq: 4 })).toBe(false);
  expect(ov.isOlder({ seq: 5 }, { seq: 4 })).toBe(false);
  expect(ov.isOlder({ seq: 3 }, null)).toBe(false);
  expect(ov.isOlder({}, { seq: 4 })).toBe(false);
});

test('a status event counts once, for this order, after the shown seq', () => {
  const shown = { seq: 4 };
  expect(ov.isNewStatusEvent({ orderId: 7, seq: 5 }, '7', shown)).toBe(true);
  expect(ov.isNewStatusEvent({ orderId: 7, seq: 4 }, 7, shown)).toBe(false);
  expect(ov.isNewStatusEvent({ orderId: 8, seq: 5 }, 7, shown)).toBe(false);
  expect(ov.isNewStatusEvent({ orderId: 7 }, 7, shown)).toBe(false);
  expect(ov.isNewStatusEvent({ orderId: 7, seq: 5 }, 7, null)).toBe(false);
  expect(ov.isNewStatusEvent(null, 7, shown)).toBe(false);
});

test('the reason sheet answers the tapped reason, or undefined when dismissed', async () => {
  wx.showActionSheet.mockImplementationOnce((o) => o.success({ tapIndex: 1 }));
  await expect(ov.chooseReason(['a', 'b'])).resolves.toBe('b');
  expect(wx.showActionSheet.mock.calls[0][0].itemList).toEqual(['a', 'b']);
  wx.showActionSheet.mockImplementationOnce((o) => o.fail({ errMsg: 'showActionSheet:fail cancel' }));
  await expect(ov.chooseReason(['a'])).resolves.toBeUndefined();
});
