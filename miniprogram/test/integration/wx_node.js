// A `wx` for Node, so the mini program's own modules and page logic run against a real hub:
// wx.request over fetch, wx.connectSocket over a real WebSocket (npm `ws`), wx.uploadFile as a
// real multipart POST, wx.requestPayment through the WeChat sandbox's cashier (what the WeChat
// app does with the paymentParams), storage in a Map. Not a mock of the hub: every call leaves
// this process. UI calls (toast, navigation) are recorded for the flow to read.
const fs = require('fs');
const path = require('path');
const WebSocket = require('ws');

function createWx(opts) {
  const o = opts || {};
  const store = new Map();
  const sockets = [];
  const wx = {
    __store: store,
    __sockets: sockets,
    __toasts: [],
    __navigations: [],
    __calls: [],
    __subscribeAsked: [],
    __blockConnect: false, // a flow sets it to keep the network "down" for a while
    getStorageSync: (k) => (store.has(k) ? store.get(k) : ''),
    setStorageSync: (k, v) => store.set(k, v),
    removeStorageSync: (k) => store.delete(k),
    getAccountInfoSync: () => ({ miniProgram: { envVersion: 'develop' } }),
    login: (a) => a.fail({ errMsg: 'login:fail (Node: the sandbox code in storage is used)' }),

    request(a) {
      const headers = Object.assign({}, a.header || {});
      const method = (a.method || 'GET').toUpperCase();
      const init = { method, headers, signal: AbortSignal.timeout(a.timeout || 15000) };
      if (a.data !== undefined && method !== 'GET' && method !== 'HEAD') {
        init.body = typeof a.data === 'string' ? a.data : JSON.stringify(a.data);
      }
      fetch(a.url, init).then(
        async (res) => {
          const text = await res.text();
          let data = text;
          try {
            data = text ? JSON.parse(text) : '';
          } catch (e) {
            // not JSON: the text, as wx.request gives it
          }
          a.success && a.success({ statusCode: res.status, data, header: Object.fromEntries(res.headers.entries()) });
          a.complete && a.complete();
        },
        (e) => {
          a.fail && a.fail({ errMsg: 'request:fail ' + e.message });
          a.complete && a.complete();
        }
      );
      return { abort() {} };
    },

    uploadFile(a) {
      const form = new FormData();
      const bytes = fs.readFileSync(a.filePath);
      form.append(a.name, new Blob([bytes]), path.basename(a.filePath));
      fetch(a.url, { method: 'POST', headers: a.header || {}, body: form }).then(
        async (res) => a.success && a.success({ statusCode: res.status, data: await res.text() }),
        (e) => a.fail && a.fail({ errMsg: 'uploadFile:fail ' + e.message })
      );
    },

    // The WeChat app's side of wx.requestPayment: the sandbox's cashier takes the same params.
    requestPayment(a) {
      const params = {};
      for (const k of ['appId', 'timeStamp', 'nonceStr', 'package', 'signType', 'paySign']) params[k] = a[k];
      fetch(o.sandboxUrl + '/sandbox/pay/cashier', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(Object.assign(params, { outcome: o.payOutcome || 'success' })),
      })
        .then((res) => res.json())
        .then(
          (body) => (body.errMsg === 'requestPayment:ok' ? a.success && a.success(body) : a.fail && a.fail(body)),
          (e) => a.fail && a.fail({ errMsg: 'requestPayment:fail ' + e.message })
        );
    },

    // The WeChat app's side of the subscribe dialog: the user accepts every template, WeChat
    // records the consent (the sandbox's consent page, for the logged-in sandbox code), then
    // answers the mini program as WeChat does ({<templateId>: 'accept'}).
    requestSubscribeMessage(a) {
      const code = store.get('orderhub.sandboxCode');
      wx.__subscribeAsked.push(a.tmplIds.slice());
      Promise.all(
        a.tmplIds.map((templateId) =>
          fetch(o.sandboxUrl + '/sandbox/subscribe/consent', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ code, templateId }),
          }).then((res) => {
            if (!res.ok) throw new Error('consent ' + res.status);
          })
        )
      ).then(
        () => a.success && a.success(Object.assign({ errMsg: 'requestSubscribeMessage:ok' }, ...a.tmplIds.map((id) => ({ [id]: 'accept' })))),
        (e) => a.fail && a.fail({ errMsg: 'requestSubscribeMessage:fail ' + e.message })
      );
    },

    makePhoneCall: (a) => wx.__calls.push(a.phoneNumber),

    connectSocket(a) {
      const task = new SocketTask(a.url, wx.__blockConnect);
      sockets.push(task);
      return task;
    },

    chooseLocation: (a) => a.success(o.location),
    chooseMedia: (a) => a.success({ tempFiles: (o.photos || []).map((p) => ({ tempFilePath: p })) }),
    showToast: (a) => wx.__toasts.push(a.title),
    showLoading() {},
    hideLoading() {},
    showModal: (a) => a.success && a.success({ confirm: true, cancel: false }),
    showActionSheet: (a) => a.success && a.success({ tapIndex: 0 }),
    navigateTo: (a) => wx.__navigations.push(a.url),
    redirectTo: (a) => wx.__navigations.push(a.url),
    navigateBack() {},
    stopPullDownRefresh() {},
    setNavigationBarTitle() {},
  };
  return wx;
}

// wx.connectSocket's SocketTask over `ws`. `blocked`: the network is down (the dial fails).
class SocketTask {
  constructor(url, blocked) {
    this.handlers = {};
    this.ws = null;
    setTimeout(() => {
      if (blocked) {
        this._emit('error', { errMsg: 'connectSocket:fail network down' });
        this._emit('close', { code: 1006, reason: 'network down' });
        return;
      }
      const ws = new WebSocket(url);
      this.ws = ws;
      ws.on('open', () => this._emit('open', {}));
      ws.on('message', (data) => this._emit('message', { data: data.toString() }));
      ws.on('error', (e) => this._emit('error', { errMsg: e.message }));
      ws.on('close', (code, reason) => this._emit('close', { code, reason: String(reason) }));
    }, 0);
  }
  onOpen(fn) { this.handlers.open = fn; }
  onMessage(fn) { this.handlers.message = fn; }
  onClose(fn) { this.handlers.close = fn; }
  onError(fn) { this.handlers.error = fn; }
  _emit(name, arg) {
    if (this.handlers[name]) this.handlers[name](arg);
  }
  send(a) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(a.data);
  }
  close() {
    if (this.ws) this.ws.close();
  }
  // the network drops under the app: no close frame, the connection is just gone
  drop() {
    if (this.ws) this.ws.terminate();
  }
}

module.exports = { createWx };
