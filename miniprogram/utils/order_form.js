// The order form's validation (pages/user/order): turns the form into the body of
// POST /api/orders (CONTRACT §5) or says which field is wrong, in Chinese.
// The form's point is wx.chooseLocation's, GCJ-02 (what WeChat's maps speak, and what the
// picker is reopened at); the hub takes WGS-84, so the body carries it converted (hubPoint).
const { gcj02ToWgs84 } = require('./coords');
const URGENCIES = ['normal', 'urgent'];
// 'direct': a provider the customer chose from the nearby list (GET /api/providers/nearby).
const DISPATCH_MODES = ['grab', 'auto', 'direct'];
const MAX_IMAGES = 9;
const PHONE_RE = /^1[3-9]\d{9}$/;

// A GCJ-02 point from WeChat → the WGS-84 point the hub takes (7 decimals: about a centimetre).
function hubPoint(lat, lng) {
  const p = gcj02ToWgs84(Number(lat), Number(lng));
  return { lat: Math.round(p.lat * 1e7) / 1e7, lng: Math.round(p.lng * 1e7) / 1e7 };
}

function trim(v) {
  return typeof v === 'string' ? v.trim() : '';
}

function validateOrder(form) {
  const f = form || {};
  const errors = {};
  const serviceId = Number(f.serviceId);
  if (!Number.isInteger(serviceId) || serviceId <= 0) errors.serviceId = '请选择服务项目';
  const address = trim(f.address);
  if (!address) errors.address = '请选择服务地址';
  else if (address.length > 200) errors.address = '地址不能超过200个字';
  const lat = Number(f.lat);
  const lng = Number(f.lng);
  const hasPoint = f.lat !== '' && f.lat !== null && f.lat !== undefined && f.lng !== '' && f.lng !== null && f.lng !== undefined;
  if (!hasPoint || !isFinite(lat) || !isFinite(lng) || Math.abs(lat) > 90 || Math.abs(lng) > 180) {
    errors.location = '请在地图上选择服务位置';
  }
  const description = trim(f.description);
  if (!description) errors.description = '请描述需要处理的问题';
  else if (description.length > 500) errors.description = '问题描述不能超过500个字';
  const contactName = trim(f.contactName);
  if (!contactName) errors.contactName = '请填写联系人';
  else if (contactName.length > 32) errors.contactName = '联系人不能超过32个字';
  const contactPhone = trim(f.contactPhone);
  if (!PHONE_RE.test(contactPhone)) errors.contactPhone = '请填写正确的手机号';
  const urgency = f.urgency || 'normal';
  if (URGENCIES.indexOf(urgency) < 0) errors.urgency = '请选择紧急程度';
  const dispatchMode = f.dispatchMode || 'grab';
  if (DISPATCH_MODES.indexOf(dispatchMode) < 0) errors.dispatchMode = '请选择派单方式';
  const providerId = Number(f.providerId);
  if (dispatchMode === 'direct' && !(Number.isInteger(providerId) && providerId > 0)) errors.providerId = '请选择一位师傅';
  // an appointment (a time slot, utils/time_slots.js) or, by default, as soon as possible
  const later = f.scheduleMode === 'later';
  const at = later ? new Date(f.scheduledAt || '') : null;
  if (later && (!at || isNaN(at.getTime()) || at.getTime() <= Date.now())) errors.scheduledAt = '请选择预约时间';
  const images = Array.isArray(f.images) ? f.images : [];
  if (images.length > MAX_IMAGES) errors.images = '最多上传9张照片';

  const fields = Object.keys(errors);
  if (fields.length) return { ok: false, errors, first: errors[fields[0]] };
  const point = hubPoint(lat, lng);
  const body = { serviceId, address, lat: point.lat, lng: point.lng, description, contactName, contactPhone, urgency, dispatchMode };
  if (later) body.scheduledAt = at.toISOString();
  if (images.length) body.images = images.slice();
  if (dispatchMode === 'direct') body.providerId = providerId;
  return { ok: true, errors: {}, body };
}

module.exports = { validateOrder, hubPoint, URGENCIES, DISPATCH_MODES, MAX_IMAGES };
