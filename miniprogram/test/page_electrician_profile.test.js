const { installWx, handshake, sentEvents, ack, flush, lastSocketTask } = require('./helpers/wx');
const { addProviderWx, loginProvider } = require('./helpers/provider');
const { loadPage, texts, closePage } = require('./helpers/page');

let wx;
let page;
let me;
let earnings;
let withdrawals;
let reviews;

beforeEach(() => {
  jest.resetModules();
  wx = addProviderWx(installWx());
  loginProvider(wx);
  me = {
    user: { id: 21, role: 'provider', nickname: '微信用户', phone: '139****1111' },
    provider: { id: 11, name: '王师傅', rating: 4.583, completedOrders: 12, skills: [1], verification: 'approved', verificationNote: null, workStatus: 'offline' },
  };
  earnings = { balance: 15000, pending: 8000, requested: 0, withdrawn: 20000, items: [], total: 0 };
  withdrawals = [{ id: 3, amount: 20000, status: 'approved', note: '', createdAt: '2026-11-20T09:00:00Z' }];
  reviews = Array.from({ length: 13 }, (_, i) => ({
    id: 100 + i, rating: i === 0 ? 2 : 5, serviceRating: 5, qualityRating: 5, speedRating: 5, content: i === 0 ? '<b>来晚了</b>' : '很专业', tags: i === 1 ? ['准时', '专业'] : [],
    images: [], reply: i === 1 ? '谢谢支持' : null, repliedAt: null, at: '2026-11-28T09:00:00Z', customer: i === 2 ? '匿名' : '张**',
  }));
  wx.__route('GET', /^\/api\/me$/, () => ({ statusCode: 200, data: me }));
  wx.__route('GET', /^\/api\/me\/earnings$/, () => ({ statusCode: 200, data: earnings }));
  wx.__route('GET', /^\/api\/me\/withdrawals$/, () => ({ statusCode: 200, data: { items: withdrawals, total: withdrawals.length } }));
  wx.__route('GET', /^\/api\/providers\/11\/reviews$/, (req) => {
    const p = Number(req.query.page);
    const l = Number(req.query.limit);
    return { statusCode: 200, data: { items: reviews.slice((p - 1) * l, p * l), total: reviews.length, summary: { rating: 4.58, count: 13 } } };
  });
});

afterEach(() => {
  closePage(page);
  page = null;
});

async function open() {
  page = loadPage('pages/electrician/profile');
  await page.instance.onLoad({});
  await flush(100);
  return page;
}

test('who the provider is, earnings, withdrawals and reviews', async () => {
  await open();
  expect(texts(page, '.name')).toEqual(['王师傅']);
  expect(texts(page, '.verification')).toEqual(['已认证']);
  expect(texts(page, '.rating')).toEqual(['评分 4.58']);
  expect(texts(page, '.completed')).toEqual(['完成 12 单']);
  expect(texts(page, '.balance')).toEqual(['¥150.00']);
  expect(texts(page, '.pending')).toEqual(['¥80.00']);
  expect(texts(page, '.withdrawn')).toEqual(['¥200.00']);
  expect(texts(page, '.withdrawal-status')).toEqual(['已打款']);
  expect(texts(page, '.review-summary')).toEqual(['4.58 分 · 13 条']);
  expect(page.querySelectorAll('.review')).toHaveLength(10);
  expect(texts(page, '.stars')[0]).toBe('★★☆☆☆');
  expect(texts(page, '.review-content')[0]).toBe('<b>来晚了</b>'); // user text stays text
  expect(texts(page, '.review-tag')).toEqual(['准时', '专业']);
  expect(texts(page, '.reply')).toEqual(['我的回复：谢谢支持']);
  expect(page.querySelectorAll('.reply-btn')).toHaveLength(9);
  await page.instance.onReachBottom();
  await flush();
  expect(page.querySelectorAll('.review')).toHaveLength(13);
  await page.instance.onReachBottom();
  expect(wx.__requests.filter((r) => r.path === '/api/providers/11/reviews')).toHaveLength(2);
});

test('a withdrawal: the amount typed in yuan is asked in fen; too much is refused; a request can be withdrawn', async () => {
  await open();
  wx.showModal.mockImplementation((o) => o.success({ confirm: true, content: '100' }));
  wx.__route('POST', /^\/api\/me\/withdrawals$/, (req) => {
    withdrawals = [{ id: 4, amount: req.data.amount, status: 'requested', note: '', createdAt: '2026-11-29T09:00:00Z' }].concat(withdrawals);
    earnings = Object.assign({}, earnings, { balance: 5000, requested: 10000 });
    return { statusCode: 201, data: withdrawals[0] };
  });
  page.querySelector('.withdraw-btn').dispatchEvent('tap');
  await flush(100);
  expect(wx.__requests.find((r) => r.method === 'POST').data).toEqual({ amount: 10000 });
  expect(texts(page, '.balance')).toEqual(['¥50.00']);
  expect(texts(page, '.requested')).toEqual(['¥100.00']);
  expect(texts(page, '.withdrawal-status')).toEqual(['审核中', '已打款']);
  wx.__route('POST', /^\/api\/me\/withdrawals$/, () => ({ statusCode: 409, data: { error: { code: 'insufficient_balance', message: 'balance too low', balance: 5000 } } }));
  await page.instance.onWithdrawTap();
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '可提现余额不足' }));
  wx.__route('POST', /^\/api\/me\/withdrawals\/4\/cancel$/, () => {
    withdrawals[0] = Object.assign({}, withdrawals[0], { status: 'cancelled' });
    return { statusCode: 200, data: withdrawals[0] };
  });
  page.querySelector('.cancel-withdrawal').dispatchEvent('tap');
  await flush(100);
  expect(texts(page, '.withdrawal-status')).toEqual(['已撤回', '已打款']);
  wx.showModal.mockImplementation((o) => o.success({ confirm: true, content: '12.345' }));
  await page.instance.onWithdrawTap();
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '请输入正确的金额' }));
});

