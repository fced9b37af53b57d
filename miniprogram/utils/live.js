// The app's one socket to the hub (a mini program may hold at most 5), shared by its pages.
const api = require('./api');
const config = require('./config');
const { HubSocket } = require('./socket');

let socket = null;

function getSocket() {
  if (!socket) {
    socket = new HubSocket({ url: config.socketUrl(), getToken: api.getToken });
  }
  socket.connect();
  return socket;
}

// tests: forget the socket (closing it)
function reset() {
  if (socket) socket.close();
  socket = null;
}

module.exports = { getSocket, reset };
