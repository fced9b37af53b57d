"""Subscribe-message consent and what was sent, in MySQL (migration 0008).

A balance is one message per consent the user gave (WeChat's one-time subscription), per
template key. Sending takes one with a conditional UPDATE (balance > 0), so two senders can
never spend the same consent; WeChat's 43101 (its count is used up) zeroes it. Each message is
claimed by inserting its (user, event) row before it goes out (the unique key lets one claim
win), then gets its outcome: a status already seen is never sent again, after a restart too.
"""

from __future__ import annotations

from datetime import datetime

from adapters.mysql import Database, is_duplicate

SENDING = "sending"


class SubscriptionStore:
    def __init__(self, db: Database):
        self.db = db

    # --- balances ------------------------------------------------------------------------------

    async def add(self, user_id: int, keys: list[str], now: datetime) -> None:
        """One more message for each accepted key."""
        if keys:
            await self.db.executemany(
                "INSERT INTO subscription_balances (user_id, template_key, balance, updated_at)"
                " VALUES (%s, %s, 1, %s) ON DUPLICATE KEY UPDATE balance = balance + 1,"
                " updated_at = VALUES(updated_at)",
                [(user_id, key, now) for key in keys],
            )

    async def balances(self, user_id: int) -> dict[str, int]:
        rows = await self.db.fetch_all(
            "SELECT template_key, balance FROM subscription_balances WHERE user_id = %s",
            (user_id,),
        )
        return {row["template_key"]: int(row["balance"]) for row in rows}

    async def take(self, user_id: int, key: str, now: datetime) -> bool:
        """Spend one consent; False when there is none."""
        count, _ = await self.db.execute(
            "UPDATE subscription_balances SET balance = balance - 1, updated_at = %s"
            " WHERE user_id = %s AND template_key = %s AND balance > 0",
            (now, user_id, key),
        )
        return count == 1

    async def give_back(self, user_id: int, key: str, now: datetime) -> None:
        """WeChat refused the message for a reason of ours (a field, the page): it spent no
        consent, so neither does the hub."""
        await self.db.execute(
            "UPDATE subscription_balances SET balance = balance + 1, updated_at = %s"
            " WHERE user_id = %s AND template_key = %s",
            (now, user_id, key),
        )

    async def zero(self, user_id: int, key: str, now: datetime) -> None:
        """WeChat says the user's consent is used up (43101): believe it."""
        await self.db.execute(
            "UPDATE subscription_balances SET balance = 0, updated_at = %s"
            " WHERE user_id = %s AND template_key = %s",
            (now, user_id, key),
        )

    # --- messages ------------------------------------------------------------------------------

    async def claim(self, user_id: int, key: str, event: str, now: datetime) -> bool:
        """Take the message telling `user_id` about `event`; False when it was taken already."""
        try:
            await self.db.execute(
                "INSERT INTO subscribe_messages"
                " (user_id, template_key, event_key, result, created_at)"
                " VALUES (%s, %s, %s, %s, %s)",
                (user_id, key, event[:64], SENDING, now),
            )
        except Exception as exc:
            if is_duplicate(exc):
                return False
            raise
        return True

    async def outcome(self, user_id: int, event: str, result: str, detail: str | None) -> None:
        await self.db.execute(
            "UPDATE subscribe_messages SET result = %s, detail = %s"
            " WHERE user_id = %s AND event_key = %s AND result = %s",
            (result[:32], (detail or None) and detail[:255], user_id, event[:64], SENDING),
        )

    async def interrupted(self, before: datetime) -> int:
        """Claims older than `before` that never got an outcome (their sender stopped):
        whether WeChat got them is unknown; recorded as interrupted, never sent again."""
        count, _ = await self.db.execute(
            "UPDATE subscribe_messages SET result = 'failed:interrupted'"
            " WHERE result = %s AND created_at < %s",
            (SENDING, before),
        )
        return count

    async def of_user(self, user_id: int) -> list[dict]:
        return await self.db.fetch_all(
            "SELECT template_key, event_key, result, detail, created_at FROM subscribe_messages"
            " WHERE user_id = %s ORDER BY id",
            (user_id,),
        )

    # --- what a message may say ----------------------------------------------------------------

    async def openid(self, user_id: int) -> str | None:
        row = await self.db.fetch_one("SELECT openid FROM users WHERE id = %s", (user_id,))
        return row["openid"] if row else None

    async def provider_user(self, provider_id: int) -> int | None:
        row = await self.db.fetch_one("SELECT user_id FROM providers WHERE id = %s", (provider_id,))
        return row["user_id"] if row else None

    async def order_facts(self, order_id: int) -> dict | None:
        """What an order's messages say: order_no, service, provider name, area name, the
        times; and who to tell: customer_id, the provider's user_id. No phone, no address."""
        return await self.db.fetch_one(
            "SELECT o.id, o.order_no, o.status, o.customer_id, o.scheduled_at, o.created_at,"
            " o.accepted_at, o.departed_at, o.arrived_at, o.completed_at, o.district,"
            " s.name AS service, p.name AS provider_name, p.user_id AS provider_user_id,"
            " a.name AS area"
            " FROM orders o JOIN services s ON s.id = o.service_id"
            " LEFT JOIN providers p ON p.id = o.provider_id"
            " LEFT JOIN areas a ON a.id = o.area_id"
            " WHERE o.id = %s",
            (order_id,),
        )

    async def jobs_due(self, start: datetime, end: datetime) -> list[int]:
        """Accepted scheduled orders whose slot is between `start` and `end` and whose
        provider was not reminded of that slot yet (the event key notify.job_reminder uses)."""
        rows = await self.db.fetch_all(
            "SELECT o.id FROM orders o JOIN providers p ON p.id = o.provider_id"
            " WHERE o.status = 'accepted' AND o.scheduled_at >= %s AND o.scheduled_at < %s"
            " AND NOT EXISTS (SELECT 1 FROM subscribe_messages m WHERE m.user_id = p.user_id"
            " AND m.event_key = CONCAT('job:', o.id, ':',"
            " DATE_FORMAT(o.scheduled_at, '%%Y%%m%%d%%H%%i')))"
            " ORDER BY o.scheduled_at, o.id",
            (start, end),
        )
        return [row["id"] for row in rows]
