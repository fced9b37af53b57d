"""The inline path for hot events (hub/socket_edge.py `on_inline`): which frames it answers,
what it answers, and which it leaves to python-socketio (whose path the socket tests cover
against the real hub: tests/test_bad_socket_input.py, tests/test_tracking.py)."""

from __future__ import annotations

import pytest

from hub.socket_edge import EdgeServer


class _Socket:
    """An Engine.IO socket with no websocket of this loop: what is answered is queued."""

    closed = closing = False

    def __init__(self, session: dict, sent: list[str]):
        self.session = session
        self.queue = self
        self.sent = sent

    def put_nowait(self, pkt):
        self.sent.append(pkt.data)


class Harness:
    """An EdgeServer whose Engine.IO side is a recorder: one connected client, `eio1`."""

    def __init__(self, connected: bool = True):
        self.sio = EdgeServer(async_mode="asgi")
        self.sent: list[str] = []
        self.seen: list[tuple[dict, object]] = []
        self.timed: list[str] = []
        self.session = {"pid": 7}
        self.sio.manager.sid_from_eio_sid = lambda eio_sid, ns: "sid1" if connected else None
        self.sio.manager.is_connected = lambda sid, ns: connected
        self.sio.eio.sockets["eio1"] = _Socket({"/": self.session}, self.sent)
        self.sio.on_inline("location.update", self.handler)
        self.sio.inline_done = lambda event, seconds: self.timed.append(event)

    def handler(self, session, data):
        self.seen.append((session, data))
        return {"ok": True}

    def frame(self, data: str) -> bool:
        return self.sio.take_message("eio1", data)


async def test_a_plain_frame_is_answered_inline_with_its_ack_id():
    h = Harness()
    assert h.frame('212["location.update",{"lat":20.5,"lng":110.25}]')
    assert h.seen == [({"pid": 7}, {"lat": 20.5, "lng": 110.25})]
    assert h.sent == ['312[{"ok":true}]']
    assert h.timed == ["location.update"]


async def test_without_an_ack_id_nothing_is_sent_back():
    h = Harness()
    assert h.frame('2["location.update",{"lat":1,"lng":2}]')
    assert len(h.seen) == 1 and h.sent == []


async def test_edge_refusals_are_the_same_as_python_socketios_path():
    h = Harness()
    assert h.frame('23["location.update",[1,2]]')
    assert h.frame('24["location.update"]')  # no payload: the handler gets None
    assert h.sent[0] == (
        '33[{"ok":false,"error":{"code":"invalid_input","message":"send the payload as a'
        ' JSON object"}}]'
    )
    assert h.seen == [({"pid": 7}, None)] and h.sent[1] == '34[{"ok":true}]'


@pytest.mark.parametrize(
    "frame",
    [
        '25["heartbeat",{}]',  # no inline handler
        '2/ns,5["location.update",{"lat":1,"lng":2}]',  # another namespace
        '25["location.update",{"lat":NaN,"lng":2}]',  # not JSON: python-socketio refuses it
        '25["location\\u002eupdate",{}]',  # an escaped name
        "25{}",
        "2",
        '251-["location.update",{}]',  # a binary event's header
    ],
)
async def test_other_frames_are_left_to_python_socketio(frame):
    h = Harness()
    assert not h.frame(frame)
    assert h.seen == [] and h.sent == []


async def test_an_event_from_a_socket_not_connected_is_dropped():
    h = Harness(connected=False)
    assert h.frame('26["location.update",{"lat":1,"lng":2}]')
    assert h.seen == [] and h.sent == []
