"""Tomorrow's jobs: each provider with a scheduled order hears of it by subscribe message
HUB_JOB_REMIND_BEFORE_S (a day) before the slot, whether in the app or not.

A periodic job of each standing host over the orders it owns, like the payment reminders:
the slots are read from MySQL on every pass, so a restarted host misses none, and each
reminder's (provider, order, slot) row is claimed before it is sent (actors/notify.py), so
none goes twice; a slot moved later is a new reminder.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from actors.env import Env
from actors.notify import Notifier

PERIOD_S = 10.0


class JobReminders:
    def __init__(self, env: Env, owns: Callable[[int], bool], notifier: Notifier):
        self.env = env
        self.owns = owns  # whether this host holds an order
        self.notifier = notifier
        self.lead = timedelta(seconds=env.settings.job_remind_before_s)
        self.period = min(PERIOD_S, max(self.lead.total_seconds() / 4, 0.5))

    async def remind_tomorrow(self) -> None:
        """One pass: every owned accepted order whose slot is within the lead time."""
        now = self.env.clock()
        for order_id in await self.notifier.store.jobs_due(now, now + self.lead):
            if self.owns(order_id):
                await self.notifier.job_reminder(order_id)
        await self.notifier.sweep()
