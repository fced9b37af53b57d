"""An order's staff alert with a timer: "untaken for N minutes" (issue #11).

Part of the order actor (actors/order.py). N is the area's dispatch policy's
`untaken_alert_min` (0: never). The clock runs from when the order was placed (a scheduled
order: from when its dispatch starts, a lead time before the slot); the timer is armed
whenever the order is in dispatch — on start and on every reload after a restart, and again
when it goes back to dispatch — and computed from the row, so a restart loses nothing. The
alert is raised once per order: MySQL's console_alerts says whether it already was.
"""

from __future__ import annotations

from datetime import timedelta

from adapters import console_alerts

UNTAKEN = "order_untaken"


class OrderAlerts:
    async def _arm_untaken(self) -> None:
        if self.status != "pending":
            return
        minutes = (await self._policy()).untaken_alert_min
        if minutes <= 0:
            return
        since = self.row["created_at"]
        if self.row["scheduled_at"] is not None:
            _, lead = await self._timing()
            since = max(since, self.row["scheduled_at"] - timedelta(seconds=lead))
        due = since + timedelta(minutes=minutes)
        delay = (due - self.env.clock()).total_seconds()
        self._timer("untaken", max(delay, 0.0), self._untaken, minutes)

    async def _untaken(self, minutes: float) -> None:
        if self.status != "pending":
            return
        if await console_alerts.raised_for(self.env.db, UNTAKEN, self.id):
            return
        await self.env.emitter.alert(
            UNTAKEN, orderId=self.id, minutes=minutes, dispatchMode=self.row["dispatch_mode"]
        )
