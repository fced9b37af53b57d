"""Reminders for completed orders left unpaid (seed 002's 催缴: after 1, 3 and 7 days).

A periodic job of each standing host, over the orders the host owns. The timers are the
orders' completion times plus HUB_PAY_REMINDERS_S, read from MySQL on every pass, and each
reminder's row is written before its message goes out (adapters/reminders.py): a host that
crashes and is restarted by Ray picks up where it stopped, sending none twice and dropping
none unrecorded. The message is a WeChat subscribe message (template key payment_due,
WECHAT_TEMPLATE_PAYMENT_DUE) to the customer, sent by actors/notify.py only while the customer
has a consent left (else recorded as no_consent; WeChat's 43101 as refused); staff hear of
every reminder as an alert.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from actors.env import Env
from actors.notify import Notifier
from adapters.clock import CHINA
from adapters.reminders import ReminderStore

log = logging.getLogger("orderhub.reminders")

MAX_PERIOD_S = 5.0
PAGE = "pages/user/payment?id={}"  # the mini program's payment page
TIPS = {1: "服务已完成，请及时支付", 2: "订单仍待支付，请尽快处理"}
LAST_TIP = "最后一次提醒，请尽快完成支付"


def intervals_from(raw: str) -> list[float]:
    """ "86400,259200,604800" → seconds after completion, increasing."""
    try:
        intervals = [float(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"HUB_PAY_REMINDERS_S must be seconds, comma-separated: {raw!r}") from None
    if not intervals or intervals[0] <= 0 or intervals != sorted(set(intervals)):
        raise ValueError(f"HUB_PAY_REMINDERS_S must be increasing positive seconds: {raw!r}")
    return intervals


def message_data(row: dict, n: int, count: int) -> dict[str, str]:
    """The 待支付提醒 fields: order number, service, amount owed, completion time and a tip.
    Nothing personal: no phone number, no address, no price breakdown."""
    completed = row["completed_at"].replace(tzinfo=UTC).astimezone(CHINA)
    return {
        "character_string1": row["order_no"],
        "thing2": row["service"][:20],
        "amount3": f"¥{int(row['owed']) / 100:.2f}",
        "time4": completed.strftime("%Y-%m-%d %H:%M"),
        "thing5": LAST_TIP if n == count else TIPS.get(n, TIPS[2]),
    }


def due_reminder(completed_at: datetime, intervals: list[float], now: datetime) -> int:
    """The latest reminder due by `now` (1-based), 0 if none."""
    return sum(1 for s in intervals if completed_at + timedelta(seconds=s) <= now)


class PaymentReminders:
    def __init__(self, env: Env, owns: Callable[[int], bool], notifier: Notifier):
        self.env = env
        self.owns = owns  # whether this host holds an order
        self.intervals = intervals_from(env.settings.pay_reminders_s)
        self.store = ReminderStore(env.db)
        self.notifier = notifier
        self._recovered = False

    @property
    def period(self) -> float:
        """How often the job looks: often enough to be on time for the shortest interval."""
        return min(MAX_PERIOD_S, self.intervals[0] / 2)

    async def remind_unpaid(self) -> None:
        """One pass: every owned order with a reminder due gets it (the latest one due)."""
        if not self._recovered:
            await self._recover()
        now = self.env.clock()
        rows = await self.store.owed(now, self.intervals[0], len(self.intervals))
        for row in rows:
            if self.owns(row["id"]):
                await self._remind(row, now)

    async def _recover(self) -> None:
        """Reminders this host claimed before it stopped: whether WeChat got them is unknown;
        they are recorded as interrupted, not sent again."""
        for row in await self.store.sending():
            if self.owns(row["order_id"]):
                await self.store.outcome(
                    row["order_id"], row["n"], "failed:interrupted", "the host stopped"
                )
                log.warning("reminder %s of order %s interrupted", row["n"], row["order_id"])
        self._recovered = True

    async def _remind(self, row: dict, now: datetime) -> None:
        oid, last = row["id"], int(row["last_n"])
        n = due_reminder(row["completed_at"], self.intervals, now)
        if n <= last:
            return
        for missed in range(last + 1, n):  # the host was down past them: only the latest goes
            await self.store.skip(oid, missed, now)
        if not await self.store.claim(oid, n, now):
            return  # recorded already (another host, before a placement change)
        result, detail = await self._send(row, n)
        await self.store.outcome(oid, n, result, detail)
        await self.env.emitter.alert("payment_due", orderId=oid, n=n, result=result)

    async def _send(self, row: dict, n: int) -> tuple[str, str | None]:
        data = message_data(row, n, len(self.intervals))
        page = PAGE.format(row["id"])
        return await self.notifier.deliver(row["customer_id"], "payment_due", data, page)
