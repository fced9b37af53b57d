"""The lean Socket.IO client (load/sio.py) against a real python-socketio AsyncServer."""

from __future__ import annotations

import asyncio

import pytest
import socketio
from conftest import serve_asgi

from load.sio import AckTimeout, ConnectError, Disconnected, SioClient, encode_event, parse_packet


def serve(sio: socketio.AsyncServer):
    return serve_asgi(socketio.ASGIApp(sio))


def make_server(**kw) -> socketio.AsyncServer:
    sio = socketio.AsyncServer(async_mode="asgi", **kw)
    seen = {}

    @sio.event
    async def connect(sid, environ, auth):
        if not auth or auth.get("token") != "good":
            raise socketio.exceptions.ConnectionRefusedError({"code": "unauthorized"})
        seen["auth"] = auth

    @sio.on("echo")
    async def echo(sid, data):
        return {"ok": True, "data": data}

    @sio.on("silent")
    async def silent(sid, data):
        await asyncio.sleep(5)

    @sio.on("push-me")
    async def push_me(sid, data):
        for i in range(data["n"]):
            await sio.emit("pushed", {"i": i}, to=sid)
        return {"ok": True}

    @sio.on("ask-client")
    async def ask_client(sid, data):
        reply = await sio.call("question", {"q": data}, to=sid, timeout=5)
        return {"clientSaid": reply}

    @sio.on("kick")
    async def kick(sid, data):
        await sio.disconnect(sid)

    sio.seen = seen
    return sio


def test_codec_roundtrip():
    raw = encode_event("order.grab", {"orderId": "o1"}, ack_id=12)
    assert raw == b'4212["order.grab",{"orderId":"o1"}]'
    assert parse_packet(raw) == ("4", 2, "/", 12, ["order.grab", {"orderId": "o1"}])
    assert parse_packet(b'43/admin,7[{"ok":true}]') == ("4", 3, "/admin", 7, [{"ok": True}])
    assert parse_packet(b'40{"sid":"x"}') == ("4", 0, "/", None, {"sid": "x"})
    assert parse_packet(b"2")[0] == "2"


async def test_connect_call_events_and_server_ack():
    sio = make_server()
    async with serve(sio) as url:
        c = SioClient(url, auth={"token": "good"})
        got = []
        c.on("pushed", lambda d: got.append(d["i"]))
        c.on("question", lambda d: {"answer": d["q"] * 2})
        await c.connect()
        assert c.connected and c.sid
        assert sio.seen["auth"] == {"token": "good"}
        assert await c.call("echo", {"x": 1}) == {"ok": True, "data": {"x": 1}}
        # many concurrent calls are matched to their own acks
        res = await asyncio.gather(*(c.call("echo", i) for i in range(50)))
        assert [r["data"] for r in res] == list(range(50))
        assert (await c.call("push-me", {"n": 20}))["ok"]
        await asyncio.sleep(0.1)
        assert got == list(range(20))
        assert await c.call("ask-client", 21) == {"clientSaid": {"answer": 42}}
        await c.disconnect()
        assert not c.connected


async def test_refused_connect_and_ack_timeout():
    sio = make_server()
    async with serve(sio) as url:
        bad = SioClient(url, auth={"token": "bad"})
        with pytest.raises(ConnectError) as ei:
            await bad.connect()
        assert not bad.connected
        assert "unauthorized" in str(ei.value.data)
        c = SioClient(url, auth={"token": "good"})
        await c.connect()
        with pytest.raises(AckTimeout):
            await c.call("silent", {}, timeout=0.2)
        await c.disconnect()


async def test_ping_pong_keeps_connection_and_reconnect():
    sio = make_server(ping_interval=0.2, ping_timeout=0.3)
    async with serve(sio) as url:
        reasons = []
        c = SioClient(url, auth={"token": "good"}, on_disconnect=reasons.append)
        await c.connect()
        await asyncio.sleep(1.2)  # several ping/pong rounds
        assert c.connected
        assert (await c.call("echo", 1))["ok"]
        # server-side disconnect is noticed and pending calls fail fast
        await c.emit("kick", {})
        for _ in range(50):
            if not c.connected:
                break
            await asyncio.sleep(0.02)
        assert not c.connected and reasons
        with pytest.raises(Disconnected):
            await c.call("echo", 1)
        # the same object can connect again
        await c.connect()
        assert (await c.call("echo", 2))["data"] == 2
        # an abrupt drop (no goodbye) is seen as a disconnect too
        c.abort()
        for _ in range(50):
            if not c.connected:
                break
            await asyncio.sleep(0.02)
        assert not c.connected
        assert len(reasons) == 2
