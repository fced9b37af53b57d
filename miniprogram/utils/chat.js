// An order's chat (CONTRACT §5 messages, §7 chat.send / chat.message) for pages/common/messages:
// the history from GET /api/orders/{id}/messages, then live messages from the app's socket
// (which already drops a seq it holds), kept once each by msgId and in seq order. Sending
// carries a clientMsgId, so a resend after a lost ack is still one message at the hub.
const api = require('./api');

const MAX_TEXT = 500;

function newClientMsgId() {
  return 'c' + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
}

class OrderChat {
  // opts: {orderId, socket, role ('customer' | 'provider'), onChange(messages)}
  constructor(opts) {
    this.orderId = Number(opts.orderId);
    this.socket = opts.socket;
    this.role = opts.role || 'customer';
    this.onChange = opts.onChange || (() => {});
    this.byId = {}; // msgId → message
    this.pending = []; // {clientMsgId, text, state: 'sending' | 'failed'}
    this.offs = [];
    this.ownWatch = false;
  }

  // Load the history and start listening; resolves with the messages.
  start(orderSeq) {
    this.offs.push(this.socket.on('chat.message', (m) => this.add(m)));
    // watch the order unless a page below (the order's detail) already does; then leave it
    // watched when this page closes
    if (this.socket.lastSeq(this.orderId) === undefined) {
      this.ownWatch = true;
      this.socket.watchOrder(this.orderId, typeof orderSeq === 'number' ? orderSeq : 0);
    }
    return api.get('/api/orders/' + this.orderId + '/messages', { afterSeq: 0, limit: 200 }).then((res) => {
      for (const m of res.items || []) this.add(Object.assign({ orderId: this.orderId }, m), true);
      this.changed();
      return this.messages();
    });
  }

  stop() {
    for (const off of this.offs) off();
    this.offs = [];
    if (this.ownWatch) this.socket.unwatchOrder(this.orderId);
  }

  add(m, quiet) {
    if (!m || String(m.orderId) !== String(this.orderId) || m.msgId === undefined) return;
    if (this.byId[m.msgId]) return;
    this.byId[m.msgId] = m;
    if (!quiet) this.changed();
  }

  mine(m) {
    return String(m.from || '').split(':')[0] === this.role;
  }

  messages() {
    const sent = Object.keys(this.byId)
      .map((k) => this.byId[k])
      .sort((a, b) => a.seq - b.seq)
      .map((m) => ({ key: 'm' + m.msgId, msgId: m.msgId, seq: m.seq, text: m.text, at: m.at, mine: this.mine(m), state: 'sent' }));
    const waiting = this.pending.map((p) => ({ key: p.clientMsgId, text: p.text, mine: true, state: p.state, clientMsgId: p.clientMsgId }));
    return sent.concat(waiting);
  }

  changed() {
    this.onChange(this.messages());
  }

  // Send a text (trimmed, 1–500 characters); resolves true once the hub has it.
  send(text, clientMsgId) {
    const t = String(text || '').trim();
    if (!t || t.length > MAX_TEXT) return Promise.resolve(false);
    let p = this.pending.find((x) => x.clientMsgId === clientMsgId);
    if (p) p.state = 'sending';
    else {
      p = { clientMsgId: clientMsgId || newClientMsgId(), text: t, state: 'sending' };
      this.pending.push(p);
    }
    this.changed();
    return this.socket.emit('chat.send', { orderId: this.orderId, text: t, clientMsgId: p.clientMsgId }).then(
      (ack) => {
        if (ack && ack.ok) {
          this.pending = this.pending.filter((x) => x !== p);
          this.add({ orderId: this.orderId, msgId: ack.msgId, seq: ack.seq, from: this.role + ':me', text: t, at: new Date().toISOString() }, true);
          this.changed();
          return true;
        }
        p.state = 'failed';
        this.changed();
        api.showError(new api.ApiError((ack && ack.error && ack.error.code) || 'error', (ack && ack.error && ack.error.message) || '发送失败', 0));
        return false;
      },
      () => {
        p.state = 'failed';
        this.changed();
        return false;
      }
    );
  }

  resend(clientMsgId) {
    const p = this.pending.find((x) => x.clientMsgId === clientMsgId);
    return p ? this.send(p.text, clientMsgId) : Promise.resolve(false);
  }
}

module.exports = { OrderChat, MAX_TEXT, newClientMsgId };
