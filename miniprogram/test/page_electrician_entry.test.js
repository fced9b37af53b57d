const { installWx, flush } = require('./helpers/wx');
const { openPage, texts } = require('./helpers/page');

let wx;

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  wx.__route('GET', /^\/api\/services$/, () => ({ statusCode: 200, data: [] }));
});

test('the home page leads to the provider side (我是师傅)', async () => {
  const page = await openPage('pages/index/index', );
  expect(texts(page, '.provider-entry')).toEqual(['我是师傅']);
  page.querySelector('.provider-entry').dispatchEvent('tap');
  await flush();
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/electrician/hall' });
});
