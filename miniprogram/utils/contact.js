// Masked calls (CONTRACT §13): both parties of a live order call each other through the
// order's virtual number (GET /api/orders/{id}/contact), never each other's own. One module for
// the customer's and the provider's order detail, so both say the same thing for each refusal.
const api = require('./api');

// the hub's refusals, in the caller's words; party: 'customer' | 'provider' (who is calling)
const REFUSALS = {
  no_number_available: () => '暂无可用的隐私号码，请先发消息联系',
  no_phone: (party) => (party === 'provider' ? '请先绑定手机号后再拨打' : '师傅未绑定手机号，请先发消息联系'),
  not_live: () => '订单当前不可通话',
  number_pending: () => '号码分配中，请稍后再试',
  number_unavailable: () => '号码暂不可用，请稍后再试',
};

function refusalText(err, party) {
  const say = err && REFUSALS[err.code];
  return say ? say(party) : '';
}

// Fetch the number and dial it. Resolves the number dialled, or null (refused: toasted).
function call(orderId, party) {
  return api.get('/api/orders/' + orderId + '/contact').then(
    (res) => {
      // a cancelled dial (the user closed the sheet) is no error
      wx.makePhoneCall({ phoneNumber: res.virtualNumber, fail: () => {} });
      return res.virtualNumber;
    },
    (err) => {
      const text = refusalText(err, party);
      if (text) wx.showToast({ title: text, icon: 'none', duration: 2500 });
      else api.showError(err);
      return null;
    }
  );
}

module.exports = { call, refusalText };
