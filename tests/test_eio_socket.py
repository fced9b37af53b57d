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
# ... and its schedule_ping and _send_ping, which hub/eio_socket.py's ping replaces
PING_WRITTEN_FROM = (
    "fe316639159cd70d34cdb911a055fc1a0056ff15615b8460a1ab6593c95e9372",
    "67db82a704ea49d0ad34e967728cec06020d036431d67c1612162a907526cb43",
)


def test_the_replaced_handler_is_the_one_this_was_written_from():
    source = inspect.getsource(eio_socket._ORIGINAL)
    assert hashlib.sha256(source.encode()).hexdigest() == WRITTEN_FROM


def test_the_replaced_ping_is_the_one_this_was_written_from():
    sources = [inspect.getsource(f) for f in eio_socket._ORIGINAL_PING]
    assert tuple(hashlib.sha256(s.encode()).hexdigest() for s in sources) == PING_WRITTEN_FROM


def test_install_replaces_the_websocket_handler_and_the_ping_only():
    from engineio import async_socket

    eio_socket.install()
    assert async_socket.AsyncSocket._websocket_handler is eio_socket.websocket_handler
    assert async_socket.AsyncSocket.schedule_ping is eio_socket.schedule_ping
    assert async_socket.AsyncSocket.poll.__module__ == "engineio.async_socket"  # polling: its own


def _taken(sock):
    """What the writer does before more_packets: take one and mark it done."""
    first = sock.queue.get_nowait()
    sock.queue.task_done()
    return first


async def test_more_packets_takes_what_is_queued_and_keeps_the_end():
    sock = SimpleNamespace(queue=asyncio.Queue())
    for item in ("a", "b", None):
        sock.queue.put_nowait(item)
    assert eio_socket.more_packets(sock, _taken(sock)) == ["a", "b"]
    assert eio_socket.more_packets(sock, _taken(sock)) == []  # the end, kept for the next call
    assert sock.queue._unfinished_tasks == 0  # all marked done: close(wait=True) can join


def _pinged_socket(**state):
    sock = SimpleNamespace(
        queue=asyncio.Queue(),
        server=SimpleNamespace(ping_interval=0.05),
        last_ping=1.0,
        closing=False,
        closed=False,
    )
    for k, v in state.items():
        setattr(sock, k, v)
    return sock


async def test_a_pong_schedules_one_ping_after_the_interval_without_a_task():
    sock = _pinged_socket()
    tasks = len(asyncio.all_tasks())
    eio_socket.schedule_ping(sock)
    assert sock.last_ping is None and len(asyncio.all_tasks()) == tasks
    eio_socket.schedule_ping(sock)  # no second ping before this one's round trip
    await asyncio.sleep(0.03)
    assert sock.queue.empty()
    ping = await asyncio.wait_for(sock.queue.get(), 1)
    assert ping.encode() == "2" and sock.last_ping is not None
    await asyncio.sleep(0.1)
    assert sock.queue.empty()


async def test_no_ping_for_a_socket_that_closed_meanwhile():
    sock = _pinged_socket()
    eio_socket.schedule_ping(sock)
    sock.closed = True
    await asyncio.sleep(0.1)
    assert sock.queue.empty() and sock.last_ping is None


class _Proto:
    """uvicorn's websocket protocol as write_now sees it: `writable` and a send that awaits it."""

    def __init__(self):
        self.writable = asyncio.Event()
        self.writable.set()
        self.sent: list[dict] = []

    async def send(self, message):
        await self.writable.wait()
        self.sent.append(message)


class _Ws:
    def __init__(self, proto):
        self.asgi_send = proto.send

    async def send(self, text):
        await self.asgi_send({"type": "websocket.send", "text": text})


