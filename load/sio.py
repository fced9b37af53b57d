"""A lean asyncio Socket.IO v5 client over one Engine.IO v4 websocket.

Only what a load generator needs: the websocket transport (no polling, no upgrade),
the default namespace or one other, text packets (no binary attachments), events,
acks in both directions, ping/pong, connect with ``auth``, disconnect. Reconnecting
is left to the caller (``connect()`` again), because what a client must do after a
reconnect (re-join, re-watch with ``afterSeq``) is application logic.

Wire format (Engine.IO v4 over websocket, one packet per frame):
``0{json}`` open, ``1`` close, ``2`` ping (from the server), ``3`` pong, ``4<socket.io>``.
Socket.IO v5 packet: ``<type>[<nsp>,][<ackId>][json]`` with type 0 CONNECT,
1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR (5/6 binary: unsupported).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable
from typing import Any

import orjson
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

__all__ = [
    "COUNTERS",
    "AckTimeout",
    "ConnectError",
    "Disconnected",
    "SioClient",
    "encode_event",
    "parse_packet",
]


class Counters:
    """Process-wide message counters (cheap: plain ints), read by the metrics loop."""

    __slots__ = ("connects", "disconnects", "recv", "sent")

    def __init__(self) -> None:
        self.sent = 0
        self.recv = 0
        self.connects = 0
        self.disconnects = 0


COUNTERS = Counters()


class ConnectError(Exception):
    """The server refused the Socket.IO connect (CONNECT_ERROR) or the handshake failed."""

    def __init__(self, message: str, data: Any = None):
        super().__init__(message)
        self.data = data


class Disconnected(Exception):
    """The connection went away while an ack was awaited, or before a send."""


class AckTimeout(asyncio.TimeoutError):
    """No ack within the time-out."""


# --- codec ----------------------------------------------------------------------------


def _nsp_prefix(nsp: str) -> bytes:
    return b"" if nsp == "/" else nsp.encode() + b","


def encode_event(event: str, data: Any = None, ack_id: int | None = None, nsp: str = "/") -> bytes:
    """Engine.IO message carrying a Socket.IO EVENT: ``42[nsp,][id]["event",data]``."""
    args = [event] if data is None else [event, data]
    head = b"42" + _nsp_prefix(nsp)
    if ack_id is not None:
        head += str(ack_id).encode()
    return head + orjson.dumps(args)


def encode_ack(ack_id: int, args: list, nsp: str = "/") -> bytes:
    return b"43" + _nsp_prefix(nsp) + str(ack_id).encode() + orjson.dumps(args)


def encode_connect(auth: Any = None, nsp: str = "/") -> bytes:
    body = b"" if auth is None else orjson.dumps(auth)
    if nsp != "/":
        return b"40" + nsp.encode() + b"," + body
    return b"40" + body


def parse_packet(raw: bytes | str) -> tuple[str, int, str, int | None, Any]:
    """Parse one Engine.IO frame.

    Returns ``(eio_type, sio_type, nsp, ack_id, payload)``; ``sio_type`` is -1 and
    ``payload`` the raw rest for non-message Engine.IO packets.
    """
    if isinstance(raw, str):
        raw = raw.encode()
    if not raw:
        return "", -1, "/", None, None
    eio = chr(raw[0])
    if eio != "4":
        return eio, -1, "/", None, raw[1:]
    if len(raw) < 2:
        return eio, -1, "/", None, None
    sio = raw[1] - 48
    i = 2
    n = len(raw)
    nsp = "/"
    if i < n and raw[i] == 0x2F:  # "/"
        j = raw.find(b",", i)
        if j < 0:
            nsp = raw[i:].decode()
            i = n
        else:
            nsp = raw[i:j].decode()
            i = j + 1
    ack_id = None
    j = i
    while j < n and 48 <= raw[j] <= 57:
        j += 1
    if j > i:
        ack_id = int(raw[i:j])
        i = j
    payload = orjson.loads(raw[i:]) if i < n else None
    return eio, sio, nsp, ack_id, payload


# --- client ---------------------------------------------------------------------------


class SioClient:
    """One Socket.IO connection.

    ``on(event, handler)``: ``handler(*args)`` is called in the reader task; it may be a
    plain function (keep it short) or a coroutine function (run as a task). If the server
    asked for an ack, the handler's return value is sent back.
    """

    def __init__(
        self,
        url: str,
        *,
        auth: Any = None,
        path: str = "/socket.io",
        namespace: str = "/",
        headers: dict | None = None,
        connect_timeout: float = 10.0,
        on_disconnect: Callable[[str], Any] | None = None,
        counters: Counters = COUNTERS,
    ):
        base = url.rstrip("/")
        if base.startswith("http://"):
            base = "ws://" + base[7:]
        elif base.startswith("https://"):
            base = "wss://" + base[8:]
        self.url = f"{base}/{path.strip('/')}/?EIO=4&transport=websocket"
        self.auth = auth
        self.nsp = namespace
        self.headers = headers
        self.connect_timeout = connect_timeout
        self.on_disconnect = on_disconnect
        self.counters = counters
        self.handlers: dict[str, Callable[..., Any]] = {}
        self.on_any: Callable[[str, list], Any] | None = None
        self.connected = False
        self.sid: str | None = None
        self.eio_sid: str | None = None
        self.ping_interval = 25.0
        self.ping_timeout = 20.0
        self._ws = None
        self._reader: asyncio.Task | None = None
        self._acks: dict[int, asyncio.Future] = {}
        self._next_ack = 0
        self._ping_deadline: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task] = set()
        self._closing = False

    # registration
    def on(self, event: str, handler: Callable[..., Any] | None = None):
        if handler is None:

            def deco(fn):
                self.handlers[event] = fn
                return fn

            return deco
        self.handlers[event] = handler
        return handler

    # lifecycle
    async def connect(self) -> None:
        if self.connected:
            return
        self._closing = False
        async with asyncio.timeout(self.connect_timeout):
            ws = await ws_connect(
                self.url,
                compression=None,
                ping_interval=None,
                max_size=None,
                close_timeout=1,
                proxy=None,
                user_agent_header=None,
                additional_headers=self.headers,
                open_timeout=self.connect_timeout,
            )
            try:
                raw = await ws.recv(decode=False)
                if not raw or raw[:1] != b"0":
                    raise ConnectError(f"expected Engine.IO open packet, got {raw[:40]!r}")
                info = orjson.loads(raw[1:])
                self.eio_sid = info.get("sid")
                self.ping_interval = info.get("pingInterval", 25000) / 1000
                self.ping_timeout = info.get("pingTimeout", 20000) / 1000
                await ws.send(encode_connect(self.auth, self.nsp), text=True)
                while True:
                    raw = await ws.recv(decode=False)
                    eio, sio, nsp, _ack, payload = parse_packet(raw)
                    if eio == "2":
                        await ws.send(b"3" + raw[1:], text=True)
                        continue
                    if eio != "4" or nsp != self.nsp:
                        continue
                    if sio == 0:
                        self.sid = (payload or {}).get("sid")
                        break
                    if sio == 4:
                        msg = payload.get("message") if isinstance(payload, dict) else payload
                        raise ConnectError(str(msg), payload)
            except BaseException:
                with contextlib.suppress(Exception):
                    await ws.close()
                raise
        self._ws = ws
        self.connected = True
        self.counters.connects += 1
        self._arm_ping_deadline()
        self._reader = asyncio.get_running_loop().create_task(self._read_loop())

    async def disconnect(self) -> None:
        """Clean disconnect: Socket.IO DISCONNECT, then close the websocket."""
        if not self.connected:
            return
        self._closing = True
        ws = self._ws
        with contextlib.suppress(Exception):
            await ws.send(b"41" + _nsp_prefix(self.nsp), text=True)
        with contextlib.suppress(Exception):
            await ws.close()
        self._lost("client disconnect")
        if self._reader and self._reader is not asyncio.current_task():
            with contextlib.suppress(BaseException):
                await self._reader

    def abort(self) -> None:
        """Drop the TCP connection without a goodbye (network loss)."""
        if self._ws is not None:
            with contextlib.suppress(Exception):
                self._ws.transport.abort()

    # sending
    async def emit(self, event: str, data: Any = None) -> None:
        if not self.connected:
            raise Disconnected(event)
        self.counters.sent += 1
        await self._ws.send(encode_event(event, data, None, self.nsp), text=True)

    async def call(self, event: str, data: Any = None, timeout: float = 10.0) -> Any:
        """Emit with an ack id and return the ack's first argument."""
        if not self.connected:
            raise Disconnected(event)
        self._next_ack += 1
        ack_id = self._next_ack
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._acks[ack_id] = fut
        timer = loop.call_later(timeout, _expire, fut, event)
        try:
            self.counters.sent += 1
            await self._ws.send(encode_event(event, data, ack_id, self.nsp), text=True)
            return await fut
        except ConnectionClosed as e:
            raise Disconnected(event) from e
        finally:
            timer.cancel()
            self._acks.pop(ack_id, None)

    # internals
    def _arm_ping_deadline(self) -> None:
        if self._ping_deadline is not None:
            self._ping_deadline.cancel()
        self._ping_deadline = asyncio.get_running_loop().call_later(
            self.ping_interval + self.ping_timeout + 1, self.abort
        )

    def _lost(self, reason: str) -> None:
        if not self.connected:
            return
        self.connected = False
        self.counters.disconnects += 1
        if self._ping_deadline is not None:
            self._ping_deadline.cancel()
            self._ping_deadline = None
        for fut in self._acks.values():
            if not fut.done():
                fut.set_exception(Disconnected(reason))
        self._acks.clear()
        if self.on_disconnect is not None:
            try:
                res = self.on_disconnect(reason)
                if inspect.isawaitable(res):
                    self._spawn(res)
            except Exception:  # a handler's bug must not kill the reader
                pass

    def _spawn(self, coro) -> None:
        t = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)

    async def _read_loop(self) -> None:
        ws = self._ws
        reason = "transport close"
        try:
            while True:
                raw = await ws.recv(decode=False)
                c = raw[:1]
                if c == b"4":
                    self.counters.recv += 1
                    self._on_message(raw)
                elif c == b"2":
                    self._arm_ping_deadline()
                    await ws.send(b"3" + raw[1:], text=True)
                elif c == b"1":
                    reason = "server close"
                    break
        except ConnectionClosed:
            pass
        except asyncio.CancelledError:
            reason = "cancelled"
        except Exception as e:  # malformed packet: treat as a dead connection
            reason = f"error: {e!r}"
        finally:
            if self._closing:
                reason = "client disconnect"
            self._lost(reason)
            with contextlib.suppress(Exception):
                await ws.close()

    def _on_message(self, raw: bytes) -> None:
        _eio, sio, nsp, ack_id, payload = parse_packet(raw)
        if nsp != self.nsp:
            return
        if sio == 2:
            if not payload:
                return
            event, args = payload[0], payload[1:]
            handler = self.handlers.get(event)
            if handler is None:
                if self.on_any is not None:
                    self.on_any(event, args)
                if ack_id is not None:
                    self._spawn(self._send_ack(ack_id, []))
                return
            res = handler(*args)
            if inspect.isawaitable(res):
                self._spawn(self._finish_handler(res, ack_id))
            elif ack_id is not None:
                self._spawn(self._send_ack(ack_id, [] if res is None else [res]))
        elif sio == 3:
            fut = self._acks.get(ack_id)
            if fut is not None and not fut.done():
                fut.set_result(payload[0] if payload else None)
        elif sio == 1:
            self._closing = False
            self._lost("server disconnect")
            with contextlib.suppress(Exception):
                self._spawn(self._ws.close())

    async def _finish_handler(self, aw, ack_id: int | None) -> None:
        res = await aw
        if ack_id is not None:
            await self._send_ack(ack_id, [] if res is None else [res])

    async def _send_ack(self, ack_id: int, args: list) -> None:
        with contextlib.suppress(Exception):
            self.counters.sent += 1
            await self._ws.send(encode_ack(ack_id, args, self.nsp), text=True)


def _expire(fut: asyncio.Future, event: str) -> None:
    if not fut.done():
        fut.set_exception(AckTimeout(f"no ack for {event!r}"))
