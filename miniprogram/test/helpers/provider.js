// The provider side's extra wx.* mocks (location, navigation to a point, pictures), added to
// the wx mock of helpers/wx.js, and a stored provider login.
function addProviderWx(wx, opts) {
  const o = opts || {};
  wx.__locationHandlers = [];
  // Beijing, Wangjing, as WeChat reports it (GCJ-02)
  wx.getLocation = jest.fn((a) => (o.locationFails ? a.fail({ errMsg: 'getLocation:fail auth deny' }) : a.success({ latitude: 39.9975, longitude: 116.4811 })));
  wx.startLocationUpdate = jest.fn((a) => a && a.success && a.success({ errMsg: 'startLocationUpdate:ok' }));
  wx.stopLocationUpdate = jest.fn();
  wx.onLocationChange = jest.fn((fn) => wx.__locationHandlers.push(fn));
  wx.offLocationChange = jest.fn((fn) => {
    wx.__locationHandlers = wx.__locationHandlers.filter((f) => f !== fn);
  });
  wx.__moveTo = (latitude, longitude, extra) => {
    for (const fn of wx.__locationHandlers.slice()) fn(Object.assign({ latitude, longitude, speed: 1, accuracy: 10 }, extra || {}));
  };
  wx.openLocation = jest.fn();
  wx.chooseMedia = jest.fn();
  wx.uploadFile = jest.fn();
  wx.navigateBack = jest.fn();
  wx.previewImage = jest.fn();
  wx.switchTab = jest.fn();
  return wx;
}

function loginProvider(wx, providerId) {
  wx.setStorageSync('orderhub.token', 'tok-p');
  wx.setStorageSync('orderhub.user', { id: 21, role: 'provider', nickname: '王师傅', providerId: providerId || 11 });
}

module.exports = { addProviderWx, loginProvider };
