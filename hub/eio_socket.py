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

Only a fresh websocket connection takes this loop; an upgrade from long-polling keeps
python-engineio's own. `install()` puts it on `engineio.async_socket.AsyncSocket` (the class
Engine.IO makes its sockets from), once, at the hub's start. Written from python-engineio
4.15.1's `_websocket_handler`; tests/test_eio_socket.py fails when that one changes.
"""

from __future__ import annotations

import asyncio

from engineio import async_socket, exceptions, packet

_ORIGINAL = async_socket.AsyncSocket._websocket_handler


def install() -> None:
    async_socket.AsyncSocket._websocket_handler = websocket_handler


async def next_packets(sock) -> list:
    """What is queued for the client: at least one packet, or [] when the socket ends (a
    None in the queue), like AsyncSocket.poll without its timeout."""
    first = await sock.queue.get()
    sock.queue.task_done()
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


async def websocket_handler(self, ws):
    if self.connected:  # an upgrade from long-polling: python-engineio's own loop
        return await _ORIGINAL(self, ws)
    self.connected = True
    self.upgraded = True
    reader = asyncio.current_task()
    reading = False

    async def writer():
        while True:
            packets = await next_packets(self)
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
        if self.closed and reading:
            reader.cancel()  # it would wait for a client that may never send again

    writer_task = asyncio.ensure_future(writer())
    while True:
        reading = True
        try:
            data = await ws.wait()
        except (Exception, asyncio.CancelledError):
            break
        finally:
            reading = False
        if data is None:  # the client closed the connection
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
    await self.queue.put(None)  # unlock the writer so it can exit
    await writer_task
    await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)
