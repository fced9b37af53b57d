"""Coupons in MySQL (CONTRACT §12): templates, the coupons customers hold, and their counts.

MySQL is the source of truth, and a claim is one transaction: the template's conditional
update `issued < stock` (its row lock orders the claims of one template), then the customer's
n-th coupon of it, n ≤ per_user (a unique key). Plain reads refuse the obvious cases first
(sold out, at the limit) so a rush's losers mostly never take the lock. load/bench_coupons.py
measures this against an atomic Redis counter in front of the same transaction.

A held coupon's status is usable | locked | used; "expired" is derived (usable, and past its
valid_to or its template ended). Its moves with a payment are in adapters/coupon_moves.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import orjson

from adapters import coupon_moves
from adapters.clock import iso
from adapters.mysql import Database, is_duplicate

# The template's columns a held coupon is read with (as t_*): what coupon_moves judges by.
JOINED = (
    "SELECT c.*, t.name AS t_name, t.kind AS t_kind, t.amount_off AS t_amount_off,"
    " t.threshold AS t_threshold, t.percent_off AS t_percent_off, t.max_off AS t_max_off,"
    " t.service_ids AS t_service_ids, t.area_ids AS t_area_ids, t.status AS t_status,"
    " t.return_on_refund AS t_return_on_refund"
    " FROM user_coupons c JOIN coupon_templates t ON t.id = c.template_id"
)
# A held coupon's status as the API shows it (the `expired` one is derived).
SHOWN = {
    "usable": "c.status = 'usable' AND c.valid_to > %s AND t.status <> 'ended'",
    "expired": "c.status = 'usable' AND (c.valid_to <= %s OR t.status = 'ended')",
    "locked": "c.status = 'locked'",
    "used": "c.status = 'used'",
}
TEMPLATE_FIELDS = (
    "name",
    "kind",
    "amount_off",
    "threshold",
    "percent_off",
    "max_off",
    "service_ids",
    "area_ids",
    "valid_from",
    "valid_to",
    "valid_days",
    "stock",
    "per_user",
    "new_customer_only",
    "return_on_refund",
    "created_by",
)


class Refused(Exception):
    """A claim refused: `code` is the API's (out_of_stock, limit_reached, not_eligible,
    not_found)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def shown_status(row: dict, now: datetime) -> str:
    ended = row.get("t_status") == "ended"
    if row["status"] == "usable" and (row["valid_to"] <= now or ended):
        return "expired"
    return row["status"]


def _terms_json(row: dict, prefix: str) -> dict:
    """What the coupon takes off and where it applies, from a template's columns (a held
    coupon's row JOINs them as t_*)."""
    return {
        "name": row[prefix + "name"],
        "kind": row[prefix + "kind"],
        "amountOff": row[prefix + "amount_off"],
        "threshold": row[prefix + "threshold"],
        "percentOff": row[prefix + "percent_off"],
        "maxOff": row[prefix + "max_off"],
        "serviceIds": coupon_moves.as_list(row[prefix + "service_ids"]),
        "areaIds": coupon_moves.as_list(row[prefix + "area_ids"]),
    }


def template_json(row: dict) -> dict:
    counts = {k: int(row.get(k) or 0) for k in ("claimed", "used", "expired", "cost")}
    return {
        "id": row["id"],
        **_terms_json(row, ""),
        "validFrom": iso(row["valid_from"]),
        "validTo": iso(row["valid_to"]),
        "validDays": row["valid_days"],
        "stock": row["stock"],
        "left": max(row["stock"] - row["issued"], 0),
        "perUser": row["per_user"],
        "newCustomerOnly": bool(row["new_customer_only"]),
        "returnOnRefund": bool(row["return_on_refund"]),
        "status": row["status"],
        "issued": row["issued"],
        **counts,
        "createdAt": iso(row["created_at"]),
    }


def coupon_json(row: dict, now: datetime) -> dict:
    """A held coupon (a JOINED row) as the customer sees it."""
    return {
        "id": row["id"],
        "templateId": row["template_id"],
        **_terms_json(row, "t_"),
        "status": shown_status(row, now),
        "source": row["source"],
        "validFrom": iso(row["valid_from"]),
        "validTo": iso(row["valid_to"]),
        "orderId": row["order_id"],
        "paymentId": row["payment_id"],
        "discount": row["discount"],
        "claimedAt": iso(row["claimed_at"]),
        "usedAt": iso(row["used_at"]),
    }


# --- templates (staff) ---------------------------------------------------------------------------


async def create_template(db: Database, fields: dict) -> int:
    cols = {k: fields[k] for k in TEMPLATE_FIELDS if fields.get(k) is not None}  # else defaults
    for key in ("service_ids", "area_ids"):
        if key in cols:
            cols[key] = orjson.dumps(cols[key]).decode()
    _, template_id = await db.execute(
        f"INSERT INTO coupon_templates ({', '.join(cols)})"
        f" VALUES ({', '.join(['%s'] * len(cols))})",
        tuple(cols.values()),
    )
    return template_id


