"""The hub's listener on the hosts' Redis channel, which resyncs its sockets after losing it.

Order events, chat and offers reach a hub process through Redis pub/sub (python-socketio's
Redis manager). Pub/sub is not durable: whatever the hosts publish while this process is not
subscribed (Redis restarting, the listener reconnecting) never arrives, and a client that
stays connected would then see the next event with a gap in `seq` — or, for its last event,
never see it at all. The fault drill that restarts Redis under load found exactly that
(tests/test_drills.py).

So when the listener subscribes again after losing its subscription, every socket of this
process is dropped before any new message is handed on: each client reconnects, as after
any drop (CONTRACT §7), and `order.watch {afterSeq}` / `hall.snapshot` bring back from MySQL
and the hosts what it missed. python-socketio's own loop also waits 1, 2, 4 … 60 s between
attempts; here it retries every `RETRY_S`, so clients are not left unsubscribed for long
after Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from engineio import packet as eio_packet
from socketio import packet

from adapters.pubsub import QueuedRedisManager
from hub.eio_socket import write_now

log = logging.getLogger("orderhub.fanout")

RETRY_S = 0.5
YIELD_EVERY = 200  # sockets written in a batch before other callbacks get a turn


class ResyncingRedisManager(QueuedRedisManager):  # one bounded publisher, orjson (pubsub.py)
    resyncs = 0  # times this process dropped its sockets after resubscribing

    async def _redis_listen_with_retries(self):
        lost = False
        while True:
            try:
                self._redis_connect()
                await self.pubsub.subscribe(self.channel)
                if lost:
                    await self._drop_sockets()
                    lost = False
                async for message in self.pubsub.listen():
                    yield message
            except Exception as exc:
                if not lost:
                    log.warning("lost the hosts' Redis channel (%r); resubscribing", exc)
                lost = True
                with contextlib.suppress(Exception):
                    await self.pubsub.aclose()
                await asyncio.sleep(RETRY_S)

    async def _handle_emit(self, message):
        """An event for this process's sockets (from the hosts through Redis, or emitted
        here), or a host's batch of events (actors/emit.py `add_to`), delivered in order.
        Without an ack callback every recipient of an event gets the same frame: it is encoded
        once and written to each socket in turn (queued when its writer is busy).
        python-socketio's AsyncManager.emit starts a task per recipient and waits for them
        all, which costs more than the delivery itself; neither writing nor queueing on a
        socket waits (its queue has no bound)."""
        batch = message.get("batch")
        if batch is not None:
            written = 0
            for event, data, room in batch:
                written += await self._deliver("/", event, [data], room, [None])
                if written >= YIELD_EVERY:  # a 2,000-offer round: others' turns between
                    written = 0
                    await asyncio.sleep(0)
            return
        if message.get("callback") is not None or message.get("binary"):
            return await super()._handle_emit(message)
        data = message["data"]
        args = [] if data == [None] else list(data)  # as python-socketio unpacks it
        skip = message.get("skip_sid")
        skip = skip if isinstance(skip, list) else [skip]
        namespace = message.get("namespace") or "/"
        await self._deliver(namespace, message["event"], args, message.get("room"), skip)

    async def _deliver(self, namespace: str, event: str, args: list, room, skip: list) -> int:
        """One event to its room's sockets on this process; how many it reached."""
        if namespace not in self.rooms:
            return 0
        pkt = self.server.packet_class(packet.EVENT, namespace=namespace, data=[event, *args])
        frame = eio_packet.Packet(eio_packet.MESSAGE, pkt.encode())
        text = frame.encode()
        sockets = self.server.eio.sockets
        reached = 0
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid in skip:
                continue
            reached += 1
            sock = sockets.get(eio_sid)
            if sock is not None and write_now(sock, text):
                continue  # written in this step: the socket's writer is not woken
            try:
                await self.server._send_eio_packet(eio_sid, frame)
            except Exception as exc:  # a socket closing meanwhile: the others get theirs
                log.debug("delivery to %s failed: %r", sid, exc)
        return reached

    async def _drop_sockets(self) -> None:
        """End every socket's transport (not an Engine.IO goodbye, which a client reads as
        "sent away" and does not reconnect after: see hub/graceful.py drain)."""
        sockets = list(self.server.eio.sockets.values())
        for sock in sockets:
            with contextlib.suppress(Exception):
                await sock.close(wait=False, abort=True)
                await sock.queue.put(None)
        self.resyncs += 1
        log.warning("resubscribed to the hosts' channel: %d socket(s) told to resync", len(sockets))
