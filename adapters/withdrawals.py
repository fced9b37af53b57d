"""Providers' withdrawals (CONTRACT §9): requested by the provider, decided by an admin.

A request reserves its amount at once: in one transaction that holds the provider's row
(SELECT … FOR UPDATE), the withdrawable balance is read and, if it covers the amount, the
withdrawal is written with the ledger posting provider → withdrawal_pending. Concurrent
requests of one provider queue on that row lock, and each reads the balance only once it holds
the lock (a transaction's snapshot is taken at its first plain read, which comes after the
lock), so together they can never take more than the balance.

requested → approved (withdrawal_pending → withdrawn) | rejected by an admin or cancelled by
the provider (withdrawal_pending → provider, withdrawable again). Each move is made once: the
row is locked and must still be `requested`.
"""

from __future__ import annotations

from datetime import datetime

from adapters import ledger
from adapters.clock import utcnow
from adapters.mysql import Database

STATUSES = ("requested", "approved", "rejected", "cancelled", "paid")
# outcome → (ledger kind, from account, to account)
OUTCOMES = {
    "approved": ("withdrawal_approved", "withdrawal_pending", "withdrawn"),
    "rejected": ("withdrawal_rejected", "withdrawal_pending", "provider"),
    "cancelled": ("withdrawal_cancelled", "withdrawal_pending", "provider"),
}
_SELECT = (
    "SELECT w.*, p.name AS provider_name FROM withdrawals w"
    " JOIN providers p ON p.id = w.provider_id"
)


class NoProvider(Exception):
    """No such provider."""


class InsufficientBalance(Exception):
    def __init__(self, balance: int):
        super().__init__(f"the withdrawable balance is {balance} fen")
        self.balance = balance


class InvalidTransition(Exception):
    def __init__(self, status: str):
        super().__init__(f"the withdrawal is {status}")
        self.status = status


def _posting(kind: str, row: dict, src: str, dst: str, now: datetime) -> ledger.Statement:
    legs = ledger.transfer_legs(row["amount"], row["provider_id"], src, dst, now)
    return ledger.insert(kind, row["id"], legs, {"withdrawal_id": row["id"]}, now)


async def request(db: Database, provider_id: int, amount: int) -> dict:
    """A new withdrawal of `amount` fen (> 0), its amount reserved; raises NoProvider or
    InsufficientBalance."""
    if amount <= 0:
        raise ValueError(f"a withdrawal of {amount} fen")
    async with db.transaction() as cur:
        await cur.execute("SELECT id FROM providers WHERE id = %s FOR UPDATE", (provider_id,))
        if await cur.fetchone() is None:
            raise NoProvider(provider_id)
        # The time is read under the lock: a reservation committed by the request before us
        # is dated earlier, so the balance below counts it (read before the lock, it may not).
        now = utcnow()
        await cur.execute(*ledger.balance_query(provider_id, now))
        balance = int((await cur.fetchone())["balance"])
        if balance < amount:
            raise InsufficientBalance(balance)
        await cur.execute(
            "INSERT INTO withdrawals (provider_id, amount, status, created_at)"
            " VALUES (%s, %s, 'requested', %s)",
            (provider_id, amount, now),
        )
        row = {"id": cur.lastrowid, "provider_id": provider_id, "amount": amount}
        await cur.execute(*_posting("withdrawal", row, "provider", "withdrawal_pending", now))
    return await load(db, row["id"])


async def decide(
    db: Database,
    withdrawal_id: int,
    outcome: str,
    by_user_id: int,
    note: str | None = None,
    provider_id: int | None = None,
) -> dict | None:
    """Move a requested withdrawal to `outcome` (approved, rejected, cancelled) with its
    posting. None when there is no such withdrawal (or, with `provider_id`, not theirs);
    InvalidTransition when it is no longer requested."""
    kind, src, dst = OUTCOMES[outcome]
    now = utcnow()
    async with db.transaction() as cur:
        await cur.execute("SELECT * FROM withdrawals WHERE id = %s FOR UPDATE", (withdrawal_id,))
        row = await cur.fetchone()
        if row is None or (provider_id is not None and row["provider_id"] != provider_id):
            return None
        if row["status"] != "requested":
            raise InvalidTransition(row["status"])
        await cur.execute(
            "UPDATE withdrawals SET status = %s, note = %s, decided_by = %s, decided_at = %s"
            " WHERE id = %s",
            (outcome, note, by_user_id, now, withdrawal_id),
        )
        await cur.execute(*_posting(kind, row, src, dst, now))
    return await load(db, withdrawal_id)


async def load(db: Database, withdrawal_id: int) -> dict | None:
    return await db.fetch_one(f"{_SELECT} WHERE w.id = %s", (withdrawal_id,))


async def page(
    db: Database,
    *,
    provider_id: int | None = None,
    status: str | None = None,
    page: int = 1,
    limit: int = 20,
) -> tuple[list[dict], int]:
    """Withdrawals newest first, of one provider and/or in one status; and their count."""
    conds, args = [], []
    if provider_id is not None:
        conds.append("w.provider_id = %s")
        args.append(provider_id)
    if status is not None:
        conds.append("w.status = %s")
        args.append(status)
    where = f"WHERE {' AND '.join(conds)}" if conds else ""
    count = await db.fetch_one(f"SELECT COUNT(*) AS n FROM withdrawals w {where}", args)
    rows = await db.fetch_all(
        f"{_SELECT} {where} ORDER BY w.id DESC LIMIT %s OFFSET %s",
        [*args, limit, (page - 1) * limit],
    )
    return rows, count["n"]
