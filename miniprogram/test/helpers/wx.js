// A wx.* mock for jest: storage backed by a Map, wx.request routed to handlers, every other
// call a jest.fn. installWx() puts a fresh one on global.wx and returns it.
function installWx() {
  const store = new Map();
  const routes = [];
  const wx = {
    __store: store,
    __requests: [],
    // route(method, pathRegex, handler(req) → {statusCode, data} | 'fail')
    __route(method, pattern, handler) {
      routes.unshift({ method, pattern, handler });
    },
    getStorageSync: jest.fn((k) => (store.has(k) ? store.get(k) : '')),
    setStorageSync: jest.fn((k, v) => store.set(k, v)),
    removeStorageSync: jest.fn((k) => store.delete(k)),
    getAccountInfoSync: jest.fn(() => ({ miniProgram: { envVersion: 'develop' } })),
    request: jest.fn((opts) => {
      const url = new URL(opts.url);
      const req = {
        url: opts.url,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams.entries()),
        method: opts.method || 'GET',
        data: opts.data,
        header: opts.header || {},
      };
      wx.__requests.push(req);
      const route = routes.find((r) => r.method === req.method && r.pattern.test(req.path));
      const res = route ? route.handler(req) : { statusCode: 404, data: { error: { code: 'not_found', message: 'no route' } } };
      Promise.resolve(res).then((r) => {
        if (r === 'fail') opts.fail && opts.fail({ errMsg: 'request:fail timeout' });
        else opts.success && opts.success({ statusCode: r.statusCode || 200, data: r.data, header: {} });
        opts.complete && opts.complete();
      });
      return { abort: jest.fn() };
    }),
    login: jest.fn((opts) => opts.success({ code: 'sandbox-alice' })),
    showToast: jest.fn(),
    showLoading: jest.fn(),
    hideLoading: jest.fn(),
    showModal: jest.fn((opts) => opts.success && opts.success({ confirm: true, cancel: false })),
    showActionSheet: jest.fn(),
    navigateTo: jest.fn(),
    redirectTo: jest.fn(),
    chooseLocation: jest.fn(),
    stopPullDownRefresh: jest.fn(),
    setNavigationBarTitle: jest.fn(),
    makePhoneCall: jest.fn(),
    // the subscribe dialog closed without an answer; a test that wants one answers it
    requestSubscribeMessage: jest.fn((opts) => opts.success && opts.success({ errMsg: 'requestSubscribeMessage:ok' })),
    connectSocket: jest.fn(() => new FakeSocketTask()),
  };
  global.wx = wx;
  return wx;
}

// A wx SocketTask whose far end the test plays: serverSend(frame), sent frames in .sent.
class FakeSocketTask {
  constructor() {
    this.sent = [];
    this.handlers = {};
    this.closed = false;
  }
  onOpen(fn) { this.handlers.open = fn; }
  onMessage(fn) { this.handlers.message = fn; }
  onClose(fn) { this.handlers.close = fn; }
  onError(fn) { this.handlers.error = fn; }
  send(opts) { this.sent.push(opts.data); }
  close() { this.closed = true; }
  // far end
  open() { this.handlers.open && this.handlers.open({}); }
  serverSend(frame) { this.handlers.message && this.handlers.message({ data: frame }); }
  drop(code) { this.handlers.close && this.handlers.close({ code: code || 1006, reason: 'gone' }); }
  fail() { this.handlers.error && this.handlers.error({ errMsg: 'connectSocket:fail' }); }
}

// Play the hub's side of a connect: Engine.IO open, then Socket.IO CONNECT.
function handshake(task, opts) {
  const o = opts || {};
  task.open();
  task.serverSend('0' + JSON.stringify({ sid: o.sid || 'eio-sid', upgrades: [], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1000000 }));
  task.serverSend('40' + JSON.stringify({ sid: o.sioSid || 'sio-sid' }));
}

// The events the client sent on a task: [{id, name, data}]
function sentEvents(task) {
  const out = [];
  for (const f of task.sent) {
    const m = /^42(\d*)(\[.*)$/s.exec(f);
    if (!m) continue;
    const args = JSON.parse(m[2]);
    out.push({ id: m[1] === '' ? null : Number(m[1]), name: args[0], data: args[1] });
  }
  return out;
}

// Answer the client's event `id` with an ack payload.
function ack(task, id, payload) {
  task.serverSend('43' + id + JSON.stringify([payload]));
}

function push(task, name, data) {
  task.serverSend('42' + JSON.stringify([name, data]));
}

// The socket task the app opened last (a reconnect opens a new one).
function lastSocketTask(wx) {
  const opened = wx.connectSocket.mock.results;
  return opened[opened.length - 1].value;
}

// Let pending promise chains run (works under fake timers too).
async function flush(rounds) {
  for (let i = 0; i < (rounds || 50); i++) await Promise.resolve();
}

module.exports = { installWx, FakeSocketTask, handshake, sentEvents, ack, push, flush, lastSocketTask };
