"""Emitting Socket.IO events from outside the hub: through python-socketio's Redis manager.

Hosts publish; every hub process subscribed to the channel delivers to its own sockets.
"""

from __future__ import annotations

import logging

from adapters import console_alerts, jsonio
from adapters.pubsub import QueuedRedisManager

log = logging.getLogger("orderhub.emit")


def channel_for(database: str) -> str:
    # One channel per deployment (database), so a test hub never hears the demo hub.
    return f"orderhub:{database}"


def rooms(
    *,
    order: int | None = None,
    user: int | None = None,
    provider: int | None = None,
    staff: bool = False,
) -> list[str]:
    out = []
    if order is not None:
        out.append(f"order:{order}")
    if user is not None:
        out.append(f"user:{user}")
    if provider is not None:
        out.append(f"provider:{provider}")
    if staff:
        out.append("staff")
    return out


def with_kind(event: str, data: dict) -> dict:
    """CONTRACT §11: a `console.update` names what changed in `kind` ("order", "provider",
    "locations", "payment"); `type` stays, as the console and tools read it. An alert keeps
    its own `kind` (the alert's: `no_show`, ...) beside `type: "alert"`, as its readers expect.
    """
    if event == "console.update" and "kind" not in data and "type" in data:
        return {**data, "kind": data["type"]}
    return data


class Emitter:
    def __init__(self, redis_url: str, channel: str, redis, db=None):
        # one publishing task and connection, however many emits wait (adapters/pubsub.py)
        self._mgr = QueuedRedisManager(redis_url, channel, write_only=True)
        self._channel = channel
        self._redis = redis
        self._db = db  # where alerts are kept (adapters/console_alerts.py); None: not kept

    async def emit(self, event: str, data: dict, to: list[str] | str) -> None:
        await self._mgr.emit(event, with_kind(event, data), to=to, namespace="/")

    async def alert(self, kind: str, **data) -> None:
        """A staff alert (CONTRACT §11: console.update of kind alert), written first so a
        console opened later shows it and staff acknowledge it for everyone (`alertId`)."""
        if self._db is not None:
            try:
                data["alertId"] = await console_alerts.record(self._db, kind, data)
            except Exception:  # an alert not kept is still sent
                log.exception("alert %s not kept: %s", kind, data)
        await self.emit("console.update", {"type": "alert", "kind": kind, **data}, "staff")

    def add_to(self, pipe, events: list[tuple[str, dict, list[str] | str]]) -> None:
        """Queue events on a Redis pipeline: many events, one round trip.

        One event: the message python-socketio's pub/sub manager publishes for one emit
        (python-socketio 5.x format; the hubs' managers decode it as their own). Several: one
        message that carries them all, in order (`batch`: [event, data, room] each), which
        the hubs deliver in that order (hub/fanout.py): a grab round's 2,000 offers, or a
        tick's locations, are one message for Redis and for every hub process to take in,
        not one each.
        """
        if not events:
            return
        message = {
            "method": "emit",
            "binary": False,
            "namespace": "/",
            "callback": None,
            "host_id": self._mgr.host_id,
        }
        if len(events) == 1:
            event, data, to = events[0]
            message.update(event=event, data=[with_kind(event, data)], room=to, skip_sid=None)
        else:
            message["batch"] = [[event, with_kind(event, data), to] for event, data, to in events]
        pipe.publish(self._channel, jsonio.dumps(message))
