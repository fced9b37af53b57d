// The one request module: wx.request wrapped in a Promise.
// - base URL from utils/config.js, `Authorization: Bearer <token>` from storage;
// - the contract's error shape {"error": {code, message}} (CONTRACT §2) becomes a rejected
//   ApiError with .code, .message, .status (and .fields / .retryAfter when the hub sends them);
//   a network failure is an ApiError with code 'network_error' and status 0;
// - GET/HEAD (and a POST carrying an Idempotency-Key) are retried on a network failure or a
//   502/503/504, with a doubling delay; nothing else is ever retried;
// - a 401 clears the stored token and calls the handler set with onUnauthorized (log in again).
const config = require('./config');

class ApiError extends Error {
  constructor(code, message, status, extra) {
    super(message || code);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    if (extra) {
      for (const k of Object.keys(extra)) {
        if (k !== 'code' && k !== 'message') this[k] = extra[k];
      }
    }
  }
}

const RETRY_STATUSES = [502, 503, 504];
let unauthorizedHandler = null;
let sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

// tests replace the delay between retries
function setSleep(fn) {
  sleep = fn;
}

function getToken() {
  try {
    return wx.getStorageSync(config.KEYS.token) || '';
  } catch (e) {
    return '';
  }
}

function buildQuery(query) {
  if (!query) return '';
  const parts = [];
  for (const k of Object.keys(query)) {
    const v = query[k];
    if (v === undefined || v === null || v === '') continue;
    parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(String(v)));
  }
  return parts.length ? '?' + parts.join('&') : '';
}

// Turn a wx.request success (any HTTP status) into a value or an ApiError.
function toResult(res) {
  const status = res.statusCode;
  let body = res.data;
  if (typeof body === 'string' && body) {
    try {
      body = JSON.parse(body);
    } catch (e) {
      // leave as text
    }
  }
  if (status >= 200 && status < 300) return { ok: true, value: body };
  const err = body && typeof body === 'object' && body.error && typeof body.error === 'object' ? body.error : null;
  if (err && err.code) {
    return { ok: false, error: new ApiError(err.code, err.message || err.code, status, err) };
  }
  return { ok: false, error: new ApiError('http_' + status, 'HTTP ' + status, status) };
}

function once(opts) {
  return new Promise((resolve) => {
    wx.request({
      url: opts.url,
      method: opts.method,
      data: opts.data,
      header: opts.header,
      timeout: opts.timeout || 15000,
      success: (res) => resolve(toResult(res)),
      fail: (e) =>
        resolve({
          ok: false,
          network: true,
          error: new ApiError('network_error', (e && e.errMsg) || 'network error', 0),
        }),
    });
  });
}

// A 401: forget the token and let the app log in again (utils/upload.js calls this too).
function handleUnauthorized(err) {
  try {
    wx.removeStorageSync(config.KEYS.token);
  } catch (e) {
    // ignore
  }
  if (unauthorizedHandler) unauthorizedHandler(err);
}

function newIdempotencyKey() {
  const rand = () => Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return Date.now().toString(16) + '-' + rand() + rand() + rand();
}

// request({method, path, data, query, auth = true, idempotencyKey, retries})
async function request(opts) {
  const method = (opts.method || 'GET').toUpperCase();
  const header = Object.assign({ 'Content-Type': 'application/json' }, opts.header || {});
  if (opts.auth !== false) {
    const token = getToken();
    if (token) header.Authorization = 'Bearer ' + token;
  }
  if (opts.idempotencyKey) header['Idempotency-Key'] = opts.idempotencyKey;
  const idempotent = method === 'GET' || method === 'HEAD' || !!opts.idempotencyKey;
  const retries = idempotent ? (opts.retries !== undefined ? opts.retries : config.retry.attempts) : 0;
  const url = config.baseUrl() + opts.path + buildQuery(opts.query);

  let attempt = 0;
  for (;;) {
    const r = await once({ url, method, data: opts.data, header, timeout: opts.timeout });
    if (r.ok) return r.value;
    const retryable = r.network || RETRY_STATUSES.indexOf(r.error.status) >= 0;
    if (retryable && attempt < retries) {
      await sleep(config.retry.baseDelayMs * Math.pow(2, attempt));
      attempt += 1;
      continue;
    }
    if (r.error.status === 401 && opts.auth !== false) handleUnauthorized(r.error);
    throw r.error;
  }
}

const get = (path, query, opts) => request(Object.assign({ method: 'GET', path, query }, opts));
const post = (path, data, opts) => request(Object.assign({ method: 'POST', path, data }, opts));

// Show an ApiError to the user (Chinese UI): the hub's message, or a generic one.
function showError(err) {
  let title = (err && err.message) || '出错了，请稍后再试';
  if (err && err.code === 'network_error') title = '网络不可用，请稍后再试';
  if (err && err.code === 'rate_limited') title = '操作太频繁，请稍后再试';
  wx.showToast({ title: String(title).slice(0, 40), icon: 'none' });
}

module.exports = {
  ApiError,
  request,
  get,
  post,
  getToken,
  onUnauthorized,
  handleUnauthorized,
  setSleep,
  newIdempotencyKey,
  showError,
  buildQuery,
};
