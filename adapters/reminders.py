"""Payment reminders in MySQL: which completed orders are still owed, and what was sent.

A reminder (order, n) is claimed by inserting its row before it is sent (the unique (order_id,
n) lets one claim win), then gets its outcome; so it is attempted at most once, and a restart
finds every one it made, including one cut short (`interrupted`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from adapters.mysql import Database, is_duplicate

# Completed but not (fully) paid: nothing yet, a payment open, or only the deposit paid.
OWED = ("unpaid", "paying", "deposit_paid")
SENDING = "sending"


class ReminderStore:
    def __init__(self, db: Database):
        self.db = db

    async def owed(self, now: datetime, first_s: float, count: int) -> list[dict]:
        """Orders completed at least `first_s` before `now`, still owed, with fewer than
        `count` reminders recorded: id, order_no, completed_at, owed (fen), service, openid,
        customer_id, and `last_n` (the highest n recorded, 0 if none)."""
        return await self.db.fetch_all(
            "SELECT o.id, o.order_no, o.completed_at, o.customer_id, s.name AS service,"
            " u.openid, COALESCE(o.final_amount, o.quoted_amount, o.estimated_amount)"
            " - COALESCE((SELECT SUM(p.amount) FROM payments p WHERE p.order_id = o.id"
            " AND p.kind = 'deposit' AND p.status = 'paid'), 0) AS owed,"
            " COALESCE((SELECT MAX(r.n) FROM payment_reminders r WHERE r.order_id = o.id), 0)"
            " AS last_n"
            " FROM orders o JOIN users u ON u.id = o.customer_id"
            " JOIN services s ON s.id = o.service_id"
            " WHERE o.status = 'completed' AND o.payment_status IN %s AND o.completed_at <= %s"
            " AND NOT EXISTS (SELECT 1 FROM payment_reminders r WHERE r.order_id = o.id"
            " AND r.n >= %s) ORDER BY o.completed_at, o.id",
            (OWED, now - timedelta(seconds=first_s), count),
        )

    async def claim(self, order_id: int, n: int, now: datetime) -> bool:
        """Take reminder n of the order; False when it was taken already."""
        return await self._insert(order_id, n, SENDING, None, now)

    async def skip(self, order_id: int, n: int, now: datetime) -> bool:
        """Reminder n is past: a later one is due already (the hub was down, say)."""
        return await self._insert(order_id, n, "skipped", "a later reminder was due", now)

    async def outcome(self, order_id: int, n: int, result: str, detail: str | None) -> None:
        await self.db.execute(
            "UPDATE payment_reminders SET result = %s, detail = %s"
            " WHERE order_id = %s AND n = %s AND result = %s",
            (result[:32], (detail or None) and detail[:255], order_id, n, SENDING),
        )

    async def sending(self) -> list[dict]:
        """Reminders claimed whose outcome was never written: order_id, n."""
        return await self.db.fetch_all(
            "SELECT order_id, n FROM payment_reminders WHERE result = %s", (SENDING,)
        )

    async def of_order(self, order_id: int) -> list[dict]:
        return await self.db.fetch_all(
            "SELECT order_id, n, result, detail, sent_at FROM payment_reminders"
            " WHERE order_id = %s ORDER BY n",
            (order_id,),
        )

    async def _insert(
        self, order_id: int, n: int, result: str, detail: str | None, now: datetime
    ) -> bool:
        try:
            await self.db.execute(
                "INSERT INTO payment_reminders (order_id, n, result, detail, sent_at)"
                " VALUES (%s, %s, %s, %s, %s)",
                (order_id, n, result, detail, now),
            )
        except Exception as exc:
            if is_duplicate(exc):
                return False
            raise
        return True
