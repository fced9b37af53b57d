"""The settlement ledger (CONTRACT §9): double entry, in fen.

Every posting is a handful of legs (rows of `ledger_entries`) that sum to 0, so the whole table
always sums to 0 (`total`). Signs: + is what an account holds, − what it gave. Accounts are
named in adapters/schema/0004_ledger.sql: `wechat_clearing`, `platform_fee`, `order_held`, and
per provider `provider`, `withdrawal_pending`, `withdrawn`.

- A paid payment: wechat_clearing −amount, platform_fee +fee, provider +(amount − fee).
  With no provider on the order yet (a deposit paid at order time) the whole amount goes to
  `order_held` (no fee yet); `release_entries` later moves it to the provider who did the
  work, taking the fee then.
- The fee is `fee_share(amount, rate)`: amount × rate ÷ 10 000, rounded to the nearest fen,
  halves up; the provider gets the rest. Rates are per service (`services.fee_rate_bp`).
- A refund reverses in the same ratio: of a payment's refunds, the fee part of refunding
  `r` after `before` fen were refunded is fee_share(before + r) − fee_share(before), so the
  refunds of the whole amount reverse the fee exactly, to the fen, however it was split.
- A provider's earnings count as balance once `available_at` (paid + the hold: the `hold_s`
  the caller passes, else HUB_EARNINGS_HOLD_S, default 7 days) has passed; until then they
  are pending. A refund's provider leg takes the reversed earnings' available_at (or now, if
  later), so a refund of held earnings lowers pending, not balance. A refund after the
  earnings were withdrawn can leave the balance below 0: the provider owes it, and withdraws
  nothing until it is made up.

The posting functions are pure: they return statements (adapters.orders.Statement) that the
caller runs inside the transaction that records the payment's or refund's move. Posting the
same source twice hits the unique key (kind, source_id, account): a duplicate-key error that
rolls that transaction back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.clock import utcnow
from adapters.mysql import Database

Statement = tuple[str, tuple]  # as adapters.orders.Statement

DEFAULT_FEE_RATE_BP = 2000
HOLD_ENV = "HUB_EARNINGS_HOLD_S"
DEFAULT_HOLD_S = 7 * 24 * 3600

COLUMNS = (
    "kind",
    "source_id",
    "account",
    "provider_id",
    "amount",
    "fee_rate_bp",
    "order_id",
    "payment_id",
    "refund_id",
    "withdrawal_id",
    "available_at",
    "created_at",
)
_INSERT = f"INSERT INTO ledger_entries ({', '.join(COLUMNS)}) VALUES "
_ROW = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"


@dataclass(frozen=True)
class Leg:
    account: str
    amount: int
    provider_id: int | None = None
    available_at: datetime | None = None


def hold(seconds: float | None = None) -> timedelta:
    """How long earnings stay pending: `seconds` if given, else HUB_EARNINGS_HOLD_S (default 7
    days) from the environment of the process that posts them (a Ray worker's is the Ray
    node's: pass the hub's setting where that matters)."""
    if seconds is not None:
        return timedelta(seconds=seconds)
    raw = os.environ.get(HOLD_ENV, "").strip()
    try:
        seconds = float(raw) if raw else DEFAULT_HOLD_S
    except ValueError:
        raise ValueError(f"{HOLD_ENV} must be a number of seconds, got {raw!r}") from None
    return timedelta(seconds=seconds)


def fee_share(amount: int, fee_rate_bp: int) -> int:
    """The platform's fee on `amount` fen at `fee_rate_bp`: nearest fen, halves up."""
    if not 0 <= fee_rate_bp <= 10_000:
        raise ValueError(f"fee rate {fee_rate_bp} bp is not within 0..10000")
    return (amount * fee_rate_bp + 5_000) // 10_000


def _split(amount: int, before: int, after: int, fee_rate_bp: int) -> tuple[int, int]:
    """(fee, provider) of the part of a payment between `before` and `after` fen."""
    fee = fee_share(after, fee_rate_bp) - fee_share(before, fee_rate_bp)
    return fee, (after - before) - fee


# --- the legs of each posting (pure) ---------------------------------------------------------


def payment_legs(amount: int, provider_id: int | None, fee_rate_bp: int, available_at) -> list:
    if amount < 0:
        raise ValueError(f"a payment of {amount} fen")
    if provider_id is None:
        return [Leg("wechat_clearing", -amount), Leg("order_held", amount)]
    fee, earned = _split(amount, 0, amount, fee_rate_bp)
    return [
        Leg("wechat_clearing", -amount),
        Leg("platform_fee", fee),
        Leg("provider", earned, provider_id, available_at),
    ]


def release_legs(
    amount: int, held: int, provider_id: int, fee_rate_bp: int, available_at
) -> list[Leg]:
    """The `held` fen still in order_held (of a payment of `amount`) to the provider."""
    if not 0 <= held <= amount:
        raise ValueError(f"{held} fen held of a payment of {amount}")
    fee, earned = _split(amount, amount - held, amount, fee_rate_bp)
    return [
        Leg("order_held", -held),
        Leg("platform_fee", fee),
        Leg("provider", earned, provider_id, available_at),
    ]


