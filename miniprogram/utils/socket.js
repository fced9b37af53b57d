// The one socket module: a Socket.IO v4 client (Engine.IO protocol 4) over wx.connectSocket,
// the only transport a mini program has (CONTRACT §7). The packet framing (Engine.IO and
// Socket.IO types, encode/decode, ack ids in frames) is in ./sio_packets; this file holds the
// connection, acks, heartbeat, reconnect and the resume-by-seq rule; on/off come from
// ./listeners.
//
// What this module adds:
// - emit(name, data) → Promise of the ack (ack ids count up per connection; a time-out rejects);
//   emits made while disconnected wait for the next connection; those in flight when the
//   connection drops reject with code 'disconnected';
// - a `heartbeat` event every config.socket.heartbeatMs, and the Engine.IO ping → pong;
// - reconnect after any drop with a doubling back-off (min..max), reset once connected;
//   a refused token (connect_error invalid_token / token_expired / missing_token) stops and
//   emits 'auth_error', as does connect() without a token (nothing is dialled);
// - the resume rule: the last seq held per watched order; order.status / chat.message events
//   with seq ≤ last are dropped; a gap (seq > last + 1) or a reconnect sends
//   order.watch {orderId, afterSeq: last} and applies `missed` in order.
const config = require('./config');
const { EIO, SIO, encodeConnect, encodeEvent, decodeFrame } = require('./sio_packets');
const Listeners = require('./listeners');

const SEQ_EVENTS = { 'order.status': 'status', 'chat.message': 'chat' };
const AUTH_CODES = ['invalid_token', 'token_expired', 'missing_token'];

// ---- the client ----

class HubSocket extends Listeners {
  // opts: {url, getToken, connectSocket (defaults to wx.connectSocket), minDelayMs, maxDelayMs,
  //        factor, heartbeatMs, ackTimeoutMs, random}
  constructor(opts) {
    super();
    const o = opts || {};
    const d = config.socket;
    this.url = o.url || null;
    this.getToken = o.getToken || (() => '');
    this.connectSocket = o.connectSocket || ((args) => wx.connectSocket(args));
    this.minDelayMs = o.minDelayMs !== undefined ? o.minDelayMs : d.minDelayMs;
    this.maxDelayMs = o.maxDelayMs !== undefined ? o.maxDelayMs : d.maxDelayMs;
    this.factor = o.factor || d.factor;
    this.heartbeatMs = o.heartbeatMs !== undefined ? o.heartbeatMs : d.heartbeatMs;
    this.ackTimeoutMs = o.ackTimeoutMs !== undefined ? o.ackTimeoutMs : d.ackTimeoutMs;
    this.random = o.random || Math.random;

    this.task = null;
    this.connected = false; // Socket.IO CONNECT acknowledged
    this.stopped = true;
    this.attempts = 0;
    this.nextAckId = 0;
    this.acks = {}; // id -> {resolve, reject, timer, sent}
    this.queue = []; // [{id, frame}] emits waiting for a connection
    this.watched = {}; // orderId -> last seq held
    this.timers = { reconnect: null, heartbeat: null, ping: null };
    this.pingWindowMs = 0;
    this.sid = null;
    this.everConnected = false;
    this._watching = {};
  }

  // ---- connection ----
  connect() {
    this.stopped = false;
    if (this.task) return;
    this._open();
  }

  close() {
    this.stopped = true;
    this._clearTimer('reconnect');
    this._teardown('client close');
    if (this.task) {
      const t = this.task;
      this.task = null;
      try {
        t.send({ data: EIO.MESSAGE + SIO.DISCONNECT });
      } catch (e) {
        // ignore
      }
      try {
        t.close({ code: 1000, reason: 'client close' });
      } catch (e) {
        // ignore
      }
    }
    this._rejectPending('closed');
  }

  _open() {
    if (!this.getToken()) {
      // the hub refuses a connection without a token: don't dial, say so
      this.stopped = true;
      this._fire('auth_error', { code: 'missing_token', message: 'no token: log in first' });
      return;
    }
    const url = this.url || config.socketUrl();
    let task;
    try {
      task = this.connectSocket({ url, header: {} });
    } catch (e) {
      // e.g. the limit of open sockets: try again later
      this._scheduleReconnect();
      return;
    }
    this.task = task;
    task.onOpen(() => {
      // Engine.IO sends its open packet first; we answer it with the Socket.IO CONNECT.
    });
    task.onMessage((msg) => {
      if (this.task !== task) return;
      this._onFrame(msg && msg.data);
    });
    task.onClose((res) => {
      if (this.task !== task) return;
      this._dropped('close' + (res && res.code ? ' ' + res.code : ''));
    });
    task.onError((err) => {
      if (this.task !== task) return;
      this._dropped('error' + (err && err.errMsg ? ': ' + err.errMsg : ''));
    });
  }

