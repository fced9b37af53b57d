"""CONTRACT §7: the Socket.IO side of the hub. Connections authenticate with their JWT; the
hub alone puts them in rooms; every handler checks role and ownership before acting."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Annotated

import socketio
from pydantic import BaseModel, Field, ValidationError

from actors import offers, privacy
from adapters import jsonio
from adapters.clock import iso, utcnow
from adapters.orders import order_json
from adapters.presence import REFRESH_S, Presence
from hub import eio_socket
from hub.auth import Principal
from hub.errors import (
    ApiError,
    Forbidden,
    Invalid,
    ack_error,
    store_unreachable,
    unreachable_body,
)
from hub.models import In, Lat, Lng
from hub.router import validation_message
from hub.routes.orders import actor_of, grab_allowed, raise_for, seen_by, visible_order
from hub.socket_edge import EdgeServer

log = logging.getLogger("orderhub.realtime")

PRESENCE_SLICE = 200  # sockets re-scored per Redis round trip
OK = {"ok": True}  # the location ack: one shared dict, encoded as it is (never mutated)


class OnlineIn(In):
    lat: Lat
    lng: Lng


class LocationIn(In):
    lat: Lat
    lng: Lng
    heading: Annotated[float, Field(ge=0, le=360)] | None = None
    speed: Annotated[float, Field(ge=0, le=100)] | None = None
    at: Annotated[str, Field(min_length=1, max_length=40)] | None = None


class OrderRef(In):
    order_id: Annotated[int, Field(ge=1)]


class WatchIn(OrderRef):
    after_seq: Annotated[int, Field(ge=0)] | None = None


class ChatIn(OrderRef):
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    client_msg_id: Annotated[str, Field(min_length=1, max_length=64)]


def _number(value, low: float, high: float) -> bool:
    # bool is an int in Python but not a coordinate; anything else goes to pydantic
    return type(value) in (float, int) and low <= value <= high


def location_fix(data) -> dict:
    """location.update's payload as the fix the hosts take. The hot event (every provider,
    every few seconds): a well-formed fix is checked here in a few microseconds; anything
    else is left to LocationIn, so a refusal says exactly what pydantic says."""
    if type(data) is dict:
        lat, lng, at = data.get("lat"), data.get("lng"), data.get("at")
        heading, speed = data.get("heading"), data.get("speed")
        if (
            _number(lat, -90, 90)
            and _number(lng, -180, 180)
            and (heading is None or _number(heading, 0, 360))
            and (speed is None or _number(speed, 0, 100))
            and (at is None or (type(at) is str and 0 < len(at.strip()) <= 40))
        ):
            return {"lat": float(lat), "lng": float(lng), "at": at.strip() if at else iso(utcnow())}
    fix = _parse(LocationIn, data)
    return {"lat": fix.lat, "lng": fix.lng, "at": fix.at or iso(utcnow())}


def _failed(handler, exc: Exception) -> dict:
    """The ack of a handler that raised: its refusal, or why it could not answer."""
    if isinstance(exc, ApiError):
        return ack_error(exc)
    if store_unreachable(exc):  # MySQL or Redis restarting: the app retries
        log.warning("socket handler %s: %r", handler.__name__, exc)
        return {"ok": False, **unreachable_body()}
    log.exception("socket handler %s failed", handler.__name__)
    return {"ok": False, "error": {"code": "internal", "message": "internal error"}}


def _parse(model: type[BaseModel], data) -> BaseModel:
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        message, fields = validation_message(exc)
        raise Invalid(message, fields=fields) from None


class Realtime:
    """The Socket.IO server bound to the hub's services."""

    def __init__(self, hub, client_manager):
        self.hub = hub
        eio_socket.install()  # Engine.IO's websocket loop without a task per message
        # The edge (hub/socket_edge.py) refuses reserved/unknown event names and non-finite
        # or non-object payloads before any handler runs; frames over 64 KB close the socket.
        self.sio = EdgeServer(
            async_mode="asgi",
            client_manager=client_manager,
            json=jsonio,
            cors_allowed_origins="*",
            ping_interval=20,
            ping_timeout=20,
        )
        self.sio.on("connect", self.connect)
        # Presence: whether a user has a live socket (actors send subscribe messages only to
        # users without one); this process's sockets, user id by sid.
        self.presence = Presence(hub.redis, hub.keys)
        self.sockets: dict[str, int] = {}
        self.sio.on("disconnect", self.disconnect)
        for event, handler in {
            "heartbeat": self.heartbeat,
            "provider.online": self.online,
            "provider.offline": self.offline,
            "location.update": self.location,
            "order.grab": self.grab,
            "order.watch": self.watch,
            "order.unwatch": self.unwatch,
            "chat.send": self.chat,
            "hall.snapshot": self.hall,
        }.items():
            self.sio.on(event, self._guarded(handler))
        # the hot one, answered in the receive loop (hub/socket_edge.py); same handler
        self.sio.on_inline("location.update", self._guarded_now(self.locate))

    async def connect(self, sid, environ, auth):
        token = (auth or {}).get("token") if isinstance(auth, dict) else None
        if not token:
            raise socketio.exceptions.ConnectionRefusedError(
                "connect with auth: {token}",
                {"code": "missing_token", "message": "connect with auth: {token}"},
            )
        try:
            me = self.hub.tokens.verify(token)
        except ApiError as exc:
            raise socketio.exceptions.ConnectionRefusedError(
                exc.message, exc.body()["error"]
            ) from None
        pid = await self.hub.provider_id(me.user_id) if me.role == "provider" else None
        await self.sio.save_session(sid, {"me": me, "pid": pid, "chat": []})
        await self.sio.enter_room(sid, f"user:{me.user_id}")
        if pid is not None:
            await self.sio.enter_room(sid, f"provider:{pid}")
        if me.is_staff:
            await self.sio.enter_room(sid, "staff")  # console.update: every provider's fix
            await privacy.staff_access(self.hub.db, me, "console_stream", "provider", None, "")
        self.sockets[sid] = me.user_id
        try:
            await self.presence.connected(me.user_id, sid)
            if sid not in self.sockets:  # it disconnected meanwhile: do not leave it counting
                await self.presence.disconnected(me.user_id, sid)
        except Exception:  # the socket works without it; the user may get a message too many
            log.exception("presence of user %s not recorded", me.user_id)

    async def disconnect(self, sid, *_reason):
        if (user_id := self.sockets.pop(sid, None)) is not None:
            try:
                await self.presence.disconnected(user_id, sid)
            except Exception:  # it lapses within presence.TTL_S
                log.exception("presence of user %s not cleared", user_id)

    async def keep_presence(self) -> None:
        """Re-score this process's sockets so they keep counting (they lapse if it dies)."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            sockets = [(uid, sid) for sid, uid in self.sockets.items()]
            # In slices, spread over the period: one pipeline of every socket (3 commands
            # each) held the loop for 100+ ms at 3,000 sockets; slices back to back still
            # made a burst of 300 ms of Redis client work in 2-3 s every REFRESH_S at 5,000,
            # the p99 of every other window of the location ramp (docs/profile.md)
            starts = range(0, len(sockets), PRESENCE_SLICE)
            gap = REFRESH_S / max(1, len(starts))
            for k, start in enumerate(starts):
                try:
                    await self.presence.refresh(sockets[start : start + PRESENCE_SLICE])
                except Exception:
                    log.exception("presence refresh failed")
                await asyncio.sleep(max(0.0, started + (k + 1) * gap - loop.time()))
            if not sockets:
                await asyncio.sleep(REFRESH_S)

    def _guarded(self, handler):
        async def run(sid, data=None, *_extra):
            try:
                session = await self.sio.get_session(sid)
                return await handler(sid, session, data)
            except Exception as exc:
                return _failed(handler, exc)

        return run

    def _guarded_now(self, handler):
        """_guarded for a synchronous handler (an inline event: it must not raise)."""

        def run(session, data=None):
            try:
                return handler(session, data)
            except Exception as exc:
                return _failed(handler, exc)

        return run

    @staticmethod
    def _provider(session) -> int:
        me: Principal = session["me"]
        if me.role != "provider":
            raise Forbidden("only providers can do this")
        if session["pid"] is None:
            raise Forbidden("apply as a provider first", "not_a_provider")
        return session["pid"]

    async def _refresh_pid(self, sid, session) -> int:
        """A provider who applied after connecting gets their room now."""
        if session["pid"] is None and session["me"].role == "provider":
            pid = await self.hub.provider_id(session["me"].user_id)
            if pid is not None:
                session["pid"] = pid
                await self.sio.save_session(sid, session)
                await self.sio.enter_room(sid, f"provider:{pid}")
        return self._provider(session)

    # --- handlers --------------------------------------------------------------------------------

    async def heartbeat(self, sid, session, data):
        if session["pid"] is not None:
            self.hub.actors.location(session["pid"], None)
        return {"ok": True, "serverTime": iso(utcnow())}

    async def online(self, sid, session, data):
        pid = await self._refresh_pid(sid, session)
        where = _parse(OnlineIn, data)
        return raise_for(await self.hub.actors.provider(pid, "go_online", where.lat, where.lng))

    async def offline(self, sid, session, data):
        pid = self._provider(session)
        return raise_for(await self.hub.actors.provider(pid, "go_offline"))

    async def location(self, sid, session, data):
        return self.locate(session, data)

    def locate(self, session, data) -> dict:
        """location.update (inline, or through python-socketio for unusual frames)."""
        pid = self._provider(session)
        self.hub.actors.location(pid, location_fix(data))
        return OK

    async def grab(self, sid, session, data):
        self._provider(session)
        ref = _parse(OrderRef, data)
        actor = await actor_of(self.hub, session["me"])
        await grab_allowed(self.hub, actor["providerId"])
        answer = raise_for(await self.hub.actors.order_command(ref.order_id, "grab", actor))
        return {"ok": True, "order": answer["order"]}

    async def watch(self, sid, session, data):
        ask = _parse(WatchIn, data)
        row = await visible_order(self.hub, session["me"], ask.order_id)
        # Join first, then read: an event written meanwhile is in `missed` or pushed (or
        # both; clients drop seq <= the last one they saw), never lost.
        me = session["me"]
        customer = me.role == "customer" and row["customer_id"] == me.user_id
        for room in privacy.watch_rooms(row["id"], staff=me.is_staff, customer=customer):
            await self.sio.enter_room(sid, room)
        if me.is_staff:
            await privacy.staff_access(self.hub.db, me, "order_watched", "order", row["id"], "")
        missed = []
        if ask.after_seq is not None:
            missed = await self.hub.orders.events_after(row["id"], ask.after_seq)
            row = await self.hub.orders.load(row["id"])
        seen = seen_by(session["me"], session["pid"], order_json(row))
        return {"ok": True, "order": seen, "missed": missed}

    async def unwatch(self, sid, session, data):
        ref = _parse(OrderRef, data)
        for room in privacy.all_watch_rooms(ref.order_id):
            await self.sio.leave_room(sid, room)
        return {"ok": True}

    async def chat(self, sid, session, data):
        msg = _parse(ChatIn, data)
        recent = [t for t in session["chat"] if t > time.monotonic() - 10]
        if len(recent) >= 20:
            raise ApiError("too many messages; slow down", "rate_limited", 429)
        session["chat"] = [*recent, time.monotonic()]
        actor = await actor_of(self.hub, session["me"])
        answer = raise_for(
            await self.hub.actors.order_chat(msg.order_id, actor, msg.text, msg.client_msg_id)
        )
        return {"ok": True, "msgId": answer["msgId"], "seq": answer["seq"]}

    async def hall(self, sid, session, data):
        pid = await self._refresh_pid(sid, session)
        return {"ok": True, "offers": await offers.open_to(self.hub.redis, self.hub.keys, pid)}
