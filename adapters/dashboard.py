"""The console's dashboard (issue #11, seeds 000–002): a China day's figures, read from MySQL.

Every figure is one aggregate over the tables the hub writes, so it can be recounted from the
rows (tests/test_console_dashboard.py does, in Python, and asks for 0 % difference):

- orders: those created in the day, by status;
- times: for the day's orders, from `created_at` to `accepted_at` / `arrived_at` /
  `completed_at`, summed in microseconds with how many reached that step (the mean is the
  caller's division, so no rounding happens in SQL);
- acceptance: the day's orders that were accepted (`accepted_at` set) against those whose
  dispatch is decided (every status but `pending`);
- money (fen): payments whose `paid_at` is in the day (deposits, balances and full payments
  alike, whatever happened to them later), refunds that succeeded in the day
  (`succeeded_at`), and the platform's fee: the day's `platform_fee` ledger legs, net (a
  refund's leg reverses its share);
- providers: approved providers by `work_status` now, and how many accepted an order in the day;
- charts: orders created and money paid per China hour of the day, and per day over the
  `days` days that end with it.

A day is China's (UTC+8), as WeChat Pay's bills and the reconciliation count it
(adapters.reconciliation.china_day); times are stored in UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from adapters.mysql import Database
from adapters.reconciliation import CHINA_OFFSET

HOURS = 8  # CHINA_OFFSET in hours, for the SQL that buckets by China hour / day
assert timedelta(hours=HOURS) == CHINA_OFFSET


async def orders_by_status(db: Database, start: datetime, end: datetime) -> dict[str, int]:
    rows = await db.fetch_all(
        "SELECT status, COUNT(*) AS n FROM orders WHERE created_at >= %s AND created_at < %s"
        " GROUP BY status",
        (start, end),
    )
    return {r["status"]: int(r["n"]) for r in rows}


async def order_times(db: Database, start: datetime, end: datetime) -> dict[str, int]:
    """Counts and microsecond sums from creation to each step, and the acceptance counts."""
    row = await db.fetch_one(
        "SELECT COUNT(*) AS created, SUM(status <> 'pending') AS decided,"
        " COUNT(accepted_at) AS accepted,"
        " SUM(TIMESTAMPDIFF(MICROSECOND, created_at, accepted_at)) AS accept_us,"
        " COUNT(arrived_at) AS arrived,"
        " SUM(TIMESTAMPDIFF(MICROSECOND, created_at, arrived_at)) AS arrive_us,"
        " COUNT(completed_at) AS completed,"
        " SUM(TIMESTAMPDIFF(MICROSECOND, created_at, completed_at)) AS complete_us"
        " FROM orders WHERE created_at >= %s AND created_at < %s",
        (start, end),
    )
    return {key: int(value or 0) for key, value in row.items()}


async def money(db: Database, start: datetime, end: datetime) -> dict[str, int]:
    paid = await db.fetch_one(
        "SELECT COUNT(*) AS n, COALESCE(SUM(amount), 0) AS fen FROM payments"
        " WHERE paid_at >= %s AND paid_at < %s",
        (start, end),
    )
    refunded = await db.fetch_one(
        "SELECT COUNT(*) AS n, COALESCE(SUM(amount), 0) AS fen FROM refunds"
        " WHERE status = 'success' AND succeeded_at >= %s AND succeeded_at < %s",
        (start, end),
    )
    fee = await db.fetch_one(
        "SELECT COALESCE(SUM(amount), 0) AS fen FROM ledger_entries"
        " WHERE account = 'platform_fee' AND created_at >= %s AND created_at < %s",
        (start, end),
    )
    return {
        "paid_count": int(paid["n"]),
        "paid": int(paid["fen"]),
        "refund_count": int(refunded["n"]),
        "refunded": int(refunded["fen"]),
        "platform_fee": int(fee["fen"]),
    }


async def providers(db: Database, start: datetime, end: datetime) -> dict[str, int]:
    rows = await db.fetch_all(
        "SELECT work_status, COUNT(*) AS n FROM providers WHERE verification = 'approved'"
        " GROUP BY work_status"
    )
    by_state = {r["work_status"]: int(r["n"]) for r in rows}
    took = await db.fetch_one(
        "SELECT COUNT(DISTINCT provider_id) AS n FROM orders"
        " WHERE accepted_at >= %s AND accepted_at < %s AND provider_id IS NOT NULL",
        (start, end),
    )
    return {
        "online": by_state.get("online", 0),
        "busy": by_state.get("busy", 0),
        "offline": by_state.get("offline", 0),
        "took_orders": int(took["n"]),
    }


async def by_hour(db: Database, start: datetime, end: datetime) -> list[dict]:
    """24 rows, China hours 0–23: orders created, money paid."""
    orders = await db.fetch_all(
        f"SELECT HOUR(created_at + INTERVAL {HOURS} HOUR) AS h, COUNT(*) AS n FROM orders"
        " WHERE created_at >= %s AND created_at < %s GROUP BY h",
        (start, end),
    )
    paid = await db.fetch_all(
        f"SELECT HOUR(paid_at + INTERVAL {HOURS} HOUR) AS h, SUM(amount) AS fen FROM payments"
        " WHERE paid_at >= %s AND paid_at < %s GROUP BY h",
        (start, end),
    )
    n = {int(r["h"]): int(r["n"]) for r in orders}
    fen = {int(r["h"]): int(r["fen"]) for r in paid}
    return [{"hour": h, "orders": n.get(h, 0), "paid": fen.get(h, 0)} for h in range(24)]


async def by_day(db: Database, first: datetime, end: datetime, days: int) -> list[dict]:
    """One row per China day from `first` (the UTC start of the first day) to `end`: orders
    created, orders completed (by completion time), money paid."""
    span = (first, end)
    created = await db.fetch_all(
        f"SELECT DATE(created_at + INTERVAL {HOURS} HOUR) AS d, COUNT(*) AS n FROM orders"
        " WHERE created_at >= %s AND created_at < %s GROUP BY d",
        span,
    )
    completed = await db.fetch_all(
        f"SELECT DATE(completed_at + INTERVAL {HOURS} HOUR) AS d, COUNT(*) AS n FROM orders"
        " WHERE completed_at >= %s AND completed_at < %s GROUP BY d",
        span,
    )
    paid = await db.fetch_all(
        f"SELECT DATE(paid_at + INTERVAL {HOURS} HOUR) AS d, SUM(amount) AS fen FROM payments"
        " WHERE paid_at >= %s AND paid_at < %s GROUP BY d",
        span,
    )
    c = {str(r["d"]): int(r["n"]) for r in created}
    done = {str(r["d"]): int(r["n"]) for r in completed}
    fen = {str(r["d"]): int(r["fen"]) for r in paid}
    out = []
    for i in range(days):
        day = (first + CHINA_OFFSET + timedelta(days=i)).date().isoformat()
        out.append(
            {
                "date": day,
                "orders": c.get(day, 0),
                "completed": done.get(day, 0),
                "paid": fen.get(day, 0),
            }
        )
    return out


def _mean_s(total_us: int, count: int) -> float | None:
    return round(total_us / count / 1e6, 1) if count else None


async def day_summary(db: Database, start: datetime, end: datetime, days: int = 14) -> dict:
    """The dashboard of the China day [start, end) (UTC bounds), as the API returns it."""
    statuses = await orders_by_status(db, start, end)
    times = await order_times(db, start, end)
    cash = await money(db, start, end)
    crew = await providers(db, start, end)
    rate = times["accepted"] / times["decided"] * 100 if times["decided"] else None
    return {
        "orders": {"total": sum(statuses.values()), "byStatus": statuses},
        "revenue": {
            "paid": cash["paid"],
            "paidCount": cash["paid_count"],
            "refunded": cash["refunded"],
            "refundCount": cash["refund_count"],
            "platformFee": cash["platform_fee"],
            "net": cash["paid"] - cash["refunded"],
        },
        "providers": {
            "online": crew["online"],
            "busy": crew["busy"],
            "offline": crew["offline"],
            "active": crew["online"] + crew["busy"],
            "tookOrders": crew["took_orders"],
        },
        "times": {
            "acceptAvgS": _mean_s(times["accept_us"], times["accepted"]),
            "acceptCount": times["accepted"],
            "arriveAvgS": _mean_s(times["arrive_us"], times["arrived"]),
            "arriveCount": times["arrived"],
            "completeAvgS": _mean_s(times["complete_us"], times["completed"]),
            "completeCount": times["completed"],
        },
        "acceptance": {
            "accepted": times["accepted"],
            "decided": times["decided"],
            "ratePct": None if rate is None else round(rate, 1),
        },
        "byHour": await by_hour(db, start, end),
        "byDay": await by_day(db, end - timedelta(days=days), end, days),
    }