def _direct_socket(**state):
    proto = _Proto()
    sock = SimpleNamespace(
        queue=asyncio.Queue(),
        server=SimpleNamespace(ping_timeout=20),
        last_ping=None,
        closing=False,
        closed=False,
        oh_idle=True,
        oh_ws=_Ws(proto),
    )
    for k, v in state.items():
        setattr(sock, k, v)
    return sock, proto


async def test_an_inline_ack_is_written_at_once_when_the_writer_is_idle():
    sock, proto = _direct_socket()
    eio_socket.send_or_queue(sock, '30[{"ok":true}]')
    assert sock.queue.empty()
    assert proto.sent == [{"type": "websocket.send", "text": '430[{"ok":true}]'}]


async def test_an_inline_ack_waits_its_turn_behind_anything_queued_or_being_sent():
    for state in ({"oh_idle": False}, {"closed": True}, {"oh_ws": None}):
        sock, proto = _direct_socket(**state)
        assert not eio_socket.write_now(sock, "430[{}]")
        assert proto.sent == []
    sock, proto = _direct_socket()
    sock.queue.put_nowait("queued first")
    assert not eio_socket.write_now(sock, "430[{}]") and proto.sent == []


async def test_no_direct_write_to_a_paused_transport_or_a_client_gone_quiet():
    sock, proto = _direct_socket()
    proto.writable.clear()  # the transport asked us to stop writing
    assert not eio_socket.write_now(sock, "430[{}]")
    proto.writable.set()
    await asyncio.sleep(0)
    assert proto.sent == []  # the suspended try was dropped, not written later
    sock.last_ping = 1.0  # a ping unanswered for longer than ping_timeout: send() closes it
    assert not eio_socket.write_now(sock, "430[{}]") and proto.sent == []


async def test_a_frame_not_written_at_once_is_queued_for_the_writer_unless_closed():
    sock, proto = _direct_socket(oh_idle=False)
    eio_socket.send_or_queue(sock, "30[{}]")
    assert proto.sent == [] and sock.queue.get_nowait().encode() == "430[{}]"
    sock, proto = _direct_socket(oh_idle=False, closed=True)
    eio_socket.send_or_queue(sock, "30[{}]")
    assert proto.sent == [] and sock.queue.empty()


async def test_a_ping_is_written_at_once_when_the_writer_is_idle():
    sock, proto = _direct_socket(last_ping=1.0)
    sock.server.ping_interval = 0.02
    eio_socket.schedule_ping(sock)
    await asyncio.sleep(0.06)
    assert proto.sent == [{"type": "websocket.send", "text": "2"}] and sock.queue.empty()


def _reading_socket(**state):
    taken: list = []
    sock, _ = _direct_socket(**{"oh_reading": True, "sid": "eio1", **state})
    sock.server.max_http_buffer_size = 64
    sock.server.oh_take_message = lambda sid, data: taken.append((sid, data)) or data[:1] == "2"
    sock.schedule_ping = lambda: taken.append("pong")
    return sock, taken


async def test_a_pong_or_an_inline_event_is_taken_in_the_protocols_step():
    sock, taken = _reading_socket()
    assert eio_socket.take_now(sock, "3")
    assert eio_socket.take_now(sock, '42["location.update",{}]')
    assert not eio_socket.take_now(sock, '40{"token":"t"}')  # a connect: the reader's
    assert taken == ["pong", ("eio1", '2["location.update",{}]'), ("eio1", '0{"token":"t"}')]


async def test_nothing_is_taken_while_the_reader_is_busy_or_the_socket_closed():
    for state in ({"oh_reading": False}, {"closed": True}, {"closing": True}):
        sock, taken = _reading_socket(**state)
        assert not eio_socket.take_now(sock, "3")
        assert not eio_socket.take_now(sock, '42["location.update",{}]')
        assert taken == []
    sock, taken = _reading_socket()
    assert not eio_socket.take_now(sock, "42" + "x" * 80)  # over the frame limit: the reader's
    assert not eio_socket.take_now(sock, "2probe") and taken == []
