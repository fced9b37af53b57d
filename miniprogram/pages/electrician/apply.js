// Becoming a provider: name, the services offered, the certificate and the service areas →
// POST /api/providers/apply (CONTRACT §4); an admin approves it, then the provider can go
// online. Opened from the profile when there is no application yet or it was rejected.
const api = require('../../utils/api');
const auth = require('../../utils/auth');
const { categoryLabel } = require('../../utils/order_status');
const { CERTIFICATE_TYPES, validate } = require('../../utils/provider_apply');

Page({
  data: {
    loading: true,
    error: '',
    services: [],
    areas: [],
    certTypes: CERTIFICATE_TYPES.map((t) => t.label),
    form: { name: '', certificateNo: '', certificateType: -1, skills: [], serviceAreas: [] },
    certLabel: '',
    errors: {},
    submitting: false,
  },

  onLoad() {
    return auth
      .ensureRole('provider')
      .then(() => Promise.all([api.get('/api/services', null, { auth: false }), api.get('/api/areas', null, { auth: false })]))
      .then(([services, areas]) =>
        this.setData({
          loading: false,
          services: (services || []).map((s) => ({ id: s.id, label: categoryLabel(s.category) + ' · ' + s.name })),
          areas: (areas || []).map((a) => ({ id: a.id, label: (a.city ? a.city + ' ' : '') + a.name })),
        })
      )
      .catch((err) => this.setData({ loading: false, error: (err && err.message) || '加载失败' }));
  },

  onNameInput(e) {
    this.setData({ 'form.name': e.detail.value, 'errors.name': '' });
  },

  onCertNoInput(e) {
    this.setData({ 'form.certificateNo': e.detail.value, 'errors.certificateNo': '' });
  },

  onCertTypeChange(e) {
    const i = Number(e.detail.value);
    this.setData({ 'form.certificateType': i, certLabel: this.data.certTypes[i] || '', 'errors.certificateType': '' });
  },

  onSkillsChange(e) {
    this.setData({ 'form.skills': e.detail.value.map(Number), 'errors.skills': '' });
  },

  onAreasChange(e) {
    this.setData({ 'form.serviceAreas': e.detail.value.map(Number), 'errors.serviceAreas': '' });
  },

  onSubmitTap() {
    if (this.data.submitting) return Promise.resolve();
    const { errors, body } = validate(this.data.form);
    this.setData({ errors });
    if (!body) return Promise.resolve();
    this.setData({ submitting: true });
    return api.post('/api/providers/apply', body).then(
      () => {
        this.setData({ submitting: false });
        wx.showToast({ title: '已提交，等待审核', icon: 'success' });
        wx.navigateBack({ delta: 1 });
      },
      (err) => {
        this.setData({ submitting: false });
        if (err && err.code === 'already_applied') wx.showToast({ title: '已提交过申请，请等待审核', icon: 'none' });
        else api.showError(err);
      }
    );
  },
});