def refund_legs(
    refund: int,
    amount: int,
    refunded_before: int,
    provider_id: int | None,
    fee_rate_bp: int,
    available_at,
) -> list[Leg]:
    if refund < 0 or refunded_before < 0 or refunded_before + refund > amount:
        raise ValueError(f"refunding {refund} after {refunded_before} of a payment of {amount}")
    if provider_id is None:
        return [Leg("wechat_clearing", refund), Leg("order_held", -refund)]
    fee, earned = _split(amount, refunded_before, refunded_before + refund, fee_rate_bp)
    return [
        Leg("wechat_clearing", refund),
        Leg("platform_fee", -fee),
        Leg("provider", -earned, provider_id, available_at),
    ]


def transfer_legs(amount: int, provider_id: int, src: str, dst: str, at: datetime) -> list[Leg]:
    """`amount` fen from one of a provider's accounts to another (withdrawals)."""
    return [Leg(src, -amount, provider_id, at), Leg(dst, amount, provider_id, at)]


def insert(kind: str, source_id: int, legs: list[Leg], refs: dict, now: datetime) -> Statement:
    """One INSERT of a posting's legs (a leg of 0 fen too: it names the provider); `refs`:
    fee_rate_bp, order_id, payment_id, refund_id, withdrawal_id (absent ones NULL)."""
    if sum(leg.amount for leg in legs) != 0:
        raise ValueError(f"unbalanced posting {kind} {source_id}: {legs}")
    args: list = []
    for leg in legs:
        args += [kind, source_id, leg.account, leg.provider_id, leg.amount]
        args += [refs.get(k) for k in COLUMNS[5:10]]
        args += [leg.available_at, now]
    return _INSERT + ", ".join([_ROW] * len(legs)), tuple(args)


def _postings(kind: str, source_id: int, legs: list[Leg], refs: dict, now) -> tuple:
    """Nothing for a posting of 0 fen (a payment or refund of nothing)."""
    return (insert(kind, source_id, legs, refs, now),) if any(leg.amount for leg in legs) else ()


# --- the hooks the order actor calls, inside the payment's or refund's transaction ----------


def payment_entries(
    payment: dict, provider_id: int | None, fee_rate_bp: int, *, hold_s: float | None = None
) -> tuple[Statement, ...]:
    """A paid payment (a payments row: id, order_id, amount, paid_at) split into the fee and
    the provider's earnings (available from paid_at + hold); with no provider yet, held."""
    now = utcnow()
    available = (payment.get("paid_at") or now) + hold(hold_s)
    legs = payment_legs(payment["amount"], provider_id, fee_rate_bp, available)
    refs = {"fee_rate_bp": fee_rate_bp, "order_id": payment["order_id"]}
    return _postings("payment", payment["id"], legs, {**refs, "payment_id": payment["id"]}, now)


def release_entries(
    payment: dict, held: int, provider_id: int, fee_rate_bp: int, *, hold_s: float | None = None
) -> tuple[Statement, ...]:
    """What a payment left in order_held (`held_of_order`) goes to the provider now on the
    order, less the fee; available after the hold, counted from now. For an order's deposit,
    once a provider completes it."""
    now = utcnow()
    legs = release_legs(payment["amount"], held, provider_id, fee_rate_bp, now + hold(hold_s))
    refs = {"fee_rate_bp": fee_rate_bp, "order_id": payment["order_id"]}
    return _postings("release", payment["id"], legs, {**refs, "payment_id": payment["id"]}, now)


def refund_entries(
    refund: dict,
    payment: dict,
    provider_id: int | None,
    fee_rate_bp: int,
    *,
    refunded_before: int = 0,
    available_at: datetime | None = None,
    hold_s: float | None = None,
) -> tuple[Statement, ...]:
    """A successful refund (a refunds row: id, amount) of `payment`, reversing its posting in
    the same ratio. Pass what `posting_of(db, payment id)` answers (`**posting`): the provider
    and rate the payment was posted with, the fen refunded before, and when its earnings
    become available; without them the refund is split on its own (within a fen)."""
    now = utcnow()
    if available_at is None:
        available_at = (payment.get("paid_at") or now) + hold(hold_s)
    legs = refund_legs(
        refund["amount"],
        payment["amount"],
        refunded_before,
        provider_id,
        fee_rate_bp,
        max(available_at, now),
    )
    refs = {"order_id": payment["order_id"], "payment_id": payment["id"], "refund_id": refund["id"]}
    return _postings("refund", refund["id"], legs, refs, now)


# --- reads -----------------------------------------------------------------------------------


async def fee_rate_for_order(db: Database, order_id: int) -> int:
    """The fee rate (basis points) of the order's service."""
    row = await db.fetch_one(
        "SELECT s.fee_rate_bp FROM orders o JOIN services s ON s.id = o.service_id WHERE o.id = %s",
        (order_id,),
    )
    return int(row["fee_rate_bp"]) if row else DEFAULT_FEE_RATE_BP


