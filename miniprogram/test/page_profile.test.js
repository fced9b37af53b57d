const { installWx, flush } = require('./helpers/wx');
const { loadPage, texts } = require('./helpers/page');

let wx;
let page;
let phone;

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  wx.setStorageSync('orderhub.token', 'tok-c');
  phone = null;
  wx.__route('GET', /^\/api\/me$/, () => ({ statusCode: 200, data: { user: { id: 3, role: 'customer', nickname: '王女士', phone }, provider: null } }));
});

async function open() {
  page = loadPage('pages/user/profile');
  await page.instance.onShow();
  await flush();
  return page;
}

test('shows who I am, the phone masked, and the menu', async () => {
  phone = '138****0000';
  await open();
  expect(texts(page, '.nickname')).toEqual(['王女士']);
  expect(texts(page, '.phone')).toEqual(['138****0000']);
  expect(texts(page, '.bind-phone')).toEqual([]);
  page.querySelector('.menu-service').dispatchEvent('tap');
  await flush();
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/common/customer-service' });
  page.querySelector('.menu-orders').dispatchEvent('tap');
  await flush();
  expect(wx.navigateTo).toHaveBeenLastCalledWith({ url: '/pages/user/orders' });
  // the coupons: mine and the coupon centre
  expect(page.querySelector('.menu-coupons').dom.textContent).toContain('我的优惠券');
  page.querySelector('.menu-coupons').dispatchEvent('tap');
  await flush();
  expect(wx.navigateTo).toHaveBeenLastCalledWith({ url: '/pages/user/coupons' });
  page.querySelector('.menu-coupon-center').dispatchEvent('tap');
  await flush();
  expect(wx.navigateTo).toHaveBeenLastCalledWith({ url: '/pages/user/coupon-center' });
});

test('without a phone it offers binding; log out forgets the token', async () => {
  await open();
  page.querySelector('.bind-phone').dispatchEvent('tap');
  await flush();
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/login/login?redirect=%2Fpages%2Fuser%2Fprofile' });
  await page.instance.onLogoutTap();
  expect(wx.getStorageSync('orderhub.token')).toBe('');
  expect(wx.redirectTo).toHaveBeenCalledWith({ url: '/pages/login/login' });
  await flush();
  expect(texts(page, '.nickname')).toEqual([]);
});