  _send(frame) {
    if (this.task) this.task.send({ data: frame });
  }

  _onFrame(frame) {
    const p = decodeFrame(frame);
    if (!p) return;
    if (p.eio === EIO.OPEN) {
      this.sid = p.data.sid;
      this.pingWindowMs = (p.data.pingInterval || 25000) + (p.data.pingTimeout || 20000);
      this._armPingWatch();
      this._send(encodeConnect({ token: this.getToken() }));
      return;
    }
    if (p.eio === EIO.PING) {
      this._armPingWatch();
      this._send(EIO.PONG);
      return;
    }
    if (p.eio === EIO.CLOSE) {
      this._dropTask('server close');
      return;
    }
    if (p.eio !== EIO.MESSAGE || !p.sio) return;
    const s = p.sio;
    if (s.nsp !== '/') return;
    if (s.type === SIO.CONNECT) {
      this._onConnected();
    } else if (s.type === SIO.CONNECT_ERROR) {
      const err = (s.data && s.data.data) || s.data || {};
      const code = err.code || 'connect_error';
      if (AUTH_CODES.indexOf(code) >= 0) {
        this.stopped = true;
        this._fire('auth_error', err);
        this._dropTask('auth refused');
        this._rejectPending(code);
      } else {
        this._fire('connect_error', err);
        this._dropTask('connect refused');
      }
    } else if (s.type === SIO.EVENT && Array.isArray(s.data)) {
      this._onEvent(s.data[0], s.data[1]);
    } else if (s.type === SIO.ACK && s.id !== null) {
      const pending = this.acks[s.id];
      if (!pending) return;
      delete this.acks[s.id];
      clearTimeout(pending.timer);
      pending.resolve(Array.isArray(s.data) ? s.data[0] : s.data);
    } else if (s.type === SIO.DISCONNECT) {
      this._dropTask('server disconnect');
    }
  }

  _onConnected() {
    const reconnect = this.everConnected;
    this.connected = true;
    this.everConnected = true;
    this.attempts = 0;
    this._startHeartbeat();
    const queued = this.queue;
    this.queue = [];
    for (const q of queued) {
      if (!this.acks[q.id]) continue; // timed out meanwhile
      this.acks[q.id].sent = true;
      this._send(q.frame);
    }
    this._fire('connect', { reconnect });
    // resume every watched order from the last seq it holds
    for (const orderId of Object.keys(this.watched)) this._watch(orderId);
  }

  // The task closed or failed: forget it, schedule a reconnect.
  _dropped(why) {
    this.task = null;
    const was = this.connected;
    this._teardown(why);
    if (was) this._fire('disconnect', { reason: why });
    this._scheduleReconnect();
  }

  // We decide to drop the task (server close, ping time-out, refused connect).
  _dropTask(why) {
    const t = this.task;
    this.task = null;
    if (t) {
      try {
        t.close({ code: 1000, reason: why });
      } catch (e) {
        // ignore
      }
    }
    const was = this.connected;
    this._teardown(why);
    if (was) this._fire('disconnect', { reason: why });
    this._scheduleReconnect();
  }

  _teardown() {
    this.connected = false;
    this._clearTimer('heartbeat');
    this._clearTimer('ping');
    // events sent over the lost connection will never be answered: fail them now (emits still
    // waiting in the queue go out on the next connection)
    for (const id of Object.keys(this.acks)) {
      const p = this.acks[id];
      if (!p.sent) continue;
      delete this.acks[id];
      clearTimeout(p.timer);
      p.reject(Object.assign(new Error('disconnected'), { code: 'disconnected' }));
    }
  }

  _rejectPending(code) {
    for (const id of Object.keys(this.acks)) {
      const p = this.acks[id];
      clearTimeout(p.timer);
      p.reject(Object.assign(new Error(code), { code }));
    }
    this.acks = {};
    this.queue = [];
  }

  reconnectDelay(attempt) {
    const base = Math.min(this.maxDelayMs, this.minDelayMs * Math.pow(this.factor, attempt));
    // up to 20 % jitter below the base, so many clients do not come back in step
    return Math.round(base * (1 - 0.2 * this.random()));
  }

