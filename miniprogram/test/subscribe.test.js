// utils/subscribe.js: the dialog asked with the build's template ids (≤ 3 a call), WeChat's
// answer reported to the hub by template key, and nothing that goes wrong ever rejects.
const { installWx, flush } = require('./helpers/wx');

let wx;
let subscribe;
let config;

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  wx.setStorageSync('orderhub.token', 'tok-c');
  subscribe = require('../utils/subscribe');
  config = require('../utils/config');
  wx.__route('POST', /^\/api\/me\/subscriptions$/, (req) => ({ statusCode: 200, data: { balances: Object.fromEntries(req.data.accepted.map((k) => [k, 1])) } }));
});

const ids = () => config.templates();
const answer = (map) => (o) => {
  const res = { errMsg: 'requestSubscribeMessage:ok' };
  for (const [key, v] of Object.entries(map)) res[ids()[key]] = v;
  o.success(res);
};
const posts = () => wx.__requests.filter((r) => r.path === '/api/me/subscriptions');

test('the develop build maps every key the hub sends to the sandbox template id', () => {
  expect(Object.keys(ids()).sort()).toEqual(['job_reminder', 'order_accepted', 'order_arrived', 'order_completed', 'order_departed', 'payment_due', 'withdrawal_result']);
  expect(ids().order_accepted).toBe('OhAccept-MJrNwlsnyWB37ukDsl0XCmOCYwGri2XurU');
  expect(ids().withdrawal_result).toBe('OhWithdr-BWYijwvBB6EDKIUWCUqJQhfskzKQcCCOsx');
  // every moment asks at most 3 (WeChat's limit per call), and all seven keys are asked somewhere
  const asked = new Set();
  for (const keys of Object.values(subscribe.MOMENTS)) {
    expect(keys.length).toBeLessThanOrEqual(3);
    keys.forEach((k) => asked.add(k));
  }
  expect([...asked].sort()).toEqual(Object.keys(ids()).sort());
});

test('the dialog opens synchronously with the ids; accepted and rejected keys reach the hub', async () => {
  wx.requestSubscribeMessage.mockImplementation(answer({ order_accepted: 'accept', order_departed: 'reject', order_arrived: 'ban' }));
  const p = subscribe.ask('ordered');
  // called before any await: WeChat opens it only within the tap
  expect(wx.requestSubscribeMessage).toHaveBeenCalledTimes(1);
  expect(wx.requestSubscribeMessage.mock.calls[0][0].tmplIds).toEqual([ids().order_accepted, ids().order_departed, ids().order_arrived]);
  const res = await p;
  expect(res.accepted).toEqual(['order_accepted']);
  expect(res.rejected).toEqual(['order_departed']);
  expect(await res.reported).toEqual({ order_accepted: 1 });
  expect(posts().map((r) => r.data)).toEqual([{ accepted: ['order_accepted'], rejected: ['order_departed'] }]);
  expect(posts()[0].header.Authorization).toBe('Bearer tok-c');
});

test('more than three keys: only the first three are asked', async () => {
  wx.requestSubscribeMessage.mockImplementation(answer({ order_accepted: 'accept', order_departed: 'accept', order_arrived: 'accept', order_completed: 'accept' }));
  const res = await subscribe.ask(['order_accepted', 'order_departed', 'order_arrived', 'order_completed']);
  expect(wx.requestSubscribeMessage.mock.calls[0][0].tmplIds).toHaveLength(3);
  await res.reported;
  expect(posts()[0].data).toEqual({ accepted: ['order_accepted', 'order_departed', 'order_arrived'] });
});

test('a dismissed dialog, a refusal of all, a failed call or a thrown one: nothing rejects, only real answers are posted', async () => {
  // dismissed: no answer for any id → nothing to tell
  let res = await subscribe.ask('job');
  expect(res.accepted).toEqual([]);
  await res.reported;
  expect(posts()).toHaveLength(0);

  wx.requestSubscribeMessage.mockImplementation(answer({ withdrawal_result: 'reject' }));
  res = await subscribe.ask('withdrawal');
  await res.reported;
  expect(posts().map((r) => r.data)).toEqual([{ accepted: [], rejected: ['withdrawal_result'] }]);

  wx.requestSubscribeMessage.mockImplementation((o) => o.fail({ errMsg: 'requestSubscribeMessage:fail', errCode: 20004 }));
  res = await subscribe.ask('paymentDue');
  expect(res).toMatchObject({ accepted: [], rejected: [] });

  wx.requestSubscribeMessage.mockImplementation(() => {
    throw new Error('can only be invoked by user TAP gesture');
  });
  res = await subscribe.ask('finishing');
  expect(res).toMatchObject({ accepted: [], rejected: [] });
  expect(posts()).toHaveLength(1);
});

test('the hub refusing or unreachable: the answer still resolves, reported as null', async () => {
  wx.__route('POST', /^\/api\/me\/subscriptions$/, () => ({ statusCode: 422, data: { error: { code: 'validation_error', message: 'bad' } } }));
  wx.requestSubscribeMessage.mockImplementation(answer({ payment_due: 'accept' }));
  const res = await subscribe.ask('paymentDue');
  expect(res.accepted).toEqual(['payment_due']);
  expect(await res.reported).toBeNull();
  wx.__route('POST', /^\/api\/me\/subscriptions$/, () => 'fail');
  require('../utils/api').setSleep(() => Promise.resolve());
  const again = await subscribe.ask('paymentDue');
  expect(await again.reported).toBeNull();
});

test('an old client without the API, or a build without template ids, asks nothing', async () => {
  delete wx.requestSubscribeMessage;
  let res = await subscribe.ask('ordered');
  expect(res.accepted).toEqual([]);
  wx.requestSubscribeMessage = jest.fn();
  wx.getAccountInfoSync.mockReturnValue({ miniProgram: { envVersion: 'release' } });
  res = await subscribe.ask('ordered');
  expect(wx.requestSubscribeMessage).not.toHaveBeenCalled();
  await flush();
  expect(posts()).toHaveLength(0);
});
