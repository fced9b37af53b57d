const { installWx, flush } = require('./helpers/wx');

let wx;
let upload;
let api;

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  wx.setStorageSync('orderhub.token', 'tok-u');
  upload = require('../utils/upload');
  api = require('../utils/api');
});

function answer(statusCode, data) {
  wx.uploadFile = jest.fn((opts) => Promise.resolve().then(() => opts.success({ statusCode, data })));
}

test('uploads a file as multipart `file` with the token and resolves with the hub answer', async () => {
  answer(201, JSON.stringify({ url: 'http://127.0.0.1:8000/api/uploads/abc.png', name: 'abc.png', size: 9 }));
  const res = await upload.uploadImage('wxfile://tmp/1.png');
  expect(res.url).toBe('http://127.0.0.1:8000/api/uploads/abc.png');
  const opts = wx.uploadFile.mock.calls[0][0];
  expect(opts).toMatchObject({
    url: 'http://127.0.0.1:8000/api/uploads',
    filePath: 'wxfile://tmp/1.png',
    name: 'file',
    header: { Authorization: 'Bearer tok-u' },
  });
});

test('the error shape becomes an ApiError; a 401 forgets the token and asks for a login', async () => {
  answer(415, JSON.stringify({ error: { code: 'unsupported_media_type', message: 'only JPEG, PNG, GIF or WebP images' } }));
  await expect(upload.uploadImage('a.txt')).rejects.toMatchObject({ code: 'unsupported_media_type', status: 415 });
  const relogin = jest.fn();
  api.onUnauthorized(relogin);
  answer(401, JSON.stringify({ error: { code: 'token_expired', message: 'token expired' } }));
  await expect(upload.uploadImage('a.png')).rejects.toMatchObject({ code: 'token_expired' });
  expect(wx.getStorageSync('orderhub.token')).toBe('');
  expect(relogin).toHaveBeenCalledTimes(1);
  wx.uploadFile = jest.fn((opts) => opts.fail({ errMsg: 'uploadFile:fail timeout' }));
  await expect(upload.uploadImage('a.png')).rejects.toMatchObject({ code: 'network_error', status: 0 });
});

test('uploadAll goes one by one and stops at the first failure', async () => {
  let n = 0;
  wx.uploadFile = jest.fn((opts) => {
    n += 1;
    const ok = n < 3;
    Promise.resolve().then(() =>
      opts.success(ok ? { statusCode: 201, data: { url: 'http://h/api/uploads/' + n + '.jpg' } } : { statusCode: 413, data: { error: { code: 'payload_too_large', message: '太大' } } })
    );
  });
  await expect(upload.uploadAll(['a', 'b'])).resolves.toEqual(['http://h/api/uploads/1.jpg', 'http://h/api/uploads/2.jpg']);
  await expect(upload.uploadAll(['c', 'd'])).rejects.toMatchObject({ code: 'payload_too_large' });
  expect(wx.uploadFile).toHaveBeenCalledTimes(3);
});

test('chooseImages asks for images only, at most 9, and resolves [] when cancelled', async () => {
  wx.chooseMedia = jest.fn((o) => o.success({ tempFiles: [{ tempFilePath: 'p1' }, { tempFilePath: 'p2' }] }));
  await expect(upload.chooseImages(20)).resolves.toEqual(['p1', 'p2']);
  expect(wx.chooseMedia.mock.calls[0][0]).toMatchObject({ count: 9, mediaType: ['image'] });
  wx.chooseMedia = jest.fn((o) => o.fail({ errMsg: 'chooseMedia:fail cancel' }));
  await expect(upload.chooseImages(3)).resolves.toEqual([]);
  await flush();
});
