"""Payments and refunds in MySQL (CONTRACT §6).

A payment is `open` from its prepay until WeChat says it is paid (`paid`), the payer's bank
refused it (`failed`), or it expired and was closed at WeChat first (`closed`). Every move is
a conditional update on the status it leaves, written in the same transaction as the order's
event (adapters.orders `record`'s guard), so a notification, a query and a timer that race
each other apply it once.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import orjson

from adapters.clock import iso
from adapters.mysql import Database

# A statement another aggregate adds to a payment's transaction (the ledger's entries).
Statement = tuple[str, tuple]


class PaymentMove(NamedTuple):
    """A payment's move as its order records it: the event, the payment's conditional update
    (`guard`, must change one row), what commits with it, and the status it leaves."""

    action: str  # the order event (actors.transitions.PAYMENT_EVENTS)
    payment_id: int
    becomes: str  # the payment's status once written
    guard: Statement | None
    detail: dict
    extra: tuple[Statement, ...] = ()
    key: str = ""  # with the action, what makes the move unique (a refund's number)

    @property
    def cmd_id(self) -> str:
        return f"pay{self.payment_id}:{self.action}{':' if self.key else ''}{self.key}"


def payment_json(row: dict, refunds: list[dict] | None = None) -> dict:
    return {
        "id": row["id"],
        "orderId": row["order_id"],
        "kind": row["kind"],
        "amount": row["amount"],
        "status": row["status"],
        "outTradeNo": row["out_trade_no"],
        "transactionId": row["transaction_id"],
        "paidAt": iso(row["paid_at"]),
        "expiresAt": iso(row["expires_at"]),
        "refundedAmount": row["refund_amount"],
        "refunds": [refund_json(r) for r in refunds or []],
        "createdAt": iso(row["created_at"]),
    }


def refund_json(row: dict) -> dict:
    return {
        "id": row["id"],
        "outRefundNo": row["out_refund_no"],
        "amount": row["amount"],
        "reason": row["reason"],
        "status": row["status"],
        "at": iso(row["created_at"]),
        "succeededAt": iso(row["succeeded_at"]),
    }


class PaymentStore:
    def __init__(self, db: Database):
        self.db = db

    async def load(self, payment_id: int) -> dict | None:
        return await self.db.fetch_one("SELECT * FROM payments WHERE id = %s", (payment_id,))

    async def by_out_trade_no(self, out_trade_no: str) -> dict | None:
        return await self.db.fetch_one(
            "SELECT * FROM payments WHERE out_trade_no = %s", (out_trade_no,)
        )

    async def open_for(self, order_id: int, kind: str) -> dict | None:
        return await self.db.fetch_one(
            "SELECT * FROM payments WHERE open_key = %s", (f"{order_id}:{kind}",)
        )

    async def of_order(self, order_id: int) -> list[dict]:
        return await self.db.fetch_all(
            "SELECT * FROM payments WHERE order_id = %s ORDER BY id", (order_id,)
        )

    async def watched_ids(self) -> list[int]:
        """Payments whose actor watches WeChat: open ones, and those with a refund under way."""
        rows = await self.db.fetch_all(
            "SELECT id FROM payments WHERE status IN ('open', 'refunding')"
        )
        return [r["id"] for r in rows]

    async def create(self, fields: dict) -> int:
        """A new open payment; a second open one for the same order and kind raises a
        duplicate-key error (the unique `open_key`), so two racing prepays make one."""
        cols = {**fields, "payment_no": fields["out_trade_no"], "status": "open"}
        _, payment_id = await self.db.execute(
            f"INSERT INTO payments ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})",
            tuple(cols.values()),
        )
        return payment_id

    async def set_prepay(self, payment_id: int, prepay_id: str, params: dict) -> None:
        await self.db.execute(
            "UPDATE payments SET prepay_id = %s, pay_params = %s WHERE id = %s AND status = 'open'",
            (prepay_id, orjson.dumps(params).decode(), payment_id),
        )

    async def abandon(self, payment_id: int, why: str) -> None:
        """A prepay WeChat never made: the payment was never opened to anyone."""
        await self.db.execute(
            "UPDATE payments SET status = 'failed', failure = %s, closed_at = UTC_TIMESTAMP(3)"
            " WHERE id = %s AND status = 'open' AND prepay_id IS NULL",
            (why[:255], payment_id),
        )

    async def note_trade_state(self, payment_id: int, trade_state: str) -> None:
        await self.db.execute(
            "UPDATE payments SET trade_state = %s WHERE id = %s", (trade_state, payment_id)
        )

    async def refunds_of(self, payment_id: int) -> list[dict]:
        return await self.db.fetch_all(
            "SELECT * FROM refunds WHERE payment_id = %s ORDER BY id", (payment_id,)
        )

    async def refund(self, out_refund_no: str) -> dict | None:
        return await self.db.fetch_one(
            "SELECT * FROM refunds WHERE out_refund_no = %s", (out_refund_no,)
        )

    async def set_refund_id(self, out_refund_no: str, refund_id: str) -> None:
        await self.db.execute(
            "UPDATE refunds SET refund_id = %s WHERE out_refund_no = %s",
            (refund_id, out_refund_no),
        )

    async def paid_between(self, start: datetime, end: datetime) -> list[dict]:
        """Payments WeChat settled in [start, end) (UTC): what the day's trade bill lists."""
        return await self.db.fetch_all(
            "SELECT * FROM payments WHERE paid_at >= %s AND paid_at < %s ORDER BY id",
            (start, end),
        )


