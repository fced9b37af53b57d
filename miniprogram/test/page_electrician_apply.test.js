const { installWx, flush } = require('./helpers/wx');
const { addProviderWx, loginProvider } = require('./helpers/provider');
const { openPage, texts } = require('./helpers/page');

let wx;

beforeEach(() => {
  jest.resetModules();
  wx = addProviderWx(installWx());
  loginProvider(wx);
  wx.__route('GET', /^\/api\/services$/, () => ({ statusCode: 200, data: [{ id: 1, category: 'electrical', name: '电路检修' }, { id: 2, category: 'plumbing', name: '水管维修' }] }));
  wx.__route('GET', /^\/api\/areas$/, () => ({ statusCode: 200, data: [{ id: 5, name: '望京', city: '北京' }] }));
});

test('apply: services and areas to choose, checked, posted; then back to the profile', async () => {
  wx.__route('POST', /^\/api\/providers\/apply$/, () => ({ statusCode: 201, data: { providerId: 11, verification: 'pending' } }));
  const page = await openPage('pages/electrician/apply', );
  expect(texts(page, '.skill')).toEqual(['电路维修 · 电路检修', '水暖管道 · 水管维修']);
  expect(texts(page, '.area')).toEqual(['北京 望京']);
  page.querySelector('.submit').dispatchEvent('tap');
  await flush();
  expect(texts(page, '.err-name')).toEqual(['请填写姓名']);
  expect(texts(page, '.err-skills')).toEqual(['请至少选择一项服务']);
  expect(wx.__requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  page.instance.onNameInput({ detail: { value: '王师傅' } });
  page.instance.onCertNoInput({ detail: { value: 'DG-2024-001' } });
  page.instance.onCertTypeChange({ detail: { value: '0' } });
  page.instance.onSkillsChange({ detail: { value: ['1'] } });
  page.instance.onAreasChange({ detail: { value: ['5'] } });
  await flush();
  expect(texts(page, '.cert-type')).toEqual(['低压电工证']);
  await page.instance.onSubmitTap();
  const post = wx.__requests.find((r) => r.method === 'POST');
  expect(post.data).toEqual({ name: '王师傅', skills: [1], certificateNo: 'DG-2024-001', certificateType: 'low_voltage', serviceAreas: [5] });
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '已提交，等待审核' }));
  expect(wx.navigateBack).toHaveBeenCalled();
});

test('a second application is told to wait', async () => {
  wx.__route('POST', /^\/api\/providers\/apply$/, () => ({ statusCode: 409, data: { error: { code: 'already_applied', message: 'applied', providerId: 11 } } }));
  const page = await openPage('pages/electrician/apply', );
  page.instance.setData({ form: { name: '王师傅', certificateNo: 'DG-0001', certificateType: 1, skills: [1], serviceAreas: [5] } });
  await page.instance.onSubmitTap();
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '已提交过申请，请等待审核' }));
  expect(wx.navigateBack).not.toHaveBeenCalled();
});