async def posting_of(db: Database, payment_id: int) -> dict | None:
    """How a payment was posted, as refund_entries takes it: {provider_id, fee_rate_bp,
    refunded_before, available_at}; a release counts over the payment's held posting. None
    when the payment was never posted."""
    rows = await db.fetch_all(
        "SELECT kind, account, provider_id, amount, fee_rate_bp, available_at"
        " FROM ledger_entries WHERE payment_id = %s AND kind IN ('payment', 'release', 'refund')"
        " ORDER BY id",
        (payment_id,),
    )
    posted = [r for r in rows if r["kind"] != "refund"]
    if not posted:
        return None
    last = posted[-1]  # the release, if there was one
    earned = next((r for r in posted if r["account"] == "provider"), None)
    refunded = sum(
        r["amount"] for r in rows if r["kind"] == "refund" and r["account"] == "wechat_clearing"
    )
    return {
        "provider_id": earned["provider_id"] if earned else None,
        "fee_rate_bp": last["fee_rate_bp"] if last["fee_rate_bp"] is not None else 0,
        "refunded_before": int(refunded),
        "available_at": earned["available_at"] if earned else None,
    }


async def held_of_order(db: Database, order_id: int) -> dict[int, int]:
    """payment id → fen still in order_held for the order (only those above 0)."""
    rows = await db.fetch_all(
        "SELECT payment_id, SUM(amount) AS held FROM ledger_entries"
        " WHERE order_id = %s AND account = 'order_held' GROUP BY payment_id",
        (order_id,),
    )
    return {r["payment_id"]: int(r["held"]) for r in rows if r["held"] > 0}


BALANCE_SQL = (
    "SELECT COALESCE(SUM(CASE WHEN account = 'provider' AND available_at <= %s"
    " THEN amount END), 0) AS balance,"
    " COALESCE(SUM(CASE WHEN account = 'provider' AND available_at > %s THEN amount END), 0)"
    " AS pending,"
    " COALESCE(SUM(CASE WHEN account = 'withdrawal_pending' THEN amount END), 0) AS requested,"
    " COALESCE(SUM(CASE WHEN account = 'withdrawn' THEN amount END), 0) AS withdrawn"
    " FROM ledger_entries WHERE provider_id = %s"
)


def balance_query(provider_id: int, now: datetime) -> Statement:
    return BALANCE_SQL, (now, now, provider_id)


async def provider_balance(db: Database, provider_id: int, now: datetime | None = None) -> dict:
    """{balance: withdrawable now, pending: still held, requested: in withdrawals awaiting a
    decision, withdrawn: approved withdrawals}, in fen."""
    row = await db.fetch_one(*balance_query(provider_id, now or utcnow()))
    return {k: int(v) for k, v in row.items()}


async def entries_for_provider(
    db: Database, provider_id: int, page: int = 1, limit: int = 20
) -> tuple[list[dict], int]:
    """The movements of the provider's earnings account, newest first; and their count."""
    where = "WHERE provider_id = %s AND account = 'provider'"
    count = await db.fetch_one(f"SELECT COUNT(*) AS n FROM ledger_entries {where}", (provider_id,))
    rows = await db.fetch_all(
        f"SELECT * FROM ledger_entries {where} ORDER BY id DESC LIMIT %s OFFSET %s",
        (provider_id, limit, (page - 1) * limit),
    )
    return rows, count["n"]


async def total(db: Database) -> int:
    """The sum of every entry: 0, always."""
    row = await db.fetch_one("SELECT COALESCE(SUM(amount), 0) AS total FROM ledger_entries")
    return int(row["total"])


# --- fee rates (admin) and the reconciliation's reads ----------------------------------------


async def service_fees(db: Database) -> list[dict]:
    return await db.fetch_all(
        "SELECT id, category, name, fee_rate_bp FROM services ORDER BY category, name"
    )


async def set_fee_rate(db: Database, service_id: int, fee_rate_bp: int) -> dict | None:
    """The service with its new rate; None when there is no such service."""
    fee_share(0, fee_rate_bp)  # checks the range
    await db.execute(
        "UPDATE services SET fee_rate_bp = %s WHERE id = %s", (fee_rate_bp, service_id)
    )
    return await db.fetch_one(
        "SELECT id, category, name, fee_rate_bp FROM services WHERE id = %s", (service_id,)
    )


async def refunds_between(db: Database, start: datetime, end: datetime) -> list[dict]:
    """Refunds asked of WeChat in [start, end) (UTC), with their payment's out_trade_no: what
    a trade bill lists. Refused ones (failed without a WeChat refund_id) are left out."""
    return await db.fetch_all(
        "SELECT r.*, p.out_trade_no FROM refunds r JOIN payments p ON p.id = r.payment_id"
        " WHERE r.created_at >= %s AND r.created_at < %s"
        " AND (r.status <> 'failed' OR r.refund_id IS NOT NULL) ORDER BY r.id",
        (start, end),
    )
