"""The console's order table (issue #11): staff's search over every order, by area, service,
urgency, time slot, dispatch mode, payment status and status, and by order number or the last
digits of the contact phone. Newest first, a page at a time.

The phone is searched on its masked form (`138****8000`), whose last four digits are kept in
the clear for this: no decryption, and no way to look a whole number up from a tail.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.mysql import Database
from adapters.reconciliation import CHINA_OFFSET

HOURS = int(CHINA_OFFSET.total_seconds() // 3600)

# A slot is the China time of day an order is booked for; `now` is an order for as soon as
# possible (no scheduled time).
SLOTS = {
    "morning": (6, 12),
    "afternoon": (12, 18),
    "evening": (18, 24),
    "night": (0, 6),
}


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    area_id: int | None = None
    service_id: int | None = None
    urgency: str | None = None
    dispatch_mode: str | None = None
    payment_status: str | None = None
    slot: str | None = None  # "now" or a key of SLOTS
    q: str | None = None  # a phone's last four digits, or (anything else) part of an order number


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def where(f: Filters) -> tuple[str, list]:
    parts, args = [], []
    for column, value in (
        ("status", f.status),
        ("area_id", f.area_id),
        ("service_id", f.service_id),
        ("urgency", f.urgency),
        ("dispatch_mode", f.dispatch_mode),
        ("payment_status", f.payment_status),
    ):
        if value is not None:
            parts.append(f"{column} = %s")
            args.append(value)
    if f.slot == "now":
        parts.append("scheduled_at IS NULL")
    elif f.slot in SLOTS:
        lo, hi = SLOTS[f.slot]
        parts.append(f"HOUR(scheduled_at + INTERVAL {HOURS} HOUR) BETWEEN %s AND %s")
        args += [lo, hi - 1]
    if f.q:
        # Four digits are a phone's tail (手机尾号): as part of an order number they would match
        # most of a day's orders, whose numbers are digits.
        if f.q.isdigit() and len(f.q) == 4:
            parts.append("contact_phone_masked LIKE %s")
            args.append("%" + f.q)
        else:
            parts.append("order_no LIKE %s")
            args.append(_like(f.q))
    return ("WHERE " + " AND ".join(parts)) if parts else "", args


async def search(db: Database, f: Filters, limit: int, offset: int) -> tuple[list[dict], int]:
    clause, args = where(f)
    total = await db.fetch_one(f"SELECT COUNT(*) AS n FROM orders {clause}", args)
    rows = await db.fetch_all(
        f"SELECT * FROM orders {clause} ORDER BY id DESC LIMIT %s OFFSET %s",
        [*args, limit, offset],
    )
    return rows, int(total["n"])