  _scheduleReconnect() {
    if (this.stopped || this.timers.reconnect) return;
    const delay = this.reconnectDelay(this.attempts);
    this.attempts += 1;
    this._fire('reconnecting', { attempt: this.attempts, delay });
    this.timers.reconnect = setTimeout(() => {
      this.timers.reconnect = null;
      if (!this.stopped && !this.task) this._open();
    }, delay);
  }

  _clearTimer(name) {
    if (this.timers[name]) {
      clearTimeout(this.timers[name]);
      clearInterval(this.timers[name]);
      this.timers[name] = null;
    }
  }

  _armPingWatch() {
    this._clearTimer('ping');
    if (!this.pingWindowMs) return;
    this.timers.ping = setTimeout(() => {
      this.timers.ping = null;
      this._dropTask('ping timeout');
    }, this.pingWindowMs);
  }

  _startHeartbeat() {
    this._clearTimer('heartbeat');
    if (!this.heartbeatMs) return;
    this.timers.heartbeat = setInterval(() => {
      this.emit('heartbeat', {}).then(
        (ack) => this._fire('heartbeat', ack),
        () => {}
      );
    }, this.heartbeatMs);
  }

  // ---- emitting ----
  emit(name, data) {
    return new Promise((resolve, reject) => {
      const id = this.nextAckId++;
      const frame = encodeEvent(name, data === undefined ? {} : data, id);
      const timer = setTimeout(() => {
        if (this.acks[id]) {
          delete this.acks[id];
          reject(Object.assign(new Error('ack timeout: ' + name), { code: 'ack_timeout' }));
        }
      }, this.ackTimeoutMs);
      this.acks[id] = { resolve, reject, timer, sent: this.connected };
      if (this.connected) this._send(frame);
      else this.queue.push({ id, frame });
    });
  }

  // ---- orders and the seq rule ----

  // Start watching an order; lastSeq = the seq of the order as last fetched (REST), so the
  // watch's `missed` brings anything written since. Resolves with the ack ({ok, order, missed}).
  watchOrder(orderId, lastSeq) {
    const key = String(orderId);
    const held = this.watched[key];
    if (held === undefined || (typeof lastSeq === 'number' && lastSeq > held)) {
      this.watched[key] = typeof lastSeq === 'number' ? lastSeq : 0;
    }
    return this.connected ? this._watch(key) : Promise.resolve(null);
  }

  unwatchOrder(orderId) {
    const key = String(orderId);
    delete this.watched[key];
    if (this.connected) this.emit('order.unwatch', { orderId: Number(key) || orderId }).catch(() => {});
  }

  lastSeq(orderId) {
    return this.watched[String(orderId)];
  }

  _watch(key) {
    if (this._watching[key]) return this._watching[key];
    const afterSeq = this.watched[key];
    const orderId = Number(key) || key;
    const p = this.emit('order.watch', { orderId, afterSeq })
      .then((ack) => {
        if (ack && ack.ok) {
          const missed = (ack.missed || []).slice().sort((a, b) => a.seq - b.seq);
          for (const ev of missed) {
            const name = ev.type === 'chat' ? 'chat.message' : 'order.status';
            this._applySeq(name, Object.assign({ orderId }, ev), false);
          }
          this._fire('order.watched', { orderId, order: ack.order, missed });
        } else {
          this._fire('watch_error', { orderId, error: ack && ack.error });
        }
        return ack;
      })
      .catch((e) => {
        this._fire('watch_error', { orderId, error: { code: e.code || 'error', message: e.message } });
        return null;
      })
      .then((ack) => {
        delete this._watching[key];
        return ack;
      });
    this._watching[key] = p;
    return p;
  }

  // Deliver a seq-carrying event once and in order; true when it was delivered.
  _applySeq(name, data, allowRewatch) {
    const key = String(data.orderId);
    const last = this.watched[key];
    if (last === undefined) {
      // not watched: the hub still sends our own orders' events; deliver as they come
      this._fire(name, data);
      return true;
    }
    if (typeof data.seq !== 'number' || data.seq <= last) return false; // duplicate
    if (data.seq > last + 1 && allowRewatch) {
      // a gap: ask for everything after what we hold (this event comes back in `missed`)
      this._watch(key);
      return false;
    }
    this.watched[key] = data.seq;
    this._fire(name, data);
    return true;
  }

  _onEvent(name, data) {
    if (SEQ_EVENTS[name] && data && data.orderId !== undefined) {
      this._applySeq(name, data, true);
      return;
    }
    this._fire(name, data);
  }
}

module.exports = { HubSocket };
