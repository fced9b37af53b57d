"""uvicorn's sans-I/O websocket protocol, handing a text message to the app in the protocol's
own callback when the app can take it there.

uvicorn delivers every websocket message through ASGI: `data_received` puts it on an
`asyncio.Queue`, and the app's `await receive()` takes it — per message, on every socket, a
`receive` coroutine, a `Queue.get` coroutine and a future, alive until the socket's next
message (4 s at a provider's location cadence). At 5,000 sockets those chains were most of
what the hub's young GC pass walked every 10 s (docs/profile.md, "Fourth round").

Here the app may set `take_now(text) -> bool` on the protocol (hub/eio_socket.py does, for
a socket whose reader is waiting): a text message is first offered to it, in
`data_received`, and only when it says no (or something is already queued before it) does
it go on the queue as before. A taken message leaves the reader waiting where it was: its
chain is not renewed, so a young pass meets it once and the re-freeze keeps it.

Written from uvicorn 0.54.0's `send_receive_event_to_app`; tests/test_ws_protocol.py fails
when that one changes.
"""

from __future__ import annotations

from collections.abc import Callable

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

_ORIGINAL = WebSocketsSansIOProtocol.send_receive_event_to_app


class DirectWebSocketProtocol(WebSocketsSansIOProtocol):
    """The protocol class the hub gives uvicorn (`ws=`): as uvicorn's, plus `take_now`."""

    take_now: Callable[[str], bool] | None = None

    def send_receive_event_to_app(self) -> None:
        take = self.take_now
        frames = self.frames
        if (
            take is not None
            and self.curr_msg_data_type == "text"
            and len(frames) == 1
            and not self.close_sent
            and self.queue.empty()  # nothing before it waits for the app: order is kept
        ):
            try:
                text = frames[0].decode()
            except UnicodeDecodeError:
                return _ORIGINAL(self)  # uvicorn closes the connection (1007)
            if take(text):
                self.frames = []
                return
        _ORIGINAL(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.take_now = None  # nothing more is handed over; the reader meets the disconnect
        super().connection_lost(exc)
