// The app's one socket to the hub (a mini program may hold at most 5), shared by its pages.
const api = require('./api');
const auth = require('./auth');
const config = require('./config');
const { HubSocket } = require('./socket');

const RELOGIN_EVERY_MS = 30000;
let socket = null;
let lastRelogin = 0;

// A refused or missing token: log in again (at most every 30 s) and reconnect.
function onAuthError() {
  const now = Date.now();
  if (now - lastRelogin < RELOGIN_EVERY_MS) return Promise.resolve(false);
  lastRelogin = now;
  wx.removeStorageSync(config.KEYS.token);
  const user = auth.currentUser();
  return auth.login((user && user.role) || 'customer').then(
    () => {
      if (socket) socket.connect();
      return true;
    },
    () => false
  );
}

function getSocket() {
  if (!socket) {
    socket = new HubSocket({ url: config.socketUrl(), getToken: api.getToken });
    socket.on('auth_error', onAuthError);
  }
  socket.connect();
  return socket;
}

// tests: forget the socket (closing it)
function reset() {
  if (socket) socket.close();
  socket = null;
  lastRelogin = 0;
}

module.exports = { getSocket, reset, onAuthError };
