const { installWx, handshake, flush, lastSocketTask } = require('./helpers/wx');

let wx;
let live;

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  live = require('../utils/live');
});

afterEach(() => live.reset());

const lastTask = () => lastSocketTask(wx);

test('one socket for the app, dialled with the stored token', () => {
  wx.setStorageSync('orderhub.token', 'tok-1');
  const a = live.getSocket();
  const b = live.getSocket();
  expect(a).toBe(b);
  expect(wx.connectSocket).toHaveBeenCalledTimes(1);
  handshake(lastTask());
  expect(lastTask().sent[0]).toBe('40{"token":"tok-1"}');
});

test('no token: nothing is dialled, it logs in and then connects', async () => {
  wx.__route('POST', /wechat-login$/, () => ({ statusCode: 200, data: { token: 'fresh', user: { id: 1, role: 'customer' } } }));
  live.getSocket();
  await flush();
  expect(wx.__requests.map((r) => r.path)).toEqual(['/api/auth/wechat-login']);
  expect(wx.connectSocket).toHaveBeenCalledTimes(1);
  handshake(lastTask());
  expect(lastTask().sent[0]).toBe('40{"token":"fresh"}');
});

test('a refused token logs in again once and reconnects; not again within 30 s', async () => {
  wx.setStorageSync('orderhub.token', 'stale');
  let n = 0;
  wx.__route('POST', /wechat-login$/, () => ({ statusCode: 200, data: { token: 'new-' + ++n, user: { id: 1, role: 'customer' } } }));
  live.getSocket();
  const t1 = lastTask();
  t1.open();
  t1.serverSend('0{"sid":"e","pingInterval":25000,"pingTimeout":20000}');
  t1.serverSend('44{"message":"expired","data":{"code":"token_expired","message":"expired"}}');
  await flush();
  expect(n).toBe(1);
  const t2 = lastTask();
  expect(t2).not.toBe(t1);
  t2.open();
  t2.serverSend('0{"sid":"e2","pingInterval":25000,"pingTimeout":20000}');
  expect(t2.sent[0]).toBe('40{"token":"new-1"}');
  t2.serverSend('44{"message":"expired","data":{"code":"token_expired","message":"expired"}}');
  await flush();
  expect(n).toBe(1); // no login loop
  expect(wx.connectSocket).toHaveBeenCalledTimes(2);
});
