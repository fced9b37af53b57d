"""hub/ws_protocol.py: a text message offered to the app in uvicorn's protocol callback. Every
socket test against the real hub goes through it (the hub runs it); here, the handing over
itself, on uvicorn's own protocol object with a real websocket handshake."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect

import uvicorn
from websockets.asyncio.client import connect

from hub import ws_protocol
from load.processes import free_port

# uvicorn 0.54.0's WebSocketsSansIOProtocol.send_receive_event_to_app, which
# hub/ws_protocol.py was written from: when an upgrade changes it, read the new one.
WRITTEN_FROM = "a2b10de91477dc1d4d0e7c9065b85388a5b2a6ebeb84d6ec1591e112ca0bfbb9"


def test_the_replaced_method_is_the_one_this_was_written_from():
    source = inspect.getsource(ws_protocol._ORIGINAL)
    assert hashlib.sha256(source.encode()).hexdigest() == WRITTEN_FROM


class _App:
    """An ASGI websocket app that lets the protocol hand it the messages starting with "take"
    and reads the rest through ASGI `receive`, answering each; after "hold" it stops reading
    until `release` is set."""

    def __init__(self):
        self.taken: list[str] = []
        self.received: list[str] = []
        self.release = asyncio.Event()

    def take(self, text: str) -> bool:
        if text.startswith("take"):
            self.taken.append(text)
            return True
        return False

    async def __call__(self, scope, receive, send):
        assert (await receive())["type"] == "websocket.connect"
        receive.__self__.take_now = self.take
        await send({"type": "websocket.accept"})
        while True:
            event = await receive()
            if event["type"] != "websocket.receive":
                return
            text = event.get("text") or event["bytes"].decode()
            self.received.append(text)
            await send({"type": "websocket.send", "text": "got " + text})
            if text == "hold":
                await self.release.wait()


@contextlib.asynccontextmanager
async def _connected(app):
    """`app` served by uvicorn with the hub's protocol class; a websocket client to it."""
    port = free_port()
    config = uvicorn.Config(
        app, port=port, ws=ws_protocol.DirectWebSocketProtocol, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 (uvicorn's flag; it has no event)
            await asyncio.sleep(0.01)
        async with connect(f"ws://127.0.0.1:{port}/") as ws:
            yield ws
    finally:
        server.should_exit = True
        await task


async def test_a_taken_message_never_reaches_the_asgi_receive_and_the_others_do():
    app = _App()
    async with _connected(app) as ws:
        await ws.send("take 1")
        await ws.send("queue 1")
        assert await ws.recv() == "got queue 1"
        await ws.send(b"take as bytes")  # binary: always through the queue
        assert await ws.recv() == "got take as bytes"
    assert app.taken == ["take 1"] and app.received == ["queue 1", "take as bytes"]


async def test_nothing_is_taken_while_an_earlier_message_waits_for_the_app():
    app = _App()
    async with _connected(app) as ws:
        await ws.send("hold")
        assert await ws.recv() == "got hold"  # the app stops reading
        await ws.send("queue first")
        await ws.send("take later")  # behind "queue first": not taken, order kept
        await asyncio.sleep(0.2)
        assert app.taken == []
        app.release.set()
        assert await ws.recv() == "got queue first"
        assert await ws.recv() == "got take later"
    assert app.received == ["hold", "queue first", "take later"]
