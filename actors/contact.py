"""Masked calls (隐私号 AXB): each accepted order's binding of (customer, provider) through a
virtual number, from accept until the order ends. At Alibaba Cloud the binding expires at
accept + HUB_AXB_LIFE_S + HUB_AXB_GRACE_S, a net under the release made when the order ends.

The binding is state with timers, so it lives here, on the order's host: the order actor tells
`moved` after every written change; binding and releasing run in a mailbox per order (the
order's own mailbox is never held up by Alibaba Cloud); a release is due at a time written to
MySQL first, so a restarted host finds it (`revive`) and retries it until Alibaba Cloud says the
binding is gone. When the pool is empty the order goes on without a number, staff get the
`no_number_available` alert, and SMS where they asked for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from actors.contact_alerts import StaffSmsAlerts
from actors.mailbox import Mailbox
from actors.transitions import ASSIGNED
from adapters.aliyun import AliyunError
from adapters.clock import utcnow
from adapters.mysql import Database
from adapters.privacy_numbers import PrivacyNumbers
from adapters.settings import Settings
from adapters.virtual_numbers import NumberStore, phone_vault

log = logging.getLogger("orderhub.contact")

RETRY_S = (2.0, 5.0, 15.0, 60.0, 300.0)  # Alibaba Cloud unreachable: try again after these
RETRIED = ("Unavailable", "Throttling", "ServiceUnavailable", "isv.BUSINESS_LIMIT_CONTROL")


class ContactBindings:
    def __init__(self, settings: Settings, db: Database, emitter, redis, keys):
        self.settings = settings
        self.store = NumberStore(db)
        self.pls = PrivacyNumbers(settings)
        self.emitter = emitter
        self.alerts = StaffSmsAlerts(settings, db, redis, keys)
        self._vault = None
        self.boxes: dict[int, Mailbox] = {}
        self.queued: dict[int, int] = {}  # messages in each order's mailbox
        self.timers: dict[int, asyncio.TimerHandle] = {}
        self.failures: dict[int, int] = {}

    @property
    def vault(self):
        if self._vault is None:  # the hub made the key on its first start, before any order
            self._vault = phone_vault(self.settings.state_dir)
        return self._vault

    # --- what the order actor tells ---------------------------------------------------------

    def moved(self, before: dict, row: dict) -> None:
        """After an order's change is written: bind on entering accepted (or a new provider),
        release on leaving the assigned statuses (the release is retried until it is done)."""
        was, now = before["status"] in ASSIGNED, row["status"] in ASSIGNED
        if now and (not was or before["provider_id"] != row["provider_id"]):
            self._tell(row["id"], self._bind)
        elif was and not now:  # completed, cancelled, or handed back
            self._tell(row["id"], self._release, 0.0)

    async def revive(self, owns: Callable[[int], bool]) -> None:
        """After a (re)start: bindings of this host's orders to finish or to make."""
        for r in await self.store.to_resume(ASSIGNED):
            oid = r["order_id"]
            if not owns(oid):
                continue
            if r["state"] == "releasing":
                row = await self.store.binding(oid)
                delay = (row["release_at"] - utcnow()).total_seconds() if row else 0.0
                self._arm(oid, max(delay, 0.0))
            elif r["status"] not in ASSIGNED:  # ended while no host held it
                self._tell(oid, self._release, 0.0)
            else:
                if r["state"] == "binding":  # BindAxb's answer was lost with the host
                    await self.store.give_back(oid)
                    await self.store.set_state(oid, "failed")
                self._tell(oid, self._bind)

    def stop(self) -> None:
        """Timers off (a host going away: what is due is in MySQL for the next one)."""
        for handle in self.timers.values():
            handle.cancel()
        self.timers.clear()

    # --- one order at a time ------------------------------------------------------------------

    def _tell(self, oid: int, handler, *args) -> None:
        box = self.boxes.get(oid)
        if box is None:
            box = self.boxes[oid] = Mailbox(f"contact {oid}")
        self.queued[oid] = self.queued.get(oid, 0) + 1
        box.tell(self._step, oid, handler, args)

    async def _step(self, oid: int, handler, args: tuple) -> None:
        try:
            await handler(oid, *args)
        finally:  # an order with nothing queued and nothing due holds no memory here
            self.queued[oid] -= 1
            if not self.queued[oid] and oid not in self.timers:
                self.queued.pop(oid, None)
                self.boxes.pop(oid, None)
                self.failures.pop(oid, None)

    def _arm(self, oid: int, delay: float, handler=None) -> None:
        if (old := self.timers.pop(oid, None)) is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        self.timers[oid] = loop.call_later(delay, self._fire, oid, handler or self._unbind_due)

    def _fire(self, oid: int, handler) -> None:
        self.timers.pop(oid, None)
        self._tell(oid, handler)

    def _retry_in(self, oid: int) -> float:
        n = self.failures.get(oid, 0)
        self.failures[oid] = n + 1
        return RETRY_S[min(n, len(RETRY_S) - 1)]

    def _done(self, oid: int) -> None:
        self.failures.pop(oid, None)

    async def _bind(self, oid: int) -> None:
        if not await self.store.start(oid):
            row = await self.store.binding(oid)
            if row and row["state"] == "releasing":  # a release still due: finish it first
                if await self._unbind(oid, row):
                    self._tell(oid, self._bind)
                else:
                    self._arm(oid, self._retry_in(oid), self._bind)
            return
        p = await self.store.parties(oid)
        if p is None or p["status"] not in ASSIGNED:
            await self.store.set_state(oid, "released")
            return
        if not p["provider_phone_enc"]:
            await self.store.set_state(oid, "no_phone")
            log.info("order %s: the provider has no phone bound; no masked number", oid)
            return
        refused: list[str] = []  # numbers Alibaba Cloud would not bind for this pair
        while len(refused) < 3:
            number = await self.store.take(oid, p["area_id"], avoid=refused)
            if number is None:
                break
            await self.store.set_state(oid, "binding", number=number)
            try:
                await self._bind_at_aliyun(oid, p, number)
                self._done(oid)
                return
            except Exception as exc:  # the number goes back whatever went wrong
                await self.store.give_back(oid)
                await self.store.set_state(oid, "failed", number=None)
                if not isinstance(exc, AliyunError):
                    log.exception("order %s: binding a number failed", oid)
                    return
                log.warning("order %s: BindAxb failed: %s", oid, exc)
                if exc.code != "isv.NO_AVAILABLE_NUMBER":  # about this X: try another
                    if exc.code in RETRIED and self.failures.get(oid, 0) < len(RETRY_S):
                        self._arm(oid, self._retry_in(oid), self._bind)
                    return
                refused.append(number)
        if not refused:
            await self.store.set_state(oid, "no_number")
            await self.emitter.alert("no_number_available", orderId=oid, areaId=p["area_id"])
            await self.alerts.send("隐私号不足", p["order_no"])

    async def _bind_at_aliyun(self, oid: int, p: dict, number: str) -> None:
        a = self.vault.decrypt(p["contact_phone_enc"])
        b = self.vault.decrypt(p["provider_phone_enc"])
        expires = utcnow() + timedelta(seconds=self.settings.axb_life_s + self.settings.axb_grace_s)
        subs_id = await self.pls.bind_axb(a, b, number, expires, str(oid))
        await self.store.set_state(oid, "bound", subs_id=subs_id, expires_at=expires)

    async def _release(self, oid: int, delay: float) -> None:
        row = await self.store.releasing(oid, utcnow() + timedelta(seconds=delay))
        if row is not None and row["state"] == "releasing":
            self._arm(oid, delay)

    async def _unbind_due(self, oid: int) -> None:
        row = await self.store.binding(oid)
        if row is None or row["state"] != "releasing":
            return
        if not await self._unbind(oid, row):
            self._arm(oid, self._retry_in(oid))

    async def _unbind(self, oid: int, row: dict) -> bool:
        """UnbindSubscription, then the number back to the pool; False to try again later."""
        if row["subs_id"]:
            try:
                await self.pls.unbind(row["subs_id"], row["number"])
            except AliyunError as exc:
                log.warning("order %s: UnbindSubscription failed: %s", oid, exc)
                return False
        await self.store.released(oid)
        self._done(oid)
        return True
