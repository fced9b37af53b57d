const { installWx, flush } = require('./helpers/wx');
const { openPage, texts } = require('./helpers/page');

let wx;

beforeEach(() => {
  jest.resetModules();
  wx = installWx();
});

const SERVICES = [
  { id: 1, category: '电路维修', name: '跳闸检修', description: '总闸/分闸跳闸', basePrice: 5000, durationMin: 60 },
  { id: 2, category: '灯具安装', name: '吸顶灯安装', description: '', basePrice: 8000, durationMin: 45 },
  { id: 3, category: '电路维修', name: '插座更换', description: '', basePrice: 3000, durationMin: 30 },
];

test("the hub's category slugs are shown in Chinese", async () => {
  wx.__route('GET', /^\/api\/services$/, () => ({
    statusCode: 200,
    data: [
      { id: 10, category: 'appliance', name: '空调维修', basePrice: 10000, durationMin: 90 },
      { id: 1, category: 'electrical', name: '电路故障检修', basePrice: 8000, durationMin: 60 },
      { id: 11, category: 'appliance', name: '洗衣机维修', basePrice: 8000, durationMin: 60 },
    ],
  }));
  const page = await openPage('pages/index/index', {});
  expect(texts(page, '.category')).toEqual(['家电维修', '电路维修']);
  expect(texts(page, '.service-name')).toEqual(['空调维修', '洗衣机维修', '电路故障检修']);
});

test('lists the services grouped by category, in first-seen order, with prices', async () => {
  wx.__route('GET', /^\/api\/services$/, () => ({ statusCode: 200, data: SERVICES }));
  const page = await openPage('pages/index/index', {});
  expect(wx.__requests[0].header.Authorization).toBeUndefined();
  expect(texts(page, '.category')).toEqual(['电路维修', '灯具安装']);
  expect(page.querySelectorAll('.group')).toHaveLength(2);
  expect(texts(page, '.service-name')).toEqual(['跳闸检修', '插座更换', '吸顶灯安装']);
  expect(texts(page, '.price')).toEqual(['¥50.00起', '¥30.00起', '¥80.00起']);
  expect(page.data.groups.map((g) => [g.category, g.services.map((x) => x.id)])).toEqual([
    ['电路维修', [1, 3]],
    ['灯具安装', [2]],
  ]);
  expect(page.querySelector('.loading')).toBeUndefined();
});

test('tapping a service opens the order form with that service', async () => {
  wx.__route('GET', /^\/api\/services$/, () => ({ statusCode: 200, data: SERVICES }));
  const page = await openPage('pages/index/index', {});
  page.querySelectorAll('.service')[2].dispatchEvent('tap'); // 吸顶灯安装 (id 2)
  await flush();
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/user/order?serviceId=2' });
  page.querySelector('.my-orders').dispatchEvent('tap');
  await flush();
  expect(wx.navigateTo).toHaveBeenLastCalledWith({ url: '/pages/user/orders' });
});

test('a failed load shows the error and a retry that loads again', async () => {
  let n = 0;
  wx.__route('GET', /^\/api\/services$/, () =>
    ++n <= 3 ? 'fail' : { statusCode: 200, data: SERVICES.slice(0, 1) }
  );
  require('../utils/api').setSleep(() => Promise.resolve());
  const page = await openPage('pages/index/index', {});
  expect(texts(page, '.load-error')[0]).toContain('request:fail');
  page.querySelector('.retry').dispatchEvent('tap');
  await flush(200);
  expect(texts(page, '.service-name')).toEqual(['跳闸检修']);
});
