"""hub/eio_socket.py: Engine.IO's websocket loop without a task and a timer per message. The
connections themselves are exercised against the real hub by every socket test (drops,
drains, the 64 KB frame limit, reconnects: tests/test_bad_socket_input.py,
tests/test_graceful_stop.py, tests/test_drills.py); here, what those cannot show."""

from __future__ import annotations

import asyncio
import hashlib
import inspect
from types import SimpleNamespace

from hub import eio_socket

# python-engineio 4.15.1's AsyncSocket._websocket_handler, which hub/eio_socket.py was written
# from: when an upgrade changes it, read the new one and carry its changes over.
WRITTEN_FROM = "27f120df4d717a24478b7b0f7389ce19eea8a881dd07e2c81fb1cf2493e006a5"


def test_the_replaced_handler_is_the_one_this_was_written_from():
    source = inspect.getsource(eio_socket._ORIGINAL)
    assert hashlib.sha256(source.encode()).hexdigest() == WRITTEN_FROM


def test_install_replaces_the_websocket_handler_only():
    from engineio import async_socket

    eio_socket.install()
    assert async_socket.AsyncSocket._websocket_handler is eio_socket.websocket_handler
    assert async_socket.AsyncSocket.poll.__module__ == "engineio.async_socket"  # polling: its own


async def test_next_packets_takes_what_is_queued_and_keeps_the_end():
    sock = SimpleNamespace(queue=asyncio.Queue())
    for item in ("a", "b", None):
        sock.queue.put_nowait(item)
    assert await eio_socket.next_packets(sock) == ["a", "b"]
    assert await eio_socket.next_packets(sock) == []  # the end, kept for the next call
    assert sock.queue._unfinished_tasks == 0  # all marked done: close(wait=True) can join


async def test_next_packets_waits_without_a_timeout():
    sock = SimpleNamespace(queue=asyncio.Queue())
    waiting = asyncio.ensure_future(eio_socket.next_packets(sock))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    sock.queue.put_nowait("x")
    assert await asyncio.wait_for(waiting, 1) == ["x"]
