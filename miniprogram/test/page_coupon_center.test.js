// 领券中心: the offers shown with their rule, scope, validity and what is left; a claim, and
// each of the hub's refusals said in Chinese with the offer marked.
const { installWx, flush } = require('./helpers/wx');
const { openPage, texts } = require('./helpers/page');

let wx;
let page;

const offer = (id, extra) =>
  Object.assign(
    { id, name: '券' + id, kind: 'threshold', amountOff: 2000, threshold: 10000, percentOff: null, maxOff: null, serviceIds: [], areaIds: [], validFrom: null, validTo: null, validDays: 7, left: 100, perUser: 1, newCustomerOnly: false },
    extra
  );
const OFFERS = [
  offer(1, { name: '家电维修满减' }),
  offer(2, { name: '新人专享75折', kind: 'discount', amountOff: null, threshold: 0, percentOff: 25, maxOff: 3000, validDays: null, validTo: '2026-12-31T15:59:59Z', left: 5, newCustomerOnly: true, serviceIds: [3] }),
  offer(3, { name: '立减10元', threshold: 0, amountOff: 1000, areaIds: [2] }),
  offer(4, { name: '限量券' }),
];

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
  wx.setStorageSync('orderhub.token', 'tok-c');
  wx.__route('GET', /^\/api\/coupons$/, () => ({ statusCode: 200, data: { items: OFFERS, total: OFFERS.length } }));
});

async function open() {
  page = await openPage('pages/user/coupon-center', {});
  return page;
}

const claimAnswer = (id, res) => wx.__route('POST', new RegExp('^/api/coupons/' + id + '/claim$'), () => res);
const refusal = (code) => ({ statusCode: code === 'not_found' ? 404 : 409, data: { error: { code, message: 'english ' + code } } });

test('the offers with their rule, scope, validity, what is left and 新客专享', async () => {
  await open();
  expect(texts(page, '.coupon-rule')).toEqual(['满100减20', '7.5折（最多减¥30.00）', '减¥10.00', '满100减20']);
  expect(texts(page, '.coupon-scope')).toEqual(['全部服务可用', '限指定服务', '限指定区域', '全部服务可用']);
  expect(texts(page, '.coupon-validity')[0]).toBe('领取后7天内有效');
  expect(texts(page, '.coupon-validity')[1]).toMatch(/^有效期至 2026-12-3[01]$/);
  expect(texts(page, '.coupon-left')).toEqual(['仅剩5张']);
  expect(texts(page, '.new-only')).toEqual(['新客专享']);
  expect(texts(page, '.claim')).toEqual(['立即领取', '立即领取', '立即领取', '立即领取']);
});

test('a claim: 领取成功 and the offer marked 已领取', async () => {
  claimAnswer(1, { statusCode: 201, data: { id: 50, templateId: 1, status: 'usable' } });
  await open();
  page.querySelectorAll('.claim')[0].dispatchEvent('tap');
  await flush();
  const req = wx.__requests.find((r) => r.path === '/api/coupons/1/claim');
  expect(req.method).toBe('POST');
  expect(req.header.Authorization).toBe('Bearer tok-c');
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '领取成功' }));
  expect(texts(page, '.claim')[0]).toBe('已领取');
  // a second tap does nothing
  await page.instance.onClaimTap({ currentTarget: { dataset: { index: 0 } } });
  expect(wx.__requests.filter((r) => r.path === '/api/coupons/1/claim')).toHaveLength(1);
});

test("each 409 said in Chinese: sold out, at the limit, not for this customer; the offer marked", async () => {
  claimAnswer(1, refusal('out_of_stock'));
  claimAnswer(2, refusal('not_eligible'));
  claimAnswer(3, refusal('limit_reached'));
  claimAnswer(4, refusal('not_eligible'));
  await open();
  const tap = (i) => page.instance.onClaimTap({ currentTarget: { dataset: { index: i } } });
  await tap(0);
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '手慢了，券已被领完', icon: 'none' }));
  await tap(1); // a new-customer template: the hub's not_eligible means an order was placed
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '仅限新用户（未下过单）领取' }));
  await tap(2);
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '您已领过这张券，不能再领了' }));
  await tap(3);
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '活动已结束，无法领取' }));
  await flush();
  expect(texts(page, '.claim')).toEqual(['已抢光', '已结束', '已领取', '已结束']);
});

test('a network failure or a rate limit leaves the offer claimable', async () => {
  claimAnswer(1, { statusCode: 429, data: { error: { code: 'rate_limited', message: 'slow down', retryAfter: 10 } } });
  await open();
  await page.instance.onClaimTap({ currentTarget: { dataset: { index: 0 } } });
  await flush();
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '操作太频繁，请稍后再试' }));
  expect(texts(page, '.claim')[0]).toBe('立即领取');
});

test('nothing on offer; the way to my coupons', async () => {
  wx.__route('GET', /^\/api\/coupons$/, () => ({ statusCode: 200, data: { items: [], total: 0 } }));
  await open();
  expect(texts(page, '.no-offers')).toEqual(['暂无可领取的优惠券']);
  page.querySelector('.mine').dispatchEvent('tap');
  await flush();
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/user/coupons' });
});
