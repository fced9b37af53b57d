"""CONTRACT §7's socket edge: what a client may send before any handler sees it.

python-socketio routes a client's event by name alone, the reserved `connect` and `disconnect`
included: a client emitting `connect` would run the connect handler again (one argument: a
TypeError traceback; two: a second authentication that joins the new identity's rooms). And a
frame whose JSON has `NaN` fails to decode in Engine.IO's task, which logs a traceback and
answers nothing. So the server checks every event packet here, first:

- a name that is not a client event of the table (reserved names included) → `unknown_event`;
- a payload that does not decode, is not a JSON object, or holds a non-finite number →
  `invalid_input`;

both answered only when the client asked for an ack, and nothing else happens. The client
events are the ones registered with `sio.on` under non-reserved names, so a new event is
allowed by registering its handler.

Frames over `MAX_FRAME` bytes are refused by Engine.IO itself, which closes the connection
(there is no ack to answer); the client reconnects as after any drop (docs/api.md).

Hot events are answered inline (`on_inline`): `location.update` comes from every online
provider every few seconds, and python-socketio spends more on carrying it than the hub spends
on it (a packet object, a task per event, an async session read, a packet encode for an ack
that is always the same). An event frame of the plain shape `2<id>["name",{...}]` on the root
namespace whose name has an inline handler is decoded once, checked at the edge as above, and
answered by a synchronous handler in uvicorn's protocol callback (hub/ws_protocol.py) or,
when the socket's reader is busy, in its receive loop; every other frame, a malformed one
included, takes python-socketio's own path, so refusals are unchanged.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable

import socketio
from socketio import packet

from adapters import jsonio
from hub.eio_socket import send_or_queue

MAX_FRAME = 64 * 1024  # Engine.IO's max_http_buffer_size: one websocket frame or polling POST


class _Unreadable:
    """The data of a packet whose JSON did not decode."""

    def __repr__(self) -> str:
        return "<unreadable payload>"


UNREADABLE = _Unreadable()


class EdgePacket(packet.Packet):
    """A Socket.IO packet whose undecodable JSON becomes UNREADABLE instead of an exception
    (the header, and so the ack id, decoded before the JSON did)."""

    def decode(self, encoded_packet):
        try:
            return super().decode(encoded_packet)
        except json.JSONDecodeError:  # orjson's error is a subclass
            self.data = UNREADABLE
            return 0


def _finite(value, depth: int = 0) -> bool:
    """No NaN or ±Infinity anywhere (orjson refuses them in JSON text; this guards whatever
    else decodes), and no nesting deeper than 64 (none of our payloads nests past 3)."""
    kind = type(value)
    if kind is float:
        return math.isfinite(value)
    if kind is dict:
        values = value.values()
    elif kind is list:
        values = value
    else:
        return True
    if depth > 64:
        return False
    for item in values:
        kind = type(item)
        if kind is float:
            if not math.isfinite(item):
                return False
        elif (kind is dict or kind is list) and not _finite(item, depth + 1):
            return False
    return True


def refusal(data) -> dict | None:
    """The error an event packet's data earns at the edge, or None to let it through. `data`
    is `[name, payload?, ...]`; names are checked by the server (it knows its handlers)."""
    if data is UNREADABLE:
        return {
            "code": "invalid_input",
            "message": "the payload is not JSON (NaN and Infinity are not JSON numbers)",
        }
    args = data[1:]
    if args and not isinstance(args[0], dict):
        return {"code": "invalid_input", "message": "send the payload as a JSON object"}
    if not _finite(args):
        why = "numbers must be finite (no NaN/Infinity), nesting at most 64 deep"
        return {"code": "invalid_input", "message": why}
    return None


class EdgeServer(socketio.AsyncServer):
    """An AsyncServer that refuses, at the edge, events no handler of the table takes."""

    def __init__(self, **kwargs):
        super().__init__(serializer=EdgePacket, max_http_buffer_size=MAX_FRAME, **kwargs)
        self._events: tuple[int, frozenset[str]] = (-1, frozenset())
        self.inline: dict[str, Callable[[dict, object], dict]] = {}
        # (event, seconds) after each inline answer: hub/metrics.py counts and times them
        self.inline_done: Callable[[str, float], None] | None = None
        self.eio.oh_take_message = self.take_message  # for hub/eio_socket.py take_now

    def on_inline(self, event: str, handler: Callable[[dict, object], dict]) -> None:
        """Answer `event` inline: `handler(session, payload) -> ack`, synchronous, never
        raising (it runs in the protocol callback or the receive loop). The event keeps its
        `on` handler for frames the inline path leaves to python-socketio."""
        self.inline[event] = handler

    def take_message(self, eio_sid: str, data) -> bool:
        """An Engine.IO message handled in the caller's step (a websocket's protocol callback,
        hub/eio_socket.py `take_now`, or the reader below) when it is an event with an inline
        handler; False leaves it to python-socketio's path."""
        return type(data) is str and data[:1] == "2" and self._inline_event(eio_sid, data)

    async def _handle_eio_message(self, eio_sid, data):
        if self.take_message(eio_sid, data):
            return
        return await super()._handle_eio_message(eio_sid, data)

    def _inline_event(self, eio_sid: str, data: str) -> bool:
        """Answer an event frame inline when it has the plain shape and an inline handler;
        False leaves it to python-socketio."""
        i = 1
        while i < len(data) and data[i].isdigit():
            i += 1
        if not data.startswith('["', i):
            return False  # another namespace, a binary event, or no payload list
        end = data.find('"', i + 2)
        handler = self.inline.get(data[i + 2 : end]) if end > 0 else None
        if handler is None:
            return False
        try:
            payload = jsonio.loads(data[i:])
        except json.JSONDecodeError:
            return False  # python-socketio's path answers `invalid_input`
        started = time.perf_counter()
        sid = self.manager.sid_from_eio_sid(eio_sid, "/")
        if sid is None or not self.manager.is_connected(sid, "/"):
            return True  # as python-socketio does: an event before connect is dropped
        sock = self.eio.sockets.get(eio_sid)
        if sock is None or sock.closed:
            return True  # the socket closed meanwhile
        name = payload[0]
        error = refusal(payload)
        if error is not None:
            ack = {"ok": False, "error": error}
        else:
            args = payload[1] if len(payload) > 1 else None
            ack = handler(sock.session.setdefault("/", {}), args)
        if i > 1:  # the client asked for an ack: `3<id>[ack]`
            send_or_queue(sock, f"3{data[1:i]}{jsonio.dumps([ack])}")
        if self.inline_done is not None:
            self.inline_done(name, time.perf_counter() - started)
        return True

    def client_events(self) -> frozenset[str]:
        """The names registered with `on`, less the reserved ones (read once per change: this
        runs for every event, location updates included)."""
        handlers = self.handlers.get("/", {})
        if self._events[0] != len(handlers):
            names = frozenset(e for e in handlers if e not in self.reserved_events)
            self._events = (len(handlers), names)
        return self._events[1]

    async def _handle_event(self, eio_sid, namespace, id, data):
        name = data[0] if isinstance(data, list) and data else None
        if isinstance(name, str) and name in self.client_events():
            error = refusal(data)
        elif data is UNREADABLE:
            error = refusal(data)
        else:
            shown = name[:40] if isinstance(name, str) else type(name).__name__
            error = {"code": "unknown_event", "message": f"no client event {shown!r}"}
        if error is None:
            return await super()._handle_event(eio_sid, namespace, id, data)
        namespace = namespace or "/"
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if id is None or not self.manager.is_connected(sid, namespace):
            return
        ack = {"ok": False, "error": error}
        await self._send_packet(
            eio_sid, self.packet_class(packet.ACK, namespace=namespace, id=id, data=[ack])
        )
