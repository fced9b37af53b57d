// Image uploads (POST /api/uploads, docs/api.md "Uploads") over wx.uploadFile: the photo of an
// order, a repair, a review or a complaint. The hub checks the type by the file's bytes and
// answers {url, name, size, contentType}; the url is what `images` of those bodies take.
// - the same Bearer token and error shape as utils/api.js (a rejected ApiError; 401 → log in);
// - chooseImages() wraps wx.chooseMedia (images only, compressed) → local file paths;
// - uploadAll() uploads one after another (a phone's uplink is the bottleneck) and stops at the
//   first failure.
const api = require('./api');
const config = require('./config');

const MAX_IMAGES = 9; // CONTRACT §5/§8: at most 9 images per order, review or complaint

function parse(res) {
  let body = res && res.data;
  if (typeof body === 'string' && body) {
    try {
      body = JSON.parse(body);
    } catch (e) {
      // not JSON: handled below
    }
  }
  return body;
}

// Upload one local file (a wx temp path); resolves with {url, name, size, contentType}.
function uploadImage(filePath) {
  return new Promise((resolve, reject) => {
    const header = {};
    const token = api.getToken();
    if (token) header.Authorization = 'Bearer ' + token;
    wx.uploadFile({
      url: config.baseUrl() + '/api/uploads',
      filePath,
      name: 'file',
      header,
      success: (res) => {
        const body = parse(res);
        if (res.statusCode === 201 && body && body.url) return resolve(body);
        const err = body && body.error && typeof body.error === 'object' ? body.error : null;
        const e = err && err.code
          ? new api.ApiError(err.code, err.message || err.code, res.statusCode, err)
          : new api.ApiError('http_' + res.statusCode, '上传失败', res.statusCode);
        if (res.statusCode === 401) api.handleUnauthorized(e);
        reject(e);
      },
      fail: (e) => reject(new api.ApiError('network_error', (e && e.errMsg) || '上传失败', 0)),
    });
  });
}

// Upload several in order; resolves with their URLs.
async function uploadAll(paths) {
  const urls = [];
  for (const p of paths) {
    const res = await uploadImage(p);
    urls.push(res.url);
  }
  return urls;
}

// Let the user pick up to `count` images (camera or album); resolves with local paths
// (an empty list when they cancel).
function chooseImages(count) {
  const n = Math.max(1, Math.min(MAX_IMAGES, count || MAX_IMAGES));
  return new Promise((resolve) => {
    wx.chooseMedia({
      count: n,
      mediaType: ['image'],
      sourceType: ['album', 'camera'],
      sizeType: ['compressed'],
      success: (res) => resolve(((res && res.tempFiles) || []).map((f) => f.tempFilePath)),
      fail: () => resolve([]),
    });
  });
}

module.exports = { uploadImage, uploadAll, chooseImages, MAX_IMAGES };
