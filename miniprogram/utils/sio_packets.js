// Engine.IO 4 / Socket.IO 5 packet framing for utils/socket.js: pure functions, no wx.*.
//
// Engine.IO packets are text frames whose first character is the type:
//   0 open {sid, pingInterval, pingTimeout, maxPayload}   1 close   2 ping   3 pong   4 message
// A Socket.IO packet rides in a message (4) and starts with its own type:
//   0 CONNECT (client sends auth: 40{"token":…}; hub answers 40{"sid":…})
//   1 DISCONNECT   2 EVENT 42[<id>]["name",data]   3 ACK 43<id>[data]   4 CONNECT_ERROR 44{…}
// (the default namespace "/" is never written.)
// Ack ids are chosen by the caller (socket.js counts them up per connection).

const EIO = { OPEN: '0', CLOSE: '1', PING: '2', PONG: '3', MESSAGE: '4' };
const SIO = { CONNECT: '0', DISCONNECT: '1', EVENT: '2', ACK: '3', CONNECT_ERROR: '4' };

function encodeConnect(auth) {
  return EIO.MESSAGE + SIO.CONNECT + (auth ? JSON.stringify(auth) : '');
}

function encodeEvent(name, data, ackId) {
  const args = data === undefined ? [name] : [name, data];
  return EIO.MESSAGE + SIO.EVENT + (ackId !== undefined && ackId !== null ? String(ackId) : '') + JSON.stringify(args);
}

function encodeAck(ackId, args) {
  return EIO.MESSAGE + SIO.ACK + String(ackId) + JSON.stringify(args || []);
}

// Parse one Socket.IO packet (the text after the Engine.IO '4').
function decodeSocketIO(text) {
  const type = text.charAt(0);
  let i = 1;
  let nsp = '/';
  if (text.charAt(i) === '/') {
    const comma = text.indexOf(',', i);
    nsp = comma < 0 ? text.slice(i) : text.slice(i, comma);
    i = comma < 0 ? text.length : comma + 1;
  }
  let idText = '';
  while (i < text.length && text.charAt(i) >= '0' && text.charAt(i) <= '9') {
    idText += text.charAt(i);
    i += 1;
  }
  const rest = text.slice(i);
  let data;
  if (rest) {
    try {
      data = JSON.parse(rest);
    } catch (e) {
      return null;
    }
  }
  return { type, nsp, id: idText ? Number(idText) : null, data };
}

function decodeFrame(frame) {
  if (typeof frame !== 'string' || !frame) return null;
  const type = frame.charAt(0);
  const body = frame.slice(1);
  if (type === EIO.OPEN) {
    try {
      return { eio: type, data: JSON.parse(body) };
    } catch (e) {
      return null;
    }
  }
  if (type === EIO.MESSAGE) return { eio: type, sio: decodeSocketIO(body) };
  return { eio: type, data: body };
}

module.exports = {
  encodeConnect,
  encodeEvent,
  encodeAck,
  decodeFrame,
  decodeSocketIO,
  EIO,
  SIO,
};
