// Where the hub is, per mini program environment (wx.getAccountInfoSync().miniProgram.envVersion).
// 'develop' is the local hub (`make run`); set trial/release to the deployed hub's HTTPS URL
// (WeChat only allows https/wss domains listed in the mini program's admin console).
// A developer can point a build at another hub without editing this file:
//   wx.setStorageSync('orderhub.baseUrl', 'http://192.168.1.20:8000')
const HUBS = {
  develop: 'http://127.0.0.1:8000',
  trial: 'https://hub-trial.example.com',
  release: 'https://hub.example.com',
};

// Subscribe-message templates (CONTRACT §13): the hub speaks template KEYS, WeChat template IDS,
// which belong to one mini program's account. 'develop' uses the local WeChat sandbox's ids
// (the hub's defaults, adapters/settings.py SANDBOX_TEMPLATES); set trial/release to the ids
// of the real account (mp.weixin.qq.com → 订阅消息), the same the hub has in WECHAT_TEMPLATE_*.
const SANDBOX_TEMPLATES = {
  order_accepted: 'OhAccept-MJrNwlsnyWB37ukDsl0XCmOCYwGri2XurU',
  order_departed: 'OhDepart-kiLNvpiPFFBBcF9vdh4O9BFQ6xOZLNRq4S',
  order_arrived: 'OhArrive-qjZ9SnbGTrv4xhsEkTUps8GPyF7e23jV2P',
  order_completed: 'OhDone-FFVontxsoSNWGIVqJwjIHIGQ4RItDAjmNO3Y',
  payment_due: 'OhPayDue-uPc3lzyYBJOPqyiQoLe48OcjgcVnzSmsJT',
  job_reminder: 'OhJobTmr-Gd55i0i28JuUniMiRGAsJooV2E2LyjTtiT',
  withdrawal_result: 'OhWithdr-BWYijwvBB6EDKIUWCUqJQhfskzKQcCCOsx',
};
const TEMPLATES = {
  develop: SANDBOX_TEMPLATES,
  trial: {},
  release: {},
};

const KEYS = {
  token: 'orderhub.token',
  user: 'orderhub.user',
  baseUrl: 'orderhub.baseUrl',
  // develop builds only: a WeChat sandbox login code (sandbox-<name>) used instead of wx.login's
  sandboxCode: 'orderhub.sandboxCode',
  // develop builds only: the WeChat sandbox's URL, whose cashier then pays (utils/pay.js)
  sandboxCashier: 'orderhub.sandboxCashier',
};

function envVersion() {
  try {
    if (typeof wx !== 'undefined' && typeof wx.getAccountInfoSync === 'function') {
      const info = wx.getAccountInfoSync();
      return (info && info.miniProgram && info.miniProgram.envVersion) || 'develop';
    }
  } catch (e) {
    // not available (older base library, tests): fall through
  }
  return 'develop';
}

// A develop-only setting kept in storage under `key` (a sandbox login code, the sandbox's
// cashier): '' in trial and release builds, or when unset.
function developSetting(key) {
  if (envVersion() !== 'develop') return '';
  try {
    return wx.getStorageSync(key) || '';
  } catch (e) {
    return '';
  }
}

function baseUrl() {
  try {
    const override = typeof wx !== 'undefined' && wx.getStorageSync && wx.getStorageSync(KEYS.baseUrl);
    if (override) return String(override).replace(/\/+$/, '');
  } catch (e) {
    // ignore
  }
  return HUBS[envVersion()] || HUBS.develop;
}

// ws(s)://host:port/socket.io/?EIO=4&transport=websocket
function socketUrl() {
  return baseUrl().replace(/^http/, 'ws') + '/socket.io/?EIO=4&transport=websocket';
}

// key → template id for this build (a key without an id is never asked for)
function templates() {
  return TEMPLATES[envVersion()] || {};
}

module.exports = {
  HUBS,
  TEMPLATES,
  templates,
  KEYS,
  baseUrl,
  socketUrl,
  envVersion,
  developSetting,
  // request retries (idempotent calls only) and socket back-off
  retry: { attempts: 2, baseDelayMs: 300 },
  socket: { minDelayMs: 500, maxDelayMs: 15000, factor: 2, heartbeatMs: 10000, ackTimeoutMs: 10000 },
  pageSize: 10,
};
