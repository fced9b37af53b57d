"""The hub's delivery to its own sockets (hub/fanout.py `_handle_emit`): one frame encoded once
and queued on each recipient, the same frames python-socketio's own path sends; a socket that
fails does not keep the others from theirs. (Delivery through Redis between hub processes is
covered against the real hub: tests/test_grab.py, tests/test_hub_workers.py.)"""

from __future__ import annotations

import asyncio

import pytest

from hub import fanout
from hub.fanout import ResyncingRedisManager
from hub.socket_edge import EdgeServer


class Harness:
    def __init__(self):
        self.manager = ResyncingRedisManager("redis://127.0.0.1:6379/0", "test", write_only=True)
        self.sio = EdgeServer(async_mode="asgi", client_manager=self.manager)
        self.frames: list[tuple[str, str]] = []
        self.broken: set[str] = set()

        async def send(eio_sid, pkt):
            if eio_sid in self.broken:
                raise RuntimeError("socket closed")
            self.frames.append((eio_sid, pkt.encode()))

        self.sio._send_eio_packet = send

    async def join(self) -> Harness:
        for n in (1, 2, 3):
            sid = await self.manager.connect(f"eio{n}", "/")
            await self.manager.enter_room(sid, "/", "order:7" if n < 3 else "order:8")
        return self

    async def deliver(self, **message) -> None:
        base = {"method": "emit", "namespace": "/", "callback": None, "binary": False}
        await self.manager._handle_emit({**base, **message})


async def test_a_room_gets_one_frame_each():
    h = await Harness().join()
    await h.deliver(event="order.status", data=[{"seq": 3, "orderId": 7}], room="order:7")
    assert sorted(h.frames) == [
        ("eio1", '42["order.status",{"seq":3,"orderId":7}]'),
        ("eio2", '42["order.status",{"seq":3,"orderId":7}]'),
    ]


@pytest.mark.parametrize(
    ("data", "frame"),
    [([None], '42["x"]'), ([1, "a"], '42["x",1,"a"]'), ([[1, 2]], '42["x",[1,2]]')],
)
async def test_arguments_unpack_as_python_socketio_does(data, frame):
    h = await Harness().join()
    await h.deliver(event="x", data=data, room="order:8")
    assert h.frames == [("eio3", frame)]


async def test_a_failing_socket_does_not_stop_the_others():
    h = await Harness().join()
    h.broken.add("eio1")
    await h.deliver(event="order.status", data=[{"seq": 4}], room="order:7")
    assert h.frames == [("eio2", '42["order.status",{"seq":4}]')]


async def test_a_hosts_batch_is_delivered_event_by_event_in_order():
    h = await Harness().join()
    await h.deliver(
        batch=[
            ["order.offer", {"orderId": 1}, "order:8"],
            ["order.status", {"seq": 5}, "order:7"],
            ["provider.location", {"lat": 1.5}, ["order:8", "order:7"]],
            ["order.offer", {"orderId": 2}, "order:9"],  # nobody here: nothing sent
        ]
    )
    by_socket: dict[str, list[str]] = {}
    for eio_sid, frame in h.frames:
        by_socket.setdefault(eio_sid, []).append(frame)
    assert by_socket == {
        "eio1": ['42["order.status",{"seq":5}]', '42["provider.location",{"lat":1.5}]'],
        "eio2": ['42["order.status",{"seq":5}]', '42["provider.location",{"lat":1.5}]'],
        "eio3": ['42["order.offer",{"orderId":1}]', '42["provider.location",{"lat":1.5}]'],
    }


async def test_a_large_batch_lets_other_callbacks_run_between_its_parts():
    h = await Harness().join()
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.ensure_future(ticker())
    await asyncio.sleep(0)
    before = ticks
    await h.deliver(batch=[["order.status", {"seq": n}, "order:7"] for n in range(1000)])
    task.cancel()
    assert len(h.frames) == 2000 and ticks - before >= 2000 // fanout.YIELD_EVERY
