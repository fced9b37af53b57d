const { installWx, flush } = require('./helpers/wx');
const { openPage, texts } = require('./helpers/page');

let wx;
let page;

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  wx.setStorageSync('orderhub.token', 'tok-c');
  wx.__route('POST', /^\/api\/orders\/7\/review$/, (req) => ({ statusCode: 201, data: Object.assign({ id: 1 }, req.data) }));
});

afterEach(() => {
  page = null;
});

async function open() {
  page = await openPage('pages/user/evaluate', { id: '7' });
  return page;
}

const stars = (key) => page.querySelectorAll('.dim-' + key + ' .star.on').length;

test('stars per dimension, tags, text, photos and anonymity make the review body', async () => {
  wx.chooseMedia = jest.fn((o) => o.success({ tempFiles: [{ tempFilePath: 'tmp/1.jpg' }, { tempFilePath: 'tmp/2.jpg' }] }));
  let n = 0;
  wx.uploadFile = jest.fn((o) => {
    n += 1;
    Promise.resolve().then(() => o.success({ statusCode: 201, data: JSON.stringify({ url: 'http://127.0.0.1:8000/api/uploads/p' + n + '.jpg' }) }));
  });
  await open();
  expect(texts(page, '.dim-label')).toEqual(['总体评价', '服务态度', '维修质量', '上门速度']);
  expect(stars('rating')).toBe(5);
  page.querySelectorAll('.dim-speedRating .star')[1].dispatchEvent('tap'); // 2 stars
  page.querySelectorAll('.dim-rating .star')[3].dispatchEvent('tap'); // 4 stars
  await flush();
  expect(stars('speedRating')).toBe(2);
  expect(stars('rating')).toBe(4);
  expect(texts(page, '.dim-word')).toEqual(['满意', '非常满意', '非常满意', '较差']);
  page.querySelectorAll('.tag-item')[0].dispatchEvent('tap');
  page.querySelectorAll('.tag-item')[2].dispatchEvent('tap');
  page.querySelectorAll('.tag-item')[2].dispatchEvent('tap'); // off again
  page.querySelectorAll('.tag-item')[1].dispatchEvent('tap');
  await flush();
  expect(texts(page, '.tag-item.on')).toEqual(['准时上门', '技术专业']);
  page.instance.onContentInput({ detail: { value: '  很专业，准时到  ' } });
  page.instance.onAnonymousChange({ detail: { value: true } });
  await page.instance.onAddPhotos();
  await flush();
  expect(page.querySelectorAll('.thumb')).toHaveLength(2);
  page.querySelectorAll('.remove')[0].dispatchEvent('tap');
  await flush();
  expect(page.data.images).toEqual(['http://127.0.0.1:8000/api/uploads/p2.jpg']);
  page.querySelector('.submit').dispatchEvent('tap');
  await flush(100);
  const req = wx.__requests.find((r) => r.path === '/api/orders/7/review');
  expect(req.data).toEqual({
    rating: 4, serviceRating: 5, qualityRating: 5, speedRating: 2,
    content: '很专业，准时到', tags: ['准时上门', '技术专业'],
    images: ['http://127.0.0.1:8000/api/uploads/p2.jpg'], anonymous: true,
  });
  expect(texts(page, '.done .title')).toEqual(['评价已提交']);
  expect(page.querySelectorAll('.submit')).toHaveLength(0);
});

test('a second review is told so; other refusals keep the form', async () => {
  wx.__route('POST', /^\/api\/orders\/7\/review$/, () => ({ statusCode: 422, data: { error: { code: 'validation_error', message: 'images.0: bad url' } } }));
  await open();
  await page.instance.onSubmit();
  await flush();
  expect(texts(page, '.submit-error')).toEqual(['images.0: bad url']);
  expect(page.data.done).toBe(false);
  wx.__route('POST', /^\/api\/orders\/7\/review$/, () => ({ statusCode: 409, data: { error: { code: 'already_reviewed', message: 'this order has been reviewed already' } } }));
  await page.instance.onSubmit();
  await flush();
  expect(page.data.done).toBe(true);
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '该订单已评价' }));
});