# --- the moves of a payment: conditional updates that commit with the order's event ---------


def paid(payment_id: int, transaction_id: str, paid_at: datetime, trade: dict) -> Statement:
    """Open → paid (only from open: a duplicate or a late notification changes nothing)."""
    return (
        "UPDATE payments SET status = 'paid', transaction_id = %s, paid_at = %s,"
        " trade_state = 'SUCCESS', callback_data = %s WHERE id = %s AND status = 'open'",
        (transaction_id, paid_at, orjson.dumps(trade).decode(), payment_id),
    )


def ended(payment_id: int, status: str, trade_state: str, why: str) -> Statement:
    """Open → closed or failed."""
    return (
        "UPDATE payments SET status = %s, trade_state = %s, failure = %s,"
        " closed_at = UTC_TIMESTAMP(3) WHERE id = %s AND status = 'open'",
        (status, trade_state, why[:255], payment_id),
    )


def refund_reserved(payment_id: int, amount: int) -> Statement:
    """Paid → refunding, the amount counted at once: never more than was paid, even when two
    refunds race."""
    return (
        "UPDATE payments SET status = 'refunding', refund_amount = refund_amount + %s"
        " WHERE id = %s AND status IN ('paid', 'refunding') AND refund_amount + %s <= amount",
        (amount, payment_id, amount),
    )


def refund_row(payment: dict, out_refund_no: str, amount: int, reason: str, by) -> Statement:
    return (
        "INSERT INTO refunds (payment_id, order_id, out_refund_no, amount, reason, requested_by)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (payment["id"], payment["order_id"], out_refund_no, amount, reason[:255], by),
    )


def refund_ended(out_refund_no: str, status: str, refund_id: str | None) -> Statement:
    """Processing → success or failed, once."""
    return (
        "UPDATE refunds SET status = %s, refund_id = COALESCE(%s, refund_id),"
        " succeeded_at = IF(%s = 'success', UTC_TIMESTAMP(3), NULL)"
        " WHERE out_refund_no = %s AND status = 'processing'",
        (status, refund_id, status, out_refund_no),
    )


def refund_given_back(payment_id: int, amount: int) -> Statement:
    """A refund WeChat refused: its amount is refundable again."""
    return (
        "UPDATE payments SET refund_amount = refund_amount - %s WHERE id = %s",
        (amount, payment_id),
    )


def refunds_settled(payment_id: int) -> Statement:
    """The payment's status once a refund ends: refunding while another is under way, else
    refunded when all of it went back, else paid."""
    return (
        "UPDATE payments p SET p.status = CASE"
        " WHEN EXISTS (SELECT 1 FROM refunds r WHERE r.payment_id = p.id"
        " AND r.status = 'processing') THEN 'refunding'"
        " WHEN p.refund_amount >= p.amount THEN 'refunded' ELSE 'paid' END WHERE p.id = %s",
        (payment_id,),
    )
