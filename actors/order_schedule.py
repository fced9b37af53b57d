"""A scheduled order's times: its dispatch starts a lead time before the slot; once a
provider holds it, the provider is reminded before the slot, and one who has not departed in
time is a no-show (staff hear, and the order is dispatched again without them).

Part of the order actor (actors/order.py), split out by concept.
"""

from __future__ import annotations

import time

from actors.dispatch.plan import state_of
from actors.dispatch.policy import Policy
from actors.order_money import SYSTEM_ACTOR
from adapters.clock import epoch


class OrderSchedule:
    async def _until_lead(self) -> float:
        """Seconds until a scheduled order's dispatch may start (≤ 0: now)."""
        start = epoch(self.row["scheduled_at"])
        if start is None:
            return 0.0
        _, lead = await self._timing()
        return start - lead - time.time()

    async def _lead_reached(self) -> None:
        if self.status == "pending":
            await self._dispatch()

    async def _watch_slot(self) -> None:
        """Remind the provider before the slot; one not departed in time is a no-show."""
        start = epoch(self.row["scheduled_at"])
        if start is None or self.status != "accepted":
            return
        policy, now = await self._policy(), time.time()
        if not state_of(self.row).reminded:
            remind_at = start - policy.remind_before_min * 60
            self._timer("remind", max(remind_at - now, 0.0), self._remind, policy)
        # Departed by depart_by_min before the slot; one who took the order later gets as long.
        depart_s = policy.depart_by_min * 60
        taken = epoch(self.row["accepted_at"]) or now
        deadline = max(start - depart_s, taken + depart_s)
        self._timer("no_show", max(deadline - now, 0.0), self._no_show)

    async def _remind(self, policy: Policy) -> None:
        if self.status == "accepted" and not state_of(self.row).reminded:
            args = {"minutes": policy.remind_before_min}
            await self._apply("slot_reminder", SYSTEM_ACTOR, args, None)

    async def _no_show(self) -> None:
        if self.status != "accepted":
            return
        pid = self.row["provider_id"]
        await self.env.emitter.alert("no_show", orderId=self.id, providerId=pid)
        await self._system("no_show")
