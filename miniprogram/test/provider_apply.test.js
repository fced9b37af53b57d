const { validate, CERTIFICATE_TYPES } = require('../utils/provider_apply');

test('the application is checked field by field and becomes the hub body', () => {
  expect(validate({}).errors).toEqual({
    name: '请填写姓名',
    certificateNo: '证书编号为4到64位字母、数字或-',
    certificateType: '请选择证书类型',
    skills: '请至少选择一项服务',
    serviceAreas: '请至少选择一个服务区域',
  });
  expect(validate({ name: '王师傅', certificateNo: 'T-12 3', certificateType: -1, skills: [1], serviceAreas: [2] }).errors).toEqual({
    certificateNo: '证书编号为4到64位字母、数字或-',
    certificateType: '请选择证书类型',
  });
  expect(validate({ name: ' 王师傅 ', certificateNo: 'T-1234', certificateType: 0, skills: ['1', '3'], serviceAreas: [2] })).toEqual({
    errors: {},
    body: { name: '王师傅', skills: [1, 3], certificateNo: 'T-1234', certificateType: 'low_voltage', serviceAreas: [2] },
  });
  expect(CERTIFICATE_TYPES.map((t) => t.value)).toEqual(['low_voltage', 'high_voltage', 'special', 'plumbing', 'appliance', 'cleaning', 'other']);
});
