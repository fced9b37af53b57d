"""Engine.IO's websocket loop without a task and a timer per message.

python-engineio's AsyncSocket reads every websocket message through
`asyncio.wait_for(ensure_future(wait()), ping_interval + ping_timeout)`, and its writer waits
for every outgoing batch the same way: per message a task, coroutines, a context, futures and
a timer, all alive until the next message — seconds, at a 4 s cadence. At 5,000 sockets that
was ~200,000 young live objects, which every young GC pass walked: 150 ms pauses, the p99 of
the location ramp (docs/profile.md). Here both loops await directly. What the two timeouts
did is done without them:

- a client that stops answering Engine.IO's pings is closed by Engine.IO's service task (as
  before); the writer, seeing its socket closed, sends what is queued (the CLOSE packet),
  closes the websocket, and stops the reader if it is still waiting — the connection ends at
  once instead of at the reader's 40 s timeout;
- a reader that ends (the client went) unblocks the writer, as before.

The reader awaits the ASGI receive itself and the writer the queue itself (no helper
coroutine around either), and the next ping is a timer rather than a task that sleeps: what
each socket keeps alive between two messages is what a young pass walks (docs/profile.md).
Most messages do not wake either of them: a PONG or an event answered inline is taken in
uvicorn's protocol callback (`take_now`, hub/ws_protocol.py) while the reader waits, and a
frame for the client is written at once while the writer is idle (`write_now`).

Only a fresh websocket connection takes this loop; an upgrade from long-polling keeps
python-engineio's own. `install()` puts it on `engineio.async_socket.AsyncSocket` (the class
Engine.IO makes its sockets from), once, at the hub's start. Written from python-engineio
4.15.1's `_websocket_handler`; tests/test_eio_socket.py fails when that one changes.
"""

from __future__ import annotations

import asyncio
import functools
import time

from engineio import async_socket, exceptions, packet

_ORIGINAL = async_socket.AsyncSocket._websocket_handler
_ORIGINAL_PING = (async_socket.AsyncSocket.schedule_ping, async_socket.AsyncSocket._send_ping)


def install() -> None:
    async_socket.AsyncSocket._websocket_handler = websocket_handler
    async_socket.AsyncSocket.schedule_ping = schedule_ping


def schedule_ping(self) -> None:
    """The next ping in `ping_interval`, as a timer: python-engineio starts a task per ping
    that sleeps the interval (25 s), so every socket always held a task, its coroutines, a
    future and a timer, renewed at every pong — thousands of young objects for each young GC
    pass to walk."""
    if self.last_ping:  # only after the previous ping's round trip, as python-engineio
        self.last_ping = None
        asyncio.get_running_loop().call_later(self.server.ping_interval, _ping, self)


def _ping(sock) -> None:
    """AsyncSocket._send_ping after its sleep: a PING written now when the writer is idle
    (write_now), else queued for it (its `send` without the await: the queue has no bound,
    and last_ping was just set)."""
    if not sock.closing and not sock.closed:
        sock.last_ping = time.time()
        if not write_now(sock, "2"):
            sock.queue.put_nowait(packet.Packet(packet.PING))


def take_now(sock, text: str) -> bool:
    """A text message from the client's websocket, offered in the protocol's callback
    (hub/ws_protocol.py) before it is queued for the reader: handled here, in that step, when
    it is a PONG or an event answered inline (hub/socket_edge.py `take_message`) and the
    reader waits with nothing before it. True: handled, the reader goes on waiting."""
    if not sock.oh_reading or sock.closing or sock.closed:
        return False
    if text == "3":  # PONG: AsyncSocket.receive schedules the next ping
        sock.schedule_ping()
        return True
    if text[:1] != "4" or len(text) > sock.server.max_http_buffer_size:
        return False
    take = getattr(sock.server, "oh_take_message", None)
    return take is not None and take(sock.sid, text[1:])


def more_packets(sock, first) -> list:
    """`first` (just taken from the queue) and whatever else is queued now; [] when `first`
    is the end (None): AsyncSocket.poll's batching, without its wait and timeout."""
    if first is None:
        return []
    packets = [first]
    while True:
        try:
            pkt = sock.queue.get_nowait()
        except asyncio.QueueEmpty:
            break
        sock.queue.task_done()
        if pkt is None:
            sock.queue.put_nowait(None)  # the end, for the next call
            break
        packets.append(pkt)
    return packets


