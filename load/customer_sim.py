"""A simulated customer: ordering, tracking its provider, chatting, confirming quotes,
paying and reviewing when the hub can (load/pay_sim.py); and cancelling what an earlier run
left open.

Its delays are human reaction times (reading, tapping a button): real seconds, not divided
by the run's time-scale.
"""

from __future__ import annotations

import asyncio
import time
import uuid

from actors.transitions import TERMINAL
from load.city import CHAT_CUSTOMER, DISTRICTS, ISSUES, human_delay, parse_iso
from load.http import ApiError
from load.order_flow import statuses_where
from load.pay_sim import Wallet
from load.sim_user import LOST_STATUSES, RETRIES, RETRY_S, SeqStream, SimUser
from load.sio import Disconnected
from load.user_host import UserHost

CUSTOMER_CANCELS = statuses_where("customer", "cancel")  # the open orders it can clean up


class CustomerSim(SimUser):
    """One customer: at most a couple of open orders at a time (``active``), each followed
    from creation to payment and review."""

    role = "customer"
    chat_reply_chance = 0.3
    chat_replies = CHAT_CUSTOMER

    def __init__(self, worker: UserHost, idx: int):
        super().__init__(worker, idx)
        self.active = 0
        self.statuses: dict[int, str] = {}
        self.loc_watch: dict[int, int] = {}
        self.wallet = Wallet(self)

    def make_socket(self):
        s = super().make_socket()
        s.on("provider.location", self._on_location)
        return s

    def _on_location(self, data: dict) -> None:
        now = time.time()
        at = data.get("at")
        self.w.metrics.inc("locations received")
        if isinstance(at, str):
            try:
                self.w.metrics.observe("location → watcher", (now - parse_iso(at)) * 1000)
            except ValueError:
                self.w.metrics.error("provider.location: bad at")

    def on_event(self, st: SeqStream, ev: dict, live: bool) -> None:
        super().on_event(st, ev, live)
        if ev["type"] == "status" and ev.get("status"):
            self.statuses[st.order_id] = ev["status"]
            self.wallet.on_event(ev)

    async def heartbeat(self) -> None:
        s = self.sock
        if s is None or not s.connected:
            return
        t0 = time.perf_counter()
        try:
            await s.call("heartbeat", {}, timeout=15)
        except (TimeoutError, Disconnected):
            return
        self.w.metrics.observe("heartbeat ack", (time.perf_counter() - t0) * 1000)

    async def place_order(
        self, mode: str, urgent: bool, x: float, y: float, provider_id=None, service_id=None
    ) -> None:
        self.active += 1
        try:
            await self._order_flow(mode, urgent, x, y, provider_id, service_id)
        except (TimeoutError, ApiError, Disconnected):
            pass
        finally:
            self.active -= 1

    async def _order_flow(self, mode, urgent, x, y, provider_id, service_id) -> None:
        w = self.w
        lat, lng = w.city.to_latlng(x, y)
        sid = service_id or self.rng.choice(w.service_ids)
        body = {
            "serviceId": sid,
            "address": f"海口市{self.rng.choice(DISTRICTS)}某小区"
            f"{self.rng.randint(1, 30)}栋{self.rng.randint(101, 2802)}",
            "lat": lat,
            "lng": lng,
            "description": self.rng.choice(ISSUES),
            "contactName": f"压测用户{self.idx}",
            "contactPhone": f"138{self.idx % 100000000:08d}",
            "urgency": "urgent" if urgent else "normal",
            "dispatchMode": mode,
        }
        if provider_id is not None:
            body["providerId"] = provider_id
        t0 = time.time()
        key = uuid.uuid4().hex  # the same on every ask: one order however often it is asked
        for attempt in range(RETRIES):
            try:
                order = await self.api(
                    "POST", "/api/orders", body=body, headers={"Idempotency-Key": key}
                )
                break
            except ApiError as e:
                if e.status not in LOST_STATUSES or attempt == RETRIES - 1 or w.stopping:
                    raise
                w.metrics.inc("creates asked again")
                await asyncio.sleep(RETRY_S)
        oid = order["id"]
        w.ledger.order_modes[oid] = mode
        w.metrics.inc(f"orders created ({mode})")
        w.metrics.start("order created → first offer", oid, t0)
        if w.cfg.scenario == "grab-storm":
            w.metrics.start("order created → offer (each provider)", oid, t0)
        w.ledger.acknowledged(oid, order, "create", t0)
        w.ledger.created.append(oid)
        self.statuses[oid] = order.get("status", "pending")
        st = self.track(oid)
        await self.sync(st)
        self.wallet.ordered(oid)

        if self.rng.random() < w.cfg.cancel:
            w.loop.call_later(
                human_delay(self.rng, w.cfg.reaction * 3), lambda: w.spawn(self.cancel(oid))
            )
        ev = await self.wait_status(
            oid, lambda e: e.get("status") not in ("pending",), timeout=w.cfg.duration + 60
        )
        if ev is None or ev.get("status") in TERMINAL or w.stopping:
            return
        # tracking: the provider comes; maybe a question
        if self.rng.random() < w.cfg.chat:
            await asyncio.sleep(human_delay(self.rng, w.cfg.reaction * 2))
            await self.chat(st, self.rng.choice(CHAT_CUSTOMER))
        quoted = lambda e: (  # noqa: E731
            e.get("status") in ("in_progress", *TERMINAL)
            or (e.get("detail") or {}).get("action") == "quote"
        )
        ev = await self.wait_status(oid, quoted, timeout=w.cfg.duration + 60)
        if ev is None or w.stopping:
            return
        if (ev.get("detail") or {}).get("action") == "quote":
            await asyncio.sleep(human_delay(self.rng, w.cfg.reaction * 2))
            try:
                await self.act(oid, "confirm-quote", expect=(409,))
            except ApiError:
                return
        ev = await self.wait_status(
            oid, lambda e: e.get("status") in TERMINAL, timeout=w.cfg.duration + 60
        )
        if ev is None or ev.get("status") != "completed" or w.stopping:
            return
        await self.wallet.completed(oid)

    async def cancel(self, oid: int) -> None:
        if self.w.stopping or self.statuses.get(oid) in TERMINAL:
            return
        try:
            await self.act(oid, "cancel", {"reason": "计划有变"}, expect=(409,))
            self.w.metrics.inc("orders cancelled")
        except ApiError:
            pass

    async def cancel_leftovers(self) -> int:
        n = 0
        for o in await self.open_orders(CUSTOMER_CANCELS):
            try:
                await self.api(
                    "POST",
                    f"/api/orders/{o['id']}/cancel",
                    body={"reason": "load cleanup"},
                    route="/api/orders/{id}/cancel",
                    expect=(409,),
                )
                n += 1
            except ApiError:
                pass
        return n