async def template(db: Database, template_id: int) -> dict | None:
    return await db.fetch_one("SELECT * FROM coupon_templates WHERE id = %s", (template_id,))


async def set_status(db: Database, template_id: int, status: str) -> bool:
    """Pause, resume or end a template; an ended one stays ended. False when it is ended."""
    count, _ = await db.execute(
        "UPDATE coupon_templates SET status = %s WHERE id = %s AND status <> 'ended'",
        (status, template_id),
    )
    return count == 1 or (await template(db, template_id) or {}).get("status") == status


async def templates_with_counts(
    db: Database, now: datetime, template_id: int | None = None
) -> list[dict]:
    """Every template (or one), newest first, with what became of its coupons: issued (all),
    claimed (by customers themselves), used, expired, and the cost so far: the discounts of
    used coupons whose payment was not refunded in full."""
    where = "WHERE t.id = %s" if template_id is not None else ""
    args = (now,) + ((template_id,) if template_id is not None else ())
    return await db.fetch_all(
        "SELECT t.*, COALESCE(SUM(c.source = 'claim'), 0) AS claimed,"
        " COALESCE(SUM(c.status = 'used'), 0) AS used,"
        " COALESCE(SUM(c.status = 'usable' AND (c.valid_to <= %s OR t.status = 'ended')), 0)"
        " AS expired,"
        " COALESCE(SUM(CASE WHEN c.status = 'used' AND p.status <> 'refunded'"
        " THEN c.discount END), 0) AS cost"
        " FROM coupon_templates t LEFT JOIN user_coupons c ON c.template_id = t.id"
        f" LEFT JOIN payments p ON p.id = c.payment_id {where} GROUP BY t.id ORDER BY t.id DESC",
        args,
    )


# --- claiming ------------------------------------------------------------------------------------


async def is_new_customer(db: Database, user_id: int) -> bool:
    """A customer who has never placed an order."""
    row = await db.fetch_one(
        "SELECT 1 AS one FROM orders WHERE customer_id = %s LIMIT 1", (user_id,)
    )
    return row is None


async def claimable(db: Database, user_id: int, now: datetime) -> list[dict]:
    """Active templates still in stock and in their window that this customer holds fewer of
    than its limit (new-customer ones only while they are new)."""
    rows = await db.fetch_all(
        "SELECT t.* FROM coupon_templates t WHERE t.status = 'active' AND t.issued < t.stock"
        " AND (t.valid_to IS NULL OR t.valid_to > %s)"
        " AND (SELECT COUNT(*) FROM user_coupons c WHERE c.template_id = t.id"
        " AND c.user_id = %s) < t.per_user ORDER BY t.id DESC",
        (now, user_id),
    )
    if any(r["new_customer_only"] for r in rows) and not await is_new_customer(db, user_id):
        rows = [r for r in rows if not r["new_customer_only"]]
    return rows


def validity(t: dict, now: datetime) -> tuple[datetime, datetime]:
    """When a coupon claimed now is valid: from the template's validFrom (or now), for N days
    when it says so, never past the template's validTo."""
    start = max(t["valid_from"] or now, now) if t["valid_days"] else (t["valid_from"] or now)
    if not t["valid_days"]:
        return start, t["valid_to"]
    end = start + timedelta(days=t["valid_days"])
    return start, min(end, t["valid_to"]) if t["valid_to"] else end


async def claim(db: Database, template_id: int, user_id: int, source: str, now: datetime) -> dict:
    """Give the customer one coupon of the template (source: claim | grant | welcome); the held
    coupon's row, or Refused. Never more than `stock` in all, never more than `per_user` each,
    however many claim at once."""
    t = await template(db, template_id)
    if t is None:
        raise Refused("not_found", "no such coupon")
    if t["status"] != "active" or (t["valid_to"] is not None and t["valid_to"] <= now):
        raise Refused("not_eligible", "this coupon is not on offer")
    if source == "claim" and t["new_customer_only"] and not await is_new_customer(db, user_id):
        raise Refused("not_eligible", "this coupon is for new customers")
    if t["issued"] >= t["stock"]:  # a plain read: once it is gone, no lock is taken
        raise Refused("out_of_stock", "all of these coupons are taken")
    mine_before = await db.fetch_one(
        "SELECT COALESCE(MAX(nth), 0) AS n FROM user_coupons WHERE template_id = %s"
        " AND user_id = %s",
        (template_id, user_id),
    )
    if mine_before["n"] >= t["per_user"]:  # a plain read too: no lock for one at the limit
        raise Refused("limit_reached", f"at most {t['per_user']} of these each")
    start, end = validity(t, now)
    async with db.transaction() as cur:
        # The template's row lock orders this template's claims until the commit.
        await cur.execute(
            "UPDATE coupon_templates SET issued = issued + 1"
            " WHERE id = %s AND status = 'active' AND issued < stock",
            (template_id,),
        )
        if cur.rowcount != 1:
            raise Refused("out_of_stock", "all of these coupons are taken")
        # Every earlier claim of this template committed before the lock above was granted, and
        # the transaction's snapshot starts at this, its first plain read: the count is settled
        # without locking the customer's coupons (a prepay or a refund may be moving one).
        await cur.execute(
            "SELECT COALESCE(MAX(nth), 0) AS n FROM user_coupons"
            " WHERE template_id = %s AND user_id = %s",
            (template_id, user_id),
        )
        nth = (await cur.fetchone())["n"] + 1
        if nth > t["per_user"]:
            raise Refused("limit_reached", f"at most {t['per_user']} of these each")
        try:
            await cur.execute(
                "INSERT INTO user_coupons (template_id, user_id, nth, source, valid_from,"
                " valid_to, claimed_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (template_id, user_id, nth, source, start, end, now),
            )
        except Exception as exc:  # the unique key: a second belt under the lock
            if is_duplicate(exc):
                raise Refused("limit_reached", f"at most {t['per_user']} of these each") from None
            raise
        coupon_id = cur.lastrowid
    return await held(db, coupon_id, user_id)