def send_or_queue(sock, text: str) -> None:
    """A Socket.IO frame for the client: written now (write_now) or queued for the writer
    (AsyncServer.send without its await: the queue has no bound); dropped when the socket has
    closed, as AsyncSocket.send refuses it."""
    if not write_now(sock, "4" + text) and not sock.closed:
        sock.queue.put_nowait(packet.Packet(packet.MESSAGE, data=text))


def write_now(sock, frame: str) -> bool:
    """Write an Engine.IO frame to the client's websocket at once, in the caller's step, when
    nothing is queued before it and its writer is idle: an ack answered inline (a location
    update's), a ping or a delivered event then wakes no writer and leaves it nothing new to
    keep alive. False: queue it as usual (the writer is busy, the socket is not on this loop,
    the transport is paused)."""
    ws = getattr(sock, "oh_ws", None)
    if ws is None or not sock.oh_idle or not sock.queue.empty() or sock.closing or sock.closed:
        return False
    last_ping = sock.last_ping  # AsyncSocket.send's check: a client gone quiet is closed there
    if last_ping and time.time() - last_ping > sock.server.ping_timeout:
        return False
    writable = getattr(getattr(ws.asgi_send, "__self__", None), "writable", None)
    if writable is None or not writable.is_set():
        return False
    # uvicorn's send awaits nothing but `writable` (set): the coroutine ends in its first step
    step = ws.send(frame)
    try:
        step.send(None)
    except StopIteration:
        return True
    except Exception:
        return False  # the connection is going: the writer meets it and ends it
    step.close()  # suspended before writing anything: the queue takes the frame
    return False


async def websocket_handler(self, ws):
    if self.connected:  # an upgrade from long-polling: python-engineio's own loop
        return await _ORIGINAL(self, ws)
    self.connected = True
    self.upgraded = True
    reader = asyncio.current_task()
    self.oh_reading = False  # the reader waits for the next message (take_now may take it)
    self.oh_idle = False  # the writer waits on an empty queue (write_now may write)
    self.oh_ws = ws
    receive = ws.asgi_receive  # the ASGI receive; ws.wait() is one more coroutine around it
    protocol = getattr(receive, "__self__", None)
    if hasattr(protocol, "take_now"):  # hub/ws_protocol.py: messages offered in its callback
        protocol.take_now = functools.partial(take_now, self)

    async def writer():
        queue = self.queue
        while True:
            self.oh_idle = True
            first = await queue.get()  # awaited here, not in a helper: one coroutine fewer
            self.oh_idle = False
            queue.task_done()
            packets = more_packets(self, first)
            if not packets:
                break
            try:
                for pkt in packets:
                    await ws.send(pkt.encode())
            except Exception:
                break
            if self.closed:  # closed here (a ping timeout, a disconnect): end the connection
                break
        await ws.close()
        if self.closed and self.oh_reading:
            reader.cancel()  # it would wait for a client that may never send again

    writer_task = asyncio.ensure_future(writer())
    while True:
        self.oh_reading = True
        try:
            event = await receive()
        except (Exception, asyncio.CancelledError):
            break
        finally:
            self.oh_reading = False
        if event["type"] != "websocket.receive":  # the client closed the connection
            break
        data = event.get("text")
        if data is None:
            data = event.get("bytes")
        if data is None:
            break
        if len(data) > self.server.max_http_buffer_size:
            break  # as python-engineio does: too large a frame ends the connection
        try:
            await self.receive(packet.Packet(encoded_packet=data))
        except exceptions.UnknownPacketError:
            pass
        except exceptions.SocketIsClosedError:
            self.server.logger.info("Receive error -- socket is closed")
            break
        except Exception:
            self.server.logger.exception("Unknown receive error")
    self.oh_ws = None  # no more direct writes
    if protocol is not None and hasattr(protocol, "take_now"):
        protocol.take_now = None  # nor messages taken in the protocol's callback
    await self.queue.put(None)  # unlock the writer so it can exit
    await writer_task
    await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)
