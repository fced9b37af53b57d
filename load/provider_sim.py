"""A simulated provider: online, moving about the city, grabbing or answering offers,
working its jobs through to the end; and finishing what an earlier run left open.

Durations of the work itself (getting ready, travel, the job) are divided by the run's
time-scale; human reaction times (seeing an offer, tapping a button) are not.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from actors.transitions import ASSIGNED, TERMINAL
from load.city import CHAT_PROVIDER, Mover, human_delay, iso_now, parse_iso
from load.http import ApiError
from load.order_flow import provider_walk
from load.sim_user import AMBIGUOUS, LOST_STATUSES, RETRIES, RETRY_S, SeqStream, SimUser, ack_code
from load.sio import Disconnected
from load.user_host import UserHost


class ProviderSim(SimUser):
    """One provider: one job at a time (``job``), its position from ``mover``."""

    role = "provider"
    chat_reply_chance = 0.7
    chat_replies = CHAT_PROVIDER

    def __init__(self, worker: UserHost, idx: int):
        super().__init__(worker, idx)
        self.provider_id: int | None = None
        cfg = worker.cfg
        x, y = worker.city.random_point(self.rng)
        self.mover = Mover(worker.city, self.rng, x, y, time.time())
        self.online = False
        self.job: int | None = None
        self.job_task: asyncio.Task | None = None
        self.offers: dict[int, dict] = {}  # orderId -> offer payload (+ "_t")
        self.withdrawn: set[int] = set()
        self.storm = cfg.scenario == "grab-storm"

    @property
    def ids(self) -> tuple:
        return (self.user_id, self.provider_id)

    # --- set-up -----------------------------------------------------------------------------
    async def onboard(self) -> None:
        me = await self.api("GET", "/api/me")
        prov = me.get("provider")
        w = self.w
        if prov is None:
            try:
                res = await self.api(
                    "POST",
                    "/api/providers/apply",
                    body={
                        "name": f"压测师傅{self.idx}",
                        "skills": w.service_ids,
                        "certificateNo": f"{w.cfg.name_prefix.upper()}-P-{self.idx:06d}",
                        "certificateType": "other",
                        "serviceAreas": w.area_ids or [1],
                    },
                    expect=(409,),
                )
                self.provider_id = res["providerId"]
            except ApiError as e:
                if e.code != "already_applied":
                    raise
                me = await self.api("GET", "/api/me")
                prov = me.get("provider")
        if prov is not None:
            self.provider_id = prov["id"]
            if prov.get("verification") == "approved":
                return
        await w.http.call(
            "POST",
            f"/api/admin/providers/{self.provider_id}/verify",
            token=w.admin_token,
            body={"approved": True, "note": "load test"},
            route="/api/admin/providers/{id}/verify",
        )

    def make_socket(self):
        s = super().make_socket()
        s.on("order.offer", self._on_offer)
        s.on("order.taken", self._on_taken)
        return s

    async def go_online(self) -> None:
        x, y, _h, _s = self.mover.position(time.time())
        lat, lng = self.w.city.to_latlng(x, y)
        t0 = time.perf_counter()
        ack = await self.sock.call("provider.online", {"lat": lat, "lng": lng}, timeout=20)
        self.w.metrics.observe("provider.online ack", (time.perf_counter() - t0) * 1000)
        if not (isinstance(ack, dict) and ack.get("ok")):
            self.w.metrics.error(f"provider.online: {ack_code(ack)}")
            return
        self.online = True
        if self.job is None:
            self.mover.wander(time.time())

    async def after_reconnect(self) -> None:
        await self.go_online()
        await self.refresh_hall()
        await super().after_reconnect()
        if self.job is None and not self.w.stopping:
            # a grab whose ack was lost with the connection may have won: look it up
            for o in await self.open_orders(("accepted",)):
                if o.get("providerId") == self.provider_id and self.job is None:
                    self.w.metrics.inc("orders found after reconnect")
                    self.won(o["id"], o, "resumed", time.time(), recorded=True)

    async def refresh_hall(self) -> list[dict]:
        try:
            ack = await self.sock.call("hall.snapshot", {}, timeout=20)
        except (TimeoutError, Disconnected) as e:
            self.w.metrics.error(f"hall.snapshot: {type(e).__name__}", benign=True)
            return []
        if not (isinstance(ack, dict) and ack.get("ok")):
            self.w.metrics.error(f"hall.snapshot: {ack_code(ack)}")
            return []
        offers = ack.get("offers") or []
        seen = {o.get("orderId") for o in offers}
        for oid in list(self.offers):
            if oid not in seen:
                self.offers.pop(oid, None)
        for o in offers:
            if o.get("orderId") not in self.offers:
                o["_t"] = time.time()
                self.offers[o["orderId"]] = o
        return offers

    # --- location ---------------------------------------------------------------------------
    async def send_location(self) -> None:
        s = self.sock
        if s is None or not s.connected or not self.online:
            return
        now = time.time()
        if self.job is None and now >= self.mover.arrival():
            self.mover.wander(now)
        x, y, heading, speed = self.mover.position(now)
        lat, lng = self.w.city.to_latlng(x, y)
        t0 = time.perf_counter()
        try:
            ack = await s.call(
                "location.update",
                {
                    "lat": lat,
                    "lng": lng,
                    "heading": round(heading),
                    "speed": round(speed, 1),
                    "at": iso_now(now),
                },
                timeout=15,
            )
        except (TimeoutError, Disconnected) as e:
            self.w.metrics.error(
                f"location.update: {type(e).__name__}", benign=isinstance(e, Disconnected)
            )
            return
        self.w.metrics.observe("location.update ack", (time.perf_counter() - t0) * 1000)
        self.w.metrics.inc("locations sent")
        if not (isinstance(ack, dict) and ack.get("ok")):
            code = ack_code(ack)
            self.w.metrics.error(f"location.update: {code}")
            if code in ("not_online", "offline"):
                self.online = False
                self.w.spawn(self.go_online())

    # --- the grab hall ------------------------------------------------------------------------
    def _on_offer(self, offer: dict) -> None:
        now = time.time()
        oid = offer.get("orderId")
        w = self.w
        w.metrics.inc("offers received")
        w.metrics.end("order created → first offer", oid, now)
        if self.storm:
            w.metrics.end("order created → offer (each provider)", oid, now)
        offer["_t"] = now
        self.offers[oid] = offer
        if w.stopping:
            return
        mode = offer.get("dispatchMode") or w.ledger.order_modes.get(oid) or "grab"
        if self.job is not None:
            if mode != "grab":  # busy: say no rather than let the offer time out
                delay = human_delay(self.rng, w.cfg.reaction)
                w.loop.call_later(delay, lambda: w.spawn(self.answer_offer(oid)))
            return
        if mode == "grab":
            if self.storm:
                delay = self.rng.uniform(0.05, 0.5)
            else:
                interest = w.cfg.interest * (1.5 if offer.get("urgency") == "urgent" else 1.0)
                if self.rng.random() >= interest:
                    return
                delay = human_delay(self.rng, w.cfg.reaction)
            w.loop.call_later(delay, self._attempt_grab, oid)
        else:
            delay = human_delay(self.rng, w.cfg.reaction)
            w.loop.call_later(delay, lambda: w.spawn(self.answer_offer(oid)))

    def _on_taken(self, data: dict) -> None:
        oid = data.get("orderId")
        now = time.time()
        had = self.offers.pop(oid, None)
        self.withdrawn.add(oid)
        self.w.metrics.inc("offers withdrawn")
        if had is not None and self.storm and data.get("reason", "taken") == "taken":
            self.w.metrics.end("grab won → order.taken (each provider)", oid, now)

    def _attempt_grab(self, oid: int) -> None:
        if self.w.stopping or self.job is not None:
            return
        if oid not in self.offers and not self.storm:
            self.w.metrics.inc("grabs skipped (already withdrawn)")
            return
        self.w.spawn(self.grab(oid))

    async def _grab_once(self, oid: int) -> dict | None:
        """One order.grab; None when its answer was lost (the socket dropped, or no ack)."""
        try:
            return await self.sock.call("order.grab", {"orderId": oid}, timeout=20)
        except (TimeoutError, Disconnected) as e:
            self.w.metrics.error(
                f"order.grab: {type(e).__name__}",
                benign=isinstance(e, Disconnected) and self.w.expect_drops,
            )
            return None

    async def grab(self, oid: int) -> None:
        w = self.w
        self.job = oid  # one at a time: the app shows a spinner while grabbing
        t_wall = time.time()
        t0 = time.perf_counter()
        # As the app does: a grab whose answer was lost, or that met a store being down, is
        # asked again; the hub answers a provider who already holds the order with the order.
        for _ in range(RETRIES):
            ack = await self._grab_once(oid)
            if (ack is not None and ack_code(ack) not in AMBIGUOUS) or w.stopping:
                break
            w.metrics.inc("grabs asked again")
            await asyncio.sleep(RETRY_S)
        if ack is None:
            self.job = None
            return
        w.metrics.observe("grab ack", (time.perf_counter() - t0) * 1000)
        w.ledger.contention_attempt(oid)
        if isinstance(ack, dict) and ack.get("ok"):
            self.won(oid, ack.get("order") or {}, "grab", t_wall)
            return
        self.job = None
        code = ack_code(ack)
        if code == "already_taken":
            w.ledger.contention_lost(oid)
        else:
            w.metrics.error(
                f"order.grab: {code}", benign=code in ("not_found", "invalid_transition")
            )

    async def answer_offer(self, oid: int) -> None:
        """Direct / auto offers: accept (or sometimes decline) through REST."""
        w = self.w
        if w.stopping or oid not in self.offers:
            return
        if self.job is not None or self.rng.random() < w.cfg.decline:
            with contextlib.suppress(ApiError):
                await self.act(oid, "decline", expect=(404, 409))
                w.metrics.inc("offers declined")
            self.offers.pop(oid, None)
            return
        self.job = oid
        t_wall = time.time()
        for attempt in range(RETRIES):
            try:
                order = await self.act(oid, "accept", expect=(404, 409))
                break
            except ApiError as e:  # asked again when the answer was lost (see grab)
                if e.status not in LOST_STATUSES or attempt == RETRIES - 1 or w.stopping:
                    self.job = None
                    return
                w.metrics.inc("accepts asked again")
                await asyncio.sleep(RETRY_S)
        self.won(oid, order or {}, "accept", t_wall, recorded=True)

    def won(self, oid: int, order: dict, how: str, t_send: float, recorded: bool = False) -> None:
        w = self.w
        now = time.time()
        w.metrics.inc("orders won")
        w.ledger.wins.append((oid, self.provider_id, how, now))
        if not recorded:
            w.ledger.acknowledged(oid, order, how, t_send)
        self.offers.pop(oid, None)
        self.job = oid
        st = self.track(oid)
        w.spawn(self.sync(st))
        self.job_task = w.spawn(self.work(oid, order))

    # --- the job ----------------------------------------------------------------------------------
    def scaled(self, minutes_lo: float, minutes_hi: float) -> float:
        return self.rng.uniform(minutes_lo, minutes_hi) * 60.0 / self.w.cfg.time_scale

    async def step(self, oid: int, action: str, body=None) -> bool:
        if self.w.stopping:
            return False
        st = self.streams.get(oid)
        if st is not None and st.status in TERMINAL:
            return False
        try:
            await self.act(oid, action, body, expect=(409,))
            return True
        except ApiError as e:
            if e.status == 409 and st is not None and st.status == "cancelled":
                return False
            return False

    async def work(self, oid: int, order: dict) -> None:
        w = self.w
        try:
            await asyncio.sleep(self.scaled(0.5, 2.0))  # get ready
            if not await self.step(oid, "depart"):
                return
            tx, ty = w.city.to_xy(order.get("lat", w.city.lat), order.get("lng", w.city.lng))
            now = time.time()
            arrive_at = self.mover.plan(
                now, tx, ty, self.mover.random_speed(self.rng), w.cfg.time_scale
            )
            st = self.streams.get(oid)
            if st is not None and self.rng.random() < w.cfg.chat * 0.5:
                await self.chat(st, self.rng.choice(CHAT_PROVIDER))
            await asyncio.sleep(max(0.0, arrive_at - time.time()))
            if not await self.step(oid, "arrive"):
                return
            await asyncio.sleep(human_delay(self.rng, w.cfg.reaction * 2))
            base = (order.get("price") or {}).get("estimated") or 10000
            if self.rng.random() < w.cfg.quote:
                amount = int(base * self.rng.uniform(0.9, 1.6)) // 100 * 100 or 100
                if not await self.step(oid, "quote", {"amount": amount}):
                    return
                ev = await self.wait_status(
                    oid, lambda e: e.get("status") in ("in_progress", "cancelled"), timeout=120
                )
                if ev is None or ev.get("status") != "in_progress":
                    if ev is None and not w.stopping:
                        w.metrics.error("quote never confirmed (flow time-out)")
                    return
            elif not await self.step(oid, "start"):
                return
            minutes = w.service_minutes.get(order.get("serviceId"), 60)
            await asyncio.sleep(self.scaled(minutes * 0.7, minutes * 1.3))
            if await self.step(oid, "complete"):
                w.metrics.inc("orders completed")
        finally:
            if self.job == oid:
                self.job = None
                self.mover.wander(time.time())

    def on_event(self, st: SeqStream, ev: dict, live: bool) -> None:
        super().on_event(st, ev, live)
        if (
            self.storm
            and ev["type"] == "status"
            and (ev.get("detail") or {}).get("action") == "grab"
            and isinstance(ev.get("at"), str)
        ):
            # the hub's commit time of the winning grab: the others' order.taken is timed from it
            with contextlib.suppress(ValueError):
                self.w.metrics.start(
                    "grab won → order.taken (each provider)", st.order_id, parse_iso(ev["at"])
                )
        if ev["type"] == "status" and ev.get("status") == "cancelled" and self.job == st.order_id:
            if self.job_task is not None and not self.job_task.done():
                self.job_task.cancel()
            self.job = None

    # --- leftovers from earlier runs ----------------------------------------------------------
    async def finish_leftovers(self) -> int:
        """Walk this provider's unfinished orders (from an earlier, interrupted run) to the end."""
        n = 0
        for o in await self.open_orders(ASSIGNED):
            for a in provider_walk(o["status"]):
                try:
                    await self.api(
                        "POST",
                        f"/api/orders/{o['id']}/{a}",
                        body={},
                        route=f"/api/orders/{{id}}/{a}",
                        expect=(409,),
                    )
                except ApiError:
                    break  # e.g. a quote waiting for the customer: the customer cancels it
            n += 1
        return n
