"""What every simulated user (customer or provider) shares: login, one socket, reconnects,
and the per-order event stream with its ``seq`` bookkeeping.

The ``seq`` protocol (CONTRACT §5, §7): every event of an order (status or chat) has the next
``seq``; a client keeps the last one it has seen and drops pushes with ``seq <= last``
(a push may repeat an event it already got in a ``missed`` list). A push with
``seq > last + 1`` is a gap: counted as a correctness failure, then repaired with
``order.watch {afterSeq: last}``. While a watch is in flight, pushes for that order are
buffered and applied after the ``missed`` list.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Sequence
from typing import Any

from actors.transitions import PAYMENT_EVENTS, TERMINAL
from load.city import human_delay
from load.http import ApiError
from load.sio import ConnectError, Disconnected, SioClient
from load.user_host import UserHost

# An action whose answer was lost (no ack, no HTTP answer, a store down) is asked again, RETRIES
# times RETRY_S apart, as the apps do: the outcome may have been written, and only asking tells
# (a create by its Idempotency-Key, a grab or accept by the holder answer with the order).
RETRIES, RETRY_S = 8, 1.5
AMBIGUOUS = ("unavailable", "internal")
LOST_STATUSES = (0, 500, 502, 503, 504)


class SeqStream:
    __slots__ = ("buf", "epoch", "last", "needs_sync", "order_id", "status", "syncing")

    def __init__(self, order_id: int):
        self.order_id = order_id
        self.last = 0
        self.status: str | None = None
        self.syncing = False
        self.needs_sync = False
        self.buf: list[dict] = []
        self.epoch = -1  # the connection epoch at the last successful sync


def ack_code(ack: Any) -> str:
    """The error code of a refused socket ack."""
    if isinstance(ack, dict):
        return ((ack.get("error") or {}).get("code")) or "bad ack"
    return "bad ack"


def names_user(who: Any, role: str, ids: tuple) -> bool:
    """Whether ``by``/``from`` of an event names this user (shapes vary: dict, str, int)."""
    if who is None:
        return False
    if isinstance(who, dict):
        r = who.get("role")
        i = who.get("id", who.get("userId"))
        if r is not None and r != role:
            return False
        return i is None or i in ids
    if isinstance(who, str):
        r, _, i = who.partition(":")
        if r != role:
            return False
        return not i or (i.isdigit() and int(i) in ids)
    return who in ids


class SimUser:
    """A simulated customer or provider (the base of load/provider_sim.py and
    load/customer_sim.py)."""

    role = "customer"
    # How this user answers a chat message: with this chance, one of these lines.
    chat_reply_chance = 0.0
    chat_replies: Sequence[str] = ()

    def __init__(self, worker: UserHost, idx: int):
        self.w = worker
        self.idx = idx
        self.rng = random.Random(worker.cfg.seed * 1_000_003 + idx * 7 + (self.role == "provider"))
        self.name = f"{worker.cfg.name_prefix}-{self.role[0]}-{idx}"
        self.token: str | None = None
        self.user_id: int | None = None
        self.sock: SioClient | None = None
        self.streams: dict[int, SeqStream] = {}
        self.unknown: dict[int, list[dict]] = {}
        self.epoch = 0
        self.waiters: dict[int, list[tuple[Any, asyncio.Future]]] = {}
        self.reconnecting = False
        self.dropped_at: float | None = None

    # --- identity -------------------------------------------------------------------------
    @property
    def ids(self) -> tuple:
        return (self.user_id,)

    def is_me(self, who: Any) -> bool:
        return names_user(who, self.role, self.ids)

    async def login(self) -> None:
        for attempt in range(8):
            try:
                res = await self.w.http.call(
                    "POST",
                    "/api/auth/wechat-login",
                    body={"code": f"sandbox-{self.name}", "role": self.role},
                    expect=(429,),
                )
                break
            except ApiError as e:
                if e.status != 429 or attempt == 7:
                    raise
                await asyncio.sleep(2 + 3 * attempt + self.rng.random())
        self.token = res["token"]
        self.user_id = res["user"]["id"]
        if res["user"].get("role") != self.role:
            raise RuntimeError(f"{self.name} exists with role {res['user'].get('role')}")

    async def api(self, method: str, path: str, body=None, route=None, expect=(), headers=None):
        return await self.w.http.call(
            method, path, token=self.token, body=body, route=route, expect=expect, headers=headers
        )

    async def open_orders(self, statuses) -> list[dict]:
        """This user's most recent orders that are in one of ``statuses``."""
        try:
            res = await self.api("GET", "/api/orders?limit=50", route="/api/orders")
        except Exception:
            return []
        items = res.get("items", []) if isinstance(res, dict) else []
        return [o for o in items if o.get("status") in statuses]

    # --- socket -----------------------------------------------------------------------------
    def make_socket(self) -> SioClient:
        s = SioClient(
            self.w.cfg.hub,
            auth={"token": self.token},
            on_disconnect=self._on_disconnect,
            connect_timeout=20.0,
        )
        s.on("order.status", self._on_status)
        s.on("chat.message", self._on_chat)
        self.sock = s
        return s

    async def connect(self) -> None:
        if self.sock is None:
            self.make_socket()
        await self.sock.connect()
        self.epoch += 1

    def _on_disconnect(self, reason: str) -> None:
        if self.w.stopping or reason == "client disconnect":
            return
        self.w.metrics.inc("disconnects")
        if not self.w.expect_drops:
            self.w.metrics.error(f"socket dropped: {reason}")
        self.dropped_at = self.dropped_at or time.time()
        self.w.spawn(self.reconnect(self.rng.uniform(0.2, 2.0)))

    async def reconnect(self, delay: float) -> None:
        if self.reconnecting:
            return
        self.reconnecting = True
        # Until each order is watched again, its pushes wait: a push that lands between the
        # reconnect and the re-sync may follow a gap, which CONTRACT §7 allows after a
        # reconnect; the re-sync fills it, so it is not a lost event.
        for st in self.streams.values():
            st.syncing = True
        try:
            await asyncio.sleep(delay)
            backoff = 0.5
            while not self.w.stopping:
                try:
                    await self.connect()
                    break
                except ConnectError as e:
                    self.w.metrics.error(f"reconnect refused: {e}")
                except (TimeoutError, OSError, Exception) as e:
                    self.w.metrics.error(f"reconnect failed: {type(e).__name__}", benign=True)
                await asyncio.sleep(backoff * (0.5 + self.rng.random()))
                backoff = min(backoff * 2, 8.0)
            if self.sock is not None and self.sock.connected:
                if self.dropped_at is not None:
                    self.w.metrics.observe(
                        "reconnect (drop → connected)", (time.time() - self.dropped_at) * 1000
                    )
                    self.dropped_at = None
                self.w.metrics.inc("reconnects")
                await self.after_reconnect()
        finally:
            self.reconnecting = False

    async def after_reconnect(self) -> None:
        await asyncio.gather(
            *(self.sync(st) for st in list(self.streams.values())), return_exceptions=True
        )

    # --- seq streams --------------------------------------------------------------------
    def _on_status(self, ev: dict) -> None:
        ev["type"] = "status"
        self._event(ev)

    def _on_chat(self, ev: dict) -> None:
        ev["type"] = "chat"
        self._event(ev)

    def _event(self, ev: dict) -> None:
        self.w.metrics.inc("events received")
        oid = ev.get("orderId")
        st = self.streams.get(oid)
        if st is None:
            buf = self.unknown.setdefault(oid, [])
            if len(buf) < 200:
                ev["_t"] = time.time()
                buf.append(ev)
            return
        if st.syncing:
            ev["_t"] = time.time()
            st.buf.append(ev)
            return
        self._apply(st, ev, live=True, repair=True)

    def track(self, order_id: int) -> SeqStream:
        """Start following an order: pushes that came early are buffered, then a sync."""
        st = self.streams.get(order_id)
        if st is None:
            st = self.streams[order_id] = SeqStream(order_id)
            st.buf.extend(self.unknown.pop(order_id, ()))
            st.syncing = True
        return st

    def _apply(self, st: SeqStream, ev: dict, *, live: bool, repair: bool) -> None:
        seq = ev.get("seq")
        if not isinstance(seq, int):
            self.w.metrics.error(f"event without seq ({ev.get('type')})")
            return
        if seq <= st.last:
            self.w.metrics.inc("duplicate events dropped")
            return
        if seq != st.last + 1:
            # A stream whose last re-sync failed (its socket dropped meanwhile) is known to be
            # behind, as CONTRACT §7 allows after a drop: its next sync fills the gap.
            if not st.needs_sync:
                self.w.ledger.record_gap(self.name, st, ev, live)
            if repair and self.sock is not None and self.sock.connected:
                st.syncing = True
                ev["_t"] = ev.get("_t", time.time())
                st.buf.append(ev)
                self.w.spawn(self.sync(st))
                return
        st.last = seq
        self.on_event(st, ev, live)

    async def sync(self, st: SeqStream) -> bool:
        """``order.watch`` with ``afterSeq``; applies ``missed`` then what was buffered."""
        st.syncing = True
        epoch = self.epoch
        try:
            ack = await self.sock.call(
                "order.watch", {"orderId": st.order_id, "afterSeq": st.last}, timeout=20
            )
        except (TimeoutError, Disconnected) as e:
            st.needs_sync = True
            st.syncing = False
            self.w.metrics.error(f"order.watch failed: {type(e).__name__}", benign=True)
            self._flush(st)
            return False
        if not isinstance(ack, dict) or not ack.get("ok"):
            code = ack_code(ack)
            self.w.metrics.error(f"order.watch: {code}")
            st.needs_sync = True  # counted as an error above; the stream is behind, not lost
            st.syncing = False
            self._flush(st)
            return False
        missed = sorted(ack.get("missed") or (), key=lambda e: e.get("seq", 0))
        for ev in missed:
            self._apply(st, ev, live=False, repair=False)
        order = ack.get("order") or {}
        # order.seq may already be ahead of `missed` (an event committed while the hub
        # answered): its push is on the way. The end-of-run check compares with MySQL.
        if order.get("status") and st.status is None:
            st.status = order["status"]
        st.syncing = False
        st.needs_sync = False
        st.epoch = epoch
        self._flush(st)
        return True

    def _flush(self, st: SeqStream) -> None:
        buf, st.buf = st.buf, []
        for ev in sorted(buf, key=lambda e: e.get("seq", 0)):
            self._apply(st, ev, live=True, repair=False)

    def on_event(self, st: SeqStream, ev: dict, live: bool) -> None:
        """An event applied in seq order (override to react); wakes waiters."""
        now = time.time()
        if ev["type"] == "status":
            st.status = ev.get("status")
            moved_by_client = (ev.get("detail") or {}).get("action") not in PAYMENT_EVENTS
            if live and moved_by_client and not self.is_me(ev.get("by")):
                self.w.metrics.end(
                    "status change → watcher", (st.order_id, ev["seq"]), ev.get("_t", now)
                )
            ws = self.waiters.get(st.order_id)
            if ws:
                for pred, fut in list(ws):
                    if not fut.done() and pred(ev):
                        fut.set_result(ev)
        elif ev["type"] == "chat":
            if live and not self.is_me(ev.get("from")):
                self.w.metrics.end(
                    "chat send → delivery", (st.order_id, ev["seq"]), ev.get("_t", now)
                )
                self.on_chat(st, ev)

    def on_chat(self, st: SeqStream, ev: dict) -> None:
        if self.w.stopping or st.status in TERMINAL:
            return
        if self.rng.random() < self.chat_reply_chance:
            delay = human_delay(self.rng, self.w.cfg.reaction * 2)
            self.w.loop.call_later(
                delay, lambda: self.w.spawn(self.chat(st, self.rng.choice(self.chat_replies)))
            )

    async def wait_status(self, order_id: int, pred, timeout: float) -> dict | None:
        """Wait for a status event of this order matching ``pred`` (None on time-out)."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        lst = self.waiters.setdefault(order_id, [])
        entry = (pred, fut)
        lst.append(entry)
        try:
            async with asyncio.timeout(timeout):
                return await fut
        except TimeoutError:
            return None
        finally:
            with contextlib.suppress(ValueError):
                lst.remove(entry)
            if not lst:
                self.waiters.pop(order_id, None)

    async def act(self, order_id: int, action: str, body=None, expect=()) -> dict | None:
        """POST /api/orders/{id}/{action}; records the acknowledged event for the checks."""
        t0 = time.time()
        order = await self.api(
            "POST",
            f"/api/orders/{order_id}/{action}",
            body=body if body is not None else {},
            route=f"/api/orders/{{id}}/{action}",
            expect=expect,
        )
        self.w.ledger.acknowledged(order_id, order, action, t0)
        return order

    async def chat(self, st: SeqStream, text: str) -> None:
        cmid = f"{self.name}-{st.order_id}-{self.rng.getrandbits(40):x}"
        t0 = time.time()
        try:
            ack = await self.sock.call(
                "chat.send", {"orderId": st.order_id, "text": text, "clientMsgId": cmid}, timeout=15
            )
        except (TimeoutError, Disconnected) as e:
            self.w.metrics.error(f"chat.send: {type(e).__name__}", benign=True)
            return
        self.w.metrics.observe("chat.send ack", (time.time() - t0) * 1000)
        if isinstance(ack, dict) and ack.get("ok"):
            self.w.metrics.start("chat send → delivery", (st.order_id, ack.get("seq")), t0)
            self.w.ledger.acked_chats.append((st.order_id, ack.get("seq"), cmid))
            self.w.metrics.inc("chats")
        else:
            code = ack_code(ack)
            # a message racing the order's end (cancel/complete) is refused on purpose
            self.w.metrics.error(f"chat.send: {code}", benign=code == "order_closed")

    def stream_states(self) -> list[tuple]:
        return [
            (
                st.order_id,
                st.last,
                st.epoch == self.epoch and not st.needs_sync,
                self.role,
                self.idx,
            )
            for st in self.streams.values()
        ]
