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

from adapters.pubsub import QueuedRedisManager

log = logging.getLogger("orderhub.fanout")

RETRY_S = 0.5


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
