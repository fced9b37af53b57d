const { installWx, handshake, sentEvents, ack, push, flush, lastSocketTask } = require('./helpers/wx');
const sock = require('../utils/socket');
const packets = require('../utils/sio_packets');

let wx;

beforeEach(() => {
  jest.useFakeTimers();
  wx = installWx();
});

afterEach(() => {
  jest.useRealTimers();
});

function make(opts) {
  const s = new sock.HubSocket(Object.assign({
    url: 'ws://127.0.0.1:8000/socket.io/?EIO=4&transport=websocket',
    getToken: () => 'tok-9',
    random: () => 0,
    heartbeatMs: 10000,
  }, opts || {}));
  s.connect();
  return s;
}

const lastTask = () => lastSocketTask(wx);

describe('framing', () => {
  test('encodes CONNECT with auth, EVENT with and without ack id, ACK', () => {
    expect(packets.encodeConnect({ token: 't' })).toBe('40{"token":"t"}');
    expect(packets.encodeEvent('order.watch', { orderId: 7, afterSeq: 3 }, 12)).toBe('4212["order.watch",{"orderId":7,"afterSeq":3}]');
    expect(packets.encodeEvent('heartbeat', {})).toBe('42["heartbeat",{}]');
    expect(packets.encodeAck(4, [{ ok: true }])).toBe('434[{"ok":true}]');
  });

  test('decodes Engine.IO open, ping and Socket.IO event/ack/connect_error, with a namespace', () => {
    expect(packets.decodeFrame('0{"sid":"a","pingInterval":25000}')).toEqual({ eio: '0', data: { sid: 'a', pingInterval: 25000 } });
    expect(packets.decodeFrame('2')).toEqual({ eio: '2', data: '' });
    expect(packets.decodeFrame('42["order.status",{"seq":2}]').sio).toEqual({ type: '2', nsp: '/', id: null, data: ['order.status', { seq: 2 }] });
    expect(packets.decodeFrame('4317[{"ok":false,"error":{"code":"already_taken"}}]').sio).toEqual({
      type: '3', nsp: '/', id: 17, data: [{ ok: false, error: { code: 'already_taken' } }],
    });
    expect(packets.decodeFrame('44{"message":"refused","data":{"code":"invalid_token"}}').sio.data.data.code).toBe('invalid_token');
    expect(packets.decodeFrame('42/admin,5["x",1]').sio).toEqual({ type: '2', nsp: '/admin', id: 5, data: ['x', 1] });
    expect(packets.decodeFrame('42[broken')).toEqual({ eio: '4', sio: null });
    expect(packets.decodeFrame('')).toBeNull();
  });
});

