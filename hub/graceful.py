"""Stopping a hub when told to (SIGTERM from honcho, systemd or Kubernetes; Ctrl-C), within 5 s.

1. The listening socket closes: clients that reconnect go to another hub (or wait for this one
   to come back), not to the one stopping.
2. Drain: every Socket.IO client's transport is closed (a long-polling one at once, not after
   its poll times out), after which every client reconnects, as CONTRACT §7 says a client
   does after any drop. The location fixes acknowledged but still
   queued for the next tick go to the hosts now.
3. uvicorn lets requests in flight finish (up to `GRACE_S`), then the app's lifespan ends.
4. An embedded Ray goes with the hub: its hosts write the positions they hold to MySQL, then
   all its processes get SIGTERM at once (`stop` says why not ray.shutdown()). A joined
   cluster stays up.

Nothing acknowledged is lost by a stop: an acknowledged order change is in MySQL already.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import NoReturn

import uvicorn

log = logging.getLogger("orderhub.stop")

DRAIN_S = 1.0  # telling the clients and handing over queued fixes
GRACE_S = 2.0  # requests in flight (uvicorn's timeout_graceful_shutdown)
RAY_TERM_S = 1.0  # the embedded Ray's processes, after SIGTERM, before SIGKILL


class GracefulServer(uvicorn.Server):
    """uvicorn, draining the hub before it closes connections."""

    def __init__(self, config: uvicorn.Config, drain: Callable[[], Awaitable[None]]):
        super().__init__(config)
        self._drain = drain

    async def shutdown(self, sockets=None) -> None:
        started = time.monotonic()
        for server in self.servers:
            server.close()
        try:
            await asyncio.wait_for(self._drain(), DRAIN_S)
        except Exception:
            log.exception("draining the hub failed; stopping anyway")
        await super().shutdown(sockets)
        log.info("hub drained and shut down in %.2f s", time.monotonic() - started)


async def drain(sio, actors) -> None:
    """Clients told to reconnect; queued location fixes handed to the hosts.

    The transport is ended, not said goodbye to: an Engine.IO CLOSE packet (what
    `eio.disconnect()` sends) reads as "the server sent me away" to python-socketio clients,
    which then do not reconnect; a transport that ends reads as a drop to every client."""
    for socket in list(sio.eio.sockets.values()):
        await socket.close(wait=False, abort=True)  # disconnect handlers run now
        await socket.queue.put(None)  # a websocket closes, a pending long poll returns
    await actors.flush_fixes()


def stop(actors, embedded: bool) -> NoReturn:
    """After the server and the app stopped: an embedded Ray's hosts write the positions they
    hold, its processes all get SIGTERM at once (SIGKILL after `RAY_TERM_S`), and the process
    exits. Not through ray.shutdown(): it waits ~5 s in the driver's teardown and then stops
    Ray's processes one by one, up to a second each (8 s measured under honcho, which sends
    SIGKILL after 5). A joined cluster stays up: the hub leaves it as any ended driver does."""
    if embedded:
        with contextlib.suppress(Exception):
            asyncio.run(asyncio.wait_for(actors.flush_hosts(), 1.0))
        _terminate(descendants(os.getpid()))
    print("[orderhub] hub stopped", flush=True)
    logging.shutdown()
    sys.stderr.flush()
    os._exit(0)


def socketio_server(app):
    """The Socket.IO server under the ASGI app (through any middleware wrapping it)."""
    for _ in range(8):
        if (server := getattr(app, "engineio_server", None)) is not None:
            return server
        app = getattr(app, "app", None)
    raise LookupError("no Socket.IO server under the ASGI app")


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (the embedded Ray's GCS, raylet, workers …), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _terminate(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + RAY_TERM_S
    while time.monotonic() < deadline and any(_running(p) for p in pids):
        time.sleep(0.05)
    for pid in pids:
        if _running(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has exited; ray.shutdown() reaps its own
