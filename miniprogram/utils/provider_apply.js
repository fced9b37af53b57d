// The provider's application (POST /api/providers/apply, CONTRACT §4): the certificate types
// the hub knows, in Chinese, and the form's checks before posting (the hub checks the same
// and answers 422 naming the field).
const CERTIFICATE_TYPES = [
  { value: 'low_voltage', label: '低压电工证' },
  { value: 'high_voltage', label: '高压电工证' },
  { value: 'special', label: '特种作业证' },
  { value: 'plumbing', label: '水暖工证' },
  { value: 'appliance', label: '家电维修证' },
  { value: 'cleaning', label: '家政服务证' },
  { value: 'other', label: '其他证书' },
];

// form: {name, certificateNo, certificateType (index into CERTIFICATE_TYPES), skills: [id],
// serviceAreas: [id]} → {errors: {field: message}, body}
function validate(form) {
  const errors = {};
  const name = String(form.name || '').trim();
  const certificateNo = String(form.certificateNo || '').trim();
  if (!name) errors.name = '请填写姓名';
  else if (name.length > 64) errors.name = '姓名最多64个字';
  if (!/^[A-Za-z0-9-]{4,64}$/.test(certificateNo)) errors.certificateNo = '证书编号为4到64位字母、数字或-';
  const type = CERTIFICATE_TYPES[Number(form.certificateType)];
  if (!type) errors.certificateType = '请选择证书类型';
  const skills = (form.skills || []).map(Number).filter((n) => n > 0);
  const areas = (form.serviceAreas || []).map(Number).filter((n) => n > 0);
  if (!skills.length) errors.skills = '请至少选择一项服务';
  if (!areas.length) errors.serviceAreas = '请至少选择一个服务区域';
  if (Object.keys(errors).length) return { errors, body: null };
  return { errors, body: { name, skills, certificateNo, certificateType: type.value, serviceAreas: areas } };
}

module.exports = { CERTIFICATE_TYPES, validate };