describe('connection', () => {
  test('connects over wx.connectSocket with auth {token}; answers pings; fires connect', () => {
    const s = make();
    const onConnect = jest.fn();
    s.on('connect', onConnect);
    const task = lastTask();
    expect(wx.connectSocket).toHaveBeenCalledWith(expect.objectContaining({ url: 'ws://127.0.0.1:8000/socket.io/?EIO=4&transport=websocket' }));
    task.open();
    task.serverSend('0{"sid":"e1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}');
    expect(task.sent).toEqual(['40{"token":"tok-9"}']);
    task.serverSend('40{"sid":"s1"}');
    expect(s.connected).toBe(true);
    expect(onConnect).toHaveBeenCalledWith({ reconnect: false });
    task.serverSend('2');
    expect(task.sent[task.sent.length - 1]).toBe('3');
    s.close();
  });

  test('emit resolves with the ack of its own id; ids count up; acks may come out of order', async () => {
    const s = make();
    const task = lastTask();
    handshake(task);
    const a = s.emit('order.grab', { orderId: 1 });
    const b = s.emit('chat.send', { orderId: 1, text: 'hi', clientMsgId: 'c1' });
    const ev = sentEvents(task);
    expect(ev.map((e) => [e.id, e.name])).toEqual([[0, 'order.grab'], [1, 'chat.send']]);
    ack(task, 1, { ok: true, msgId: 5, seq: 3 });
    ack(task, 0, { ok: false, error: { code: 'already_taken' } });
    await expect(b).resolves.toEqual({ ok: true, msgId: 5, seq: 3 });
    await expect(a).resolves.toEqual({ ok: false, error: { code: 'already_taken' } });
    s.close();
  });

  test('an emit before the connection waits for it; an unanswered one times out', async () => {
    const s = make({ ackTimeoutMs: 5000 });
    const task = lastTask();
    const p = s.emit('heartbeat', {});
    expect(sentEvents(task)).toHaveLength(0);
    handshake(task);
    expect(sentEvents(task)).toEqual([{ id: 0, name: 'heartbeat', data: {} }]);
    jest.advanceTimersByTime(5001);
    await expect(p).rejects.toMatchObject({ code: 'ack_timeout' });
    s.close();
  });

  test('sends a heartbeat event every interval and reports its ack', async () => {
    const s = make({ heartbeatMs: 10000 });
    const task = lastTask();
    const beats = jest.fn();
    s.on('heartbeat', beats);
    handshake(task);
    jest.advanceTimersByTime(10000);
    const hb = sentEvents(task).filter((e) => e.name === 'heartbeat');
    expect(hb).toHaveLength(1);
    ack(task, hb[0].id, { ok: true, serverTime: '2026-11-29T09:00:00Z' });
    await flush();
    expect(beats).toHaveBeenCalledWith({ ok: true, serverTime: '2026-11-29T09:00:00Z' });
    jest.advanceTimersByTime(20000);
    expect(sentEvents(task).filter((e) => e.name === 'heartbeat')).toHaveLength(3);
    s.close();
  });

  test('reconnects after a drop with a doubling back-off, reset after a connect', () => {
    const s = make({ minDelayMs: 500, maxDelayMs: 4000 });
    const delays = [];
    s.on('reconnecting', (r) => delays.push(r.delay));
    handshake(lastTask());
    lastTask().drop();
    expect(wx.connectSocket).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(499);
    expect(wx.connectSocket).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(1);
    expect(wx.connectSocket).toHaveBeenCalledTimes(2);
    lastTask().fail();
    jest.advanceTimersByTime(1000);
    lastTask().drop();
    jest.advanceTimersByTime(2000);
    lastTask().drop();
    jest.advanceTimersByTime(4000);
    lastTask().drop();
    jest.advanceTimersByTime(4000);
    expect(delays).toEqual([500, 1000, 2000, 4000, 4000]);
    handshake(lastTask());
    lastTask().drop();
    expect(delays[delays.length - 1]).toBe(500);
    s.close();
  });

  test('a silent server (no ping within pingInterval + pingTimeout) is dropped and redialled', () => {
    const s = make();
    handshake(lastTask());
    const first = lastTask();
    jest.advanceTimersByTime(45001);
    expect(first.closed).toBe(true);
    jest.advanceTimersByTime(500);
    expect(wx.connectSocket).toHaveBeenCalledTimes(2);
    s.close();
  });

  test('a refused token stops reconnecting and reports auth_error', () => {
    const s = make();
    const onAuth = jest.fn();
    s.on('auth_error', onAuth);
    const task = lastTask();
    task.open();
    task.serverSend('0{"sid":"e","pingInterval":25000,"pingTimeout":20000}');
    task.serverSend('44{"message":"refused","data":{"code":"token_expired","message":"expired"}}');
    expect(onAuth).toHaveBeenCalledWith({ code: 'token_expired', message: 'expired' });
    jest.advanceTimersByTime(60000);
    expect(wx.connectSocket).toHaveBeenCalledTimes(1);
  });

  test('close() stops for good', () => {
    const s = make();
    handshake(lastTask());
    s.close();
    jest.advanceTimersByTime(60000);
    expect(wx.connectSocket).toHaveBeenCalledTimes(1);
  });
});