test('replying to a review, once', async () => {
  await open();
  wx.showModal.mockImplementation((o) => o.success({ confirm: true, content: ' 抱歉，下次一定准时 ' }));
  wx.__route('POST', /^\/api\/reviews\/100\/reply$/, (req) => ({ statusCode: 200, data: Object.assign({}, reviews[0], { reply: req.data.content }) }));
  page.querySelector('.reply-btn').dispatchEvent('tap');
  await flush(100);
  expect(wx.__requests.find((r) => r.path === '/api/reviews/100/reply').data).toEqual({ content: '抱歉，下次一定准时' });
  expect(texts(page, '.reply')[0]).toBe('我的回复：抱歉，下次一定准时');
  wx.__route('POST', /^\/api\/reviews\/102\/reply$/, () => ({ statusCode: 409, data: { error: { code: 'already_replied', message: 'replied' } } }));
  await page.instance.onReplyTap({ currentTarget: { dataset: { id: 102 } } });
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '每条评价只能回复一次' }));
});

test('the online switch goes online; a refusal puts it back', async () => {
  await open();
  const task = () => lastSocketTask(wx);
  const p = page.instance.onOnlineChange({ detail: { value: true } });
  await flush();
  handshake(task());
  await flush();
  const [on] = sentEvents(task()).filter((e) => e.name === 'provider.online');
  ack(task(), on.id, { ok: true, status: 'online' });
  await p;
  expect(page.data.online).toBe(true);
  expect(texts(page, '.duty-text')).toEqual(['接单中，附近的新订单会推送给您']);
  const q = page.instance.onOnlineChange({ detail: { value: false } });
  await flush();
  const [off] = sentEvents(task()).filter((e) => e.name === 'provider.offline');
  ack(task(), off.id, { ok: false, error: { code: 'busy_on_order', message: '服务中不能下线' } });
  await q;
  expect(page.data.online).toBe(true);
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '服务中不能下线' }));
});

test('not yet a provider: said plainly, nothing else asked', async () => {
  me = { user: { id: 21, role: 'provider', nickname: '微信用户' }, provider: null };
  await open();
  expect(texts(page, '.verification')).toEqual(['未入驻']);
  expect(texts(page, '.not-provider')).toEqual(['您还未入驻，提交入驻申请并通过审核后即可接单']);
  expect(wx.__requests.map((r) => r.path)).toEqual(['/api/me']);
  page.querySelector('.apply-btn').dispatchEvent('tap');
  await flush();
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/electrician/apply' });
  // back from the application: the profile reads it again
  me = { user: me.user, provider: { id: 11, name: '王师傅', rating: 4.5, completedOrders: 0, verification: 'pending', verificationNote: null } };
  await page.instance.onShow();
  await page.instance.onShow();
  await flush(100);
  expect(texts(page, '.verification')).toEqual(['资质审核中']);
  expect(page.querySelectorAll('.apply-btn')).toHaveLength(0);
});

test('a rejected applicant reads why', async () => {
  me = { user: me.user, provider: Object.assign({ id: 11, name: '王师傅', rating: 4.5, completedOrders: 0 }, { verification: 'rejected', verificationNote: '证件照片不清晰' }) };
  await open();
  expect(texts(page, '.verification')).toEqual(['审核未通过']);
  expect(texts(page, '.verification-note')).toEqual(['证件照片不清晰']);
});

test('提现 asks for the result message within the tap, reports it, then asks the amount; a refusal changes nothing', async () => {
  const ids = require('../utils/config').templates();
  await open();
  wx.__route('POST', /^\/api\/me\/subscriptions$/, () => ({ statusCode: 200, data: { balances: { withdrawal_result: 1 } } }));
  wx.__route('POST', /^\/api\/me\/withdrawals$/, (req) => ({ statusCode: 201, data: { id: 5, amount: req.data.amount, status: 'requested', note: '', createdAt: '2026-11-29T09:00:00Z' } }));
  wx.requestSubscribeMessage.mockImplementation((o) => o.success({ errMsg: 'requestSubscribeMessage:ok', [ids.withdrawal_result]: 'accept' }));
  wx.showModal.mockImplementation((o) => o.success({ confirm: true, content: '50' }));
  const done = page.instance.onWithdrawTap();
  expect(wx.requestSubscribeMessage.mock.calls[0][0].tmplIds).toEqual([ids.withdrawal_result]); // before any await
  expect(wx.showModal).not.toHaveBeenCalled(); // the amount after the dialog
  await done;
  await flush();
  expect(wx.__requests.filter((r) => r.path === '/api/me/subscriptions').map((r) => r.data)).toEqual([{ accepted: ['withdrawal_result'] }]);
  expect(wx.__requests.find((r) => r.path === '/api/me/withdrawals' && r.method === 'POST').data).toEqual({ amount: 5000 });
  // the dialog failing: the withdrawal goes on
  wx.requestSubscribeMessage.mockImplementation((o) => o.fail({ errMsg: 'requestSubscribeMessage:fail', errCode: 20004 }));
  await page.instance.onWithdrawTap();
  expect(wx.__requests.filter((r) => r.path === '/api/me/withdrawals' && r.method === 'POST')).toHaveLength(2);
});
