const { installWx, flush } = require('./helpers/wx');

let wx;
let api;

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  api = require('../utils/api');
  api.setSleep(() => Promise.resolve());
});

test('sends the stored token as a Bearer token to the configured hub', async () => {
  wx.setStorageSync('orderhub.token', 'tok-1');
  wx.__route('GET', /^\/api\/orders$/, () => ({ statusCode: 200, data: { items: [], total: 0 } }));
  const res = await api.get('/api/orders', { status: 'pending', page: 2, limit: '' });
  expect(res).toEqual({ items: [], total: 0 });
  const req = wx.__requests[0];
  expect(req.url).toBe('http://127.0.0.1:8000/api/orders?status=pending&page=2');
  expect(req.header.Authorization).toBe('Bearer tok-1');
});

test('a base URL override in storage wins', async () => {
  wx.setStorageSync('orderhub.baseUrl', 'http://10.0.0.5:8001/');
  wx.__route('GET', /^\/api\/services$/, () => ({ statusCode: 200, data: [] }));
  await api.get('/api/services', null, { auth: false });
  expect(wx.__requests[0].url).toBe('http://10.0.0.5:8001/api/services');
  expect(wx.__requests[0].header.Authorization).toBeUndefined();
});

test("the contract's error shape becomes an ApiError with code, message, status and extras", async () => {
  wx.__route('POST', /^\/api\/orders$/, () => ({
    statusCode: 422,
    data: { error: { code: 'validation_error', message: 'lat: out of range', fields: [{ field: 'lat', message: 'out of range' }] } },
  }));
  const err = await api.post('/api/orders', { lat: 100 }).catch((e) => e);
  expect(err).toBeInstanceOf(api.ApiError);
  expect(err).toBeInstanceOf(Error);
  expect(err.code).toBe('validation_error');
  expect(err.message).toBe('lat: out of range');
  expect(err.status).toBe(422);
  expect(err.fields).toEqual([{ field: 'lat', message: 'out of range' }]);
});

test('a 409 keeps its code (already_taken) and a non-JSON error still rejects', async () => {
  wx.__route('POST', /grab$/, () => ({ statusCode: 409, data: { error: { code: 'already_taken', message: 'taken' } } }));
  wx.__route('GET', /^\/api\/boom$/, () => ({ statusCode: 500, data: '<html>oops</html>' }));
  await expect(api.post('/api/orders/1/grab', {})).rejects.toMatchObject({ code: 'already_taken', status: 409 });
  await expect(api.get('/api/boom', null, { retries: 0 })).rejects.toMatchObject({ code: 'http_500', status: 500 });
});

test('GETs are retried after a network failure or a 503, then succeed', async () => {
  let calls = 0;
  wx.__route('GET', /^\/api\/services$/, () => {
    calls += 1;
    if (calls === 1) return 'fail';
    if (calls === 2) return { statusCode: 503, data: { error: { code: 'not_ready', message: 'x' } } };
    return { statusCode: 200, data: [{ id: 1 }] };
  });
  await expect(api.get('/api/services')).resolves.toEqual([{ id: 1 }]);
  expect(calls).toBe(3);
});

test('GET retries stop after the configured attempts and reject with network_error', async () => {
  wx.__route('GET', /^\/api\/services$/, () => 'fail');
  await expect(api.get('/api/services')).rejects.toMatchObject({ code: 'network_error', status: 0 });
  expect(wx.__requests).toHaveLength(3); // 1 + 2 retries
});

test('a POST without an Idempotency-Key is never retried; with one it is, with the same key', async () => {
  wx.__route('POST', /^\/api\/orders\/1\/cancel$/, () => 'fail');
  await expect(api.post('/api/orders/1/cancel', { reason: 'x' })).rejects.toMatchObject({ code: 'network_error' });
  expect(wx.__requests).toHaveLength(1);

  let n = 0;
  wx.__route('POST', /^\/api\/orders$/, () => (++n === 1 ? 'fail' : { statusCode: 201, data: { id: 9 } }));
  await expect(api.post('/api/orders', { a: 1 }, { idempotencyKey: 'k-1' })).resolves.toEqual({ id: 9 });
  const posts = wx.__requests.filter((r) => r.path === '/api/orders');
  expect(posts).toHaveLength(2);
  expect(posts.map((r) => r.header['Idempotency-Key'])).toEqual(['k-1', 'k-1']);
});

test('a 4xx is not retried', async () => {
  wx.__route('GET', /^\/api\/orders\/5$/, () => ({ statusCode: 404, data: { error: { code: 'not_found', message: 'no' } } }));
  await expect(api.get('/api/orders/5')).rejects.toMatchObject({ code: 'not_found', status: 404 });
  expect(wx.__requests).toHaveLength(1);
});

test('a 401 clears the token and calls the unauthorized handler', async () => {
  wx.setStorageSync('orderhub.token', 'old');
  const handler = jest.fn();
  api.onUnauthorized(handler);
  wx.__route('GET', /^\/api\/me$/, () => ({ statusCode: 401, data: { error: { code: 'token_expired', message: 'expired' } } }));
  await expect(api.get('/api/me')).rejects.toMatchObject({ code: 'token_expired', status: 401 });
  expect(wx.getStorageSync('orderhub.token')).toBe('');
  expect(handler).toHaveBeenCalledWith(expect.objectContaining({ code: 'token_expired' }));
});

test('idempotency keys are unique', () => {
  const keys = new Set(Array.from({ length: 50 }, () => api.newIdempotencyKey()));
  expect(keys.size).toBe(50);
});

test('showError toasts the message', async () => {
  api.showError(new api.ApiError('network_error', 'request:fail', 0));
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '网络不可用，请稍后再试', icon: 'none' }));
  await flush();
});
