// The provider's side of the integration flow, in a process of its own (its own wx storage
// and token): the mini program's utils/auth, utils/api and utils/socket against the real hub.
// The flow (flow.js) sends commands over IPC: {id, cmd, args} → {id, ok, result | error}.
const { createWx } = require('./wx_node');

global.wx = createWx({});
const config = require('../../utils/config');

wx.setStorageSync(config.KEYS.baseUrl, process.env.HUB_URL);
wx.setStorageSync(config.KEYS.sandboxCode, process.env.PROVIDER_CODE);

const api = require('../../utils/api');
const auth = require('../../utils/auth');
const { HubSocket } = require('../../utils/socket');

const offers = [];
const chats = [];
let socket = null;

function until(fn, ms, what) {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      const v = fn();
      if (v) return resolve(v);
      if (Date.now() > end) return reject(new Error('provider: timed out waiting for ' + what));
      setTimeout(tick, 25);
    };
    tick();
  });
}

const commands = {
  async online({ lat, lng }) {
    await auth.login('provider');
    socket = new HubSocket({ url: config.socketUrl(), getToken: api.getToken });
    socket.on('order.offer', (o) => offers.push(Object.assign({ seenAt: Date.now() }, o)));
    socket.on('chat.message', (m) => chats.push(m));
    const connected = new Promise((resolve) => socket.on('connect', resolve));
    socket.connect();
    await connected;
    const ack = await socket.emit('provider.online', { lat, lng });
    if (!ack.ok) throw new Error('provider.online refused: ' + JSON.stringify(ack.error));
    return { userId: auth.currentUser().id };
  },

  // wait for the order's offer in the hall, then grab it (the socket's order.grab)
  async grab({ orderId }) {
    const offer = await until(() => offers.find((o) => o.orderId === orderId), 30000, 'the offer of order ' + orderId);
    const ack = await socket.emit('order.grab', { orderId });
    if (!ack.ok) throw new Error('grab refused: ' + JSON.stringify(ack.error));
    return { offer, status: ack.order.status };
  },

  async act({ orderId, action, body }) {
    const order = await api.post('/api/orders/' + orderId + '/' + action, body || {});
    return { status: order.status, seq: order.seq };
  },

  async location({ lat, lng }) {
    const ack = await socket.emit('location.update', { lat, lng, at: new Date().toISOString() });
    if (!ack.ok) throw new Error('location.update refused: ' + JSON.stringify(ack.error));
    return {};
  },

  // wait for the customer's message, then answer it
  async reply({ orderId, heard, text }) {
    await until(() => chats.find((m) => m.orderId === orderId && m.text === heard), 15000, 'the message "' + heard + '"');
    const ack = await socket.emit('chat.send', { orderId, text, clientMsgId: 'p-' + Date.now() });
    if (!ack.ok) throw new Error('chat.send refused: ' + JSON.stringify(ack.error));
    return { seq: ack.seq };
  },

  async offline() {
    await socket.emit('provider.offline', {});
    socket.close();
    return {};
  },
};

process.on('message', async (msg) => {
  try {
    const result = await commands[msg.cmd](msg.args || {});
    process.send({ id: msg.id, ok: true, result });
  } catch (e) {
    process.send({ id: msg.id, ok: false, error: String((e && e.message) || e) });
  }
});
process.on('disconnect', () => process.exit(0));