async def welcome(db: Database, user_id: int, now: datetime) -> list[int]:
    """A new customer's coupons (first login): one of every new-customer template on offer.
    Returns the coupons' ids; a template out of stock is skipped."""
    rows = await db.fetch_all(
        "SELECT id FROM coupon_templates WHERE status = 'active' AND new_customer_only"
        " AND issued < stock AND (valid_to IS NULL OR valid_to > %s)",
        (now,),
    )
    given = []
    for row in rows:
        try:
            given.append((await claim(db, row["id"], user_id, "welcome", now))["id"])
        except Refused:
            continue
    return given


async def customers_among(db: Database, user_ids: list[int]) -> set[int]:
    """Which of these users are customers (staff may issue coupons only to them)."""
    if not user_ids:
        return set()
    rows = await db.fetch_all(
        "SELECT id FROM users WHERE role = 'customer'"
        f" AND id IN ({', '.join(['%s'] * len(user_ids))})",
        tuple(user_ids),
    )
    return {r["id"] for r in rows}


# --- held coupons --------------------------------------------------------------------------------


async def held(db: Database, coupon_id: int, user_id: int) -> dict | None:
    """The customer's coupon with its template's columns; None when it is not theirs."""
    return await db.fetch_one(f"{JOINED} WHERE c.id = %s AND c.user_id = %s", (coupon_id, user_id))


async def mine(
    db: Database, user_id: int, status: str | None, now: datetime, limit: int, offset: int
) -> tuple[list[dict], int]:
    where, args = "WHERE c.user_id = %s", [user_id]
    if status is not None:
        where += f" AND {SHOWN[status]}"
        args += [now] if "%s" in SHOWN[status] else []
    count = await db.fetch_one(
        "SELECT COUNT(*) AS n FROM user_coupons c JOIN coupon_templates t"
        f" ON t.id = c.template_id {where}",
        args,
    )
    rows = await db.fetch_all(
        f"{JOINED} {where} ORDER BY c.valid_to, c.id LIMIT %s OFFSET %s", [*args, limit, offset]
    )
    return rows, count["n"]


async def usable(db: Database, user_id: int, now: datetime) -> list[dict]:
    rows, _ = await mine(db, user_id, "usable", now, 500, 0)
    return rows


async def lock(
    db: Database, coupon_id: int, user_id: int, payment_id: int, order_id: int, off: int
) -> bool:
    """Bind the coupon to an open payment; False when it is not usable any more (another
    payment took it first, or it expired or was paused meanwhile)."""
    count, _ = await db.execute(*coupon_moves.locked(coupon_id, user_id, payment_id, order_id, off))
    return count == 1


async def release(db: Database, payment_id: int) -> None:
    """The payment never reached WeChat: its coupon is usable again."""
    await db.execute(*coupon_moves.released(payment_id))


async def of_payment(db: Database, payment_id: int) -> dict | None:
    return await db.fetch_one(f"{JOINED} WHERE c.payment_id = %s", (payment_id,))


async def discount_posting(db: Database, payment_id: int) -> list[dict]:
    """The legs of a payment's `coupon` posting (none if it was never posted, or reversed)."""
    rows = await db.fetch_all(
        "SELECT * FROM ledger_entries WHERE payment_id = %s"
        " AND kind IN ('coupon', 'coupon_reversal') ORDER BY id",
        (payment_id,),
    )
    if any(r["kind"] == "coupon_reversal" for r in rows):
        return []
    return rows


async def holders(db: Database, template_id: int) -> dict[int, int]:
    """user id → how many coupons of the template they hold (checks and benchmarks)."""
    rows = await db.fetch_all(
        "SELECT user_id, COUNT(*) AS n FROM user_coupons WHERE template_id = %s GROUP BY user_id",
        (template_id,),
    )
    return {r["user_id"]: int(r["n"]) for r in rows}