describe('seq: dedupe and resume (CONTRACT §7)', () => {
  test('watch sends afterSeq, applies missed in seq order, then drops duplicates and old events', async () => {
    const s = make();
    const task = lastTask();
    handshake(task);
    const seen = [];
    s.on('order.status', (e) => seen.push(['status', e.seq, e.status]));
    s.on('chat.message', (e) => seen.push(['chat', e.seq, e.text]));
    const w = s.watchOrder(7, 2);
    const watch = sentEvents(task).find((e) => e.name === 'order.watch');
    expect(watch.data).toEqual({ orderId: 7, afterSeq: 2 });
    ack(task, watch.id, {
      ok: true,
      order: { id: 7, seq: 5 },
      missed: [
        { type: 'chat', seq: 4, from: 'provider', text: '马上到' },
        { type: 'status', seq: 3, status: 'accepted', at: 't3' },
        { type: 'status', seq: 5, status: 'departed', at: 't5' },
      ],
    });
    await w;
    push(task, 'order.status', { orderId: 7, seq: 5, status: 'departed' }); // also pushed: duplicate
    push(task, 'order.status', { orderId: 7, seq: 4, status: 'accepted' }); // old
    push(task, 'order.status', { orderId: 7, seq: 6, status: 'arrived' });
    push(task, 'order.status', { orderId: 7, seq: 6, status: 'arrived' }); // twice
    expect(seen).toEqual([
      ['status', 3, 'accepted'],
      ['chat', 4, '马上到'],
      ['status', 5, 'departed'],
      ['status', 6, 'arrived'],
    ]);
    expect(s.lastSeq(7)).toBe(6);
    s.close();
  });

  test('after a reconnect every watched order is watched again from its last seq and the gap is filled', async () => {
    const s = make({ minDelayMs: 100 });
    let task = lastTask();
    handshake(task);
    const seen = [];
    s.on('order.status', (e) => seen.push(e.seq + ':' + e.status));
    const w = s.watchOrder(7, 1);
    ack(task, sentEvents(task).find((e) => e.name === 'order.watch').id, { ok: true, order: {}, missed: [] });
    await w;
    push(task, 'order.status', { orderId: 7, seq: 2, status: 'accepted' });
    task.drop(); // statuses 3 and 4 are written while we are away
    jest.advanceTimersByTime(100);
    task = lastTask();
    handshake(task);
    const rewatch = sentEvents(task).find((e) => e.name === 'order.watch');
    expect(rewatch.data).toEqual({ orderId: 7, afterSeq: 2 });
    push(task, 'order.status', { orderId: 7, seq: 4, status: 'arrived' }); // pushed before the ack: a gap
    ack(task, rewatch.id, {
      ok: true,
      order: {},
      missed: [
        { type: 'status', seq: 3, status: 'departed' },
        { type: 'status', seq: 4, status: 'arrived' },
      ],
    });
    await flush();
    push(task, 'order.status', { orderId: 7, seq: 4, status: 'arrived' });
    expect(seen).toEqual(['2:accepted', '3:departed', '4:arrived']);
    s.close();
  });

  test('a gap in pushed events triggers a watch with afterSeq = the last seq held', async () => {
    const s = make();
    const task = lastTask();
    handshake(task);
    const seen = [];
    s.on('order.status', (e) => seen.push(e.seq));
    const w = s.watchOrder(9, 10);
    ack(task, sentEvents(task).find((e) => e.name === 'order.watch').id, { ok: true, missed: [] });
    await w;
    push(task, 'order.status', { orderId: 9, seq: 13, status: 'arrived' });
    expect(seen).toEqual([]);
    const again = sentEvents(task).filter((e) => e.name === 'order.watch');
    expect(again).toHaveLength(2);
    expect(again[1].data).toEqual({ orderId: 9, afterSeq: 10 });
    ack(task, again[1].id, { ok: true, missed: [11, 12, 13].map((seq) => ({ type: 'status', seq, status: 's' + seq })) });
    await flush();
    expect(seen).toEqual([11, 12, 13]);
    s.close();
  });

  test('events without seq (provider.location, order.offer) pass straight through', () => {
    const s = make();
    const task = lastTask();
    handshake(task);
    const loc = jest.fn();
    s.on('provider.location', loc);
    push(task, 'provider.location', { orderId: 7, providerId: 2, lat: 39.9, lng: 116.4, at: 't' });
    push(task, 'provider.location', { orderId: 7, providerId: 2, lat: 39.91, lng: 116.41, at: 't2' });
    expect(loc).toHaveBeenCalledTimes(2);
    s.close();
  });
});

test('a watch in flight when the connection drops is sent again on the next connection', async () => {
  const s = make({ minDelayMs: 100 });
  let task = lastTask();
  handshake(task);
  const seen = [];
  s.on('order.status', (e) => seen.push(e.seq));
  const first = s.watchOrder(3, 4);
  expect(sentEvents(task).filter((e) => e.name === 'order.watch')).toHaveLength(1);
  task.drop(); // no ack ever comes
  await expect(first).resolves.toBeNull();
  jest.advanceTimersByTime(100);
  task = lastTask();
  handshake(task);
  const w = sentEvents(task).find((e) => e.name === 'order.watch');
  expect(w.data).toEqual({ orderId: 3, afterSeq: 4 });
  ack(task, w.id, { ok: true, missed: [{ type: 'status', seq: 5, status: 'completed' }] });
  await flush();
  expect(seen).toEqual([5]);
  s.close();
});

test('wx.connectSocket throwing is retried later', () => {
  wx.connectSocket.mockImplementationOnce(() => {
    throw new Error('too many sockets');
  });
  const s = make({ minDelayMs: 100 });
  expect(s.task).toBeNull();
  jest.advanceTimersByTime(100);
  expect(wx.connectSocket).toHaveBeenCalledTimes(2);
  handshake(lastTask());
  expect(s.connected).toBe(true);
  s.close();
});
