"""Complaints in MySQL: after-sales work orders about an order, and their history (every
status they took, with who moved them, when and the note)."""

from __future__ import annotations

import orjson

from adapters.clock import utcnow
from adapters.mysql import Database


async def create(db: Database, order: dict, by_role: str, by_user_id: int, complaint: dict) -> int:
    """A complaint about an `order` row, `open`, with its first history entry, in one
    transaction. `complaint` holds its kind, text and images; the order's customer and
    provider of the moment are its parties."""
    now = utcnow()
    async with db.transaction() as cur:
        await cur.execute(
            "INSERT INTO complaints (order_id, customer_id, provider_id, raised_by,"
            " raised_by_role, kind, text, images, status, created_at, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'open', %s, %s)",
            (
                order["id"],
                order["customer_id"],
                order["provider_id"],
                by_user_id,
                by_role,
                complaint["kind"],
                complaint["text"],
                orjson.dumps(complaint["images"]).decode(),
                now,
                now,
            ),
        )
        complaint_id = cur.lastrowid
        await _insert_event(cur, complaint_id, None, "open", by_role, by_user_id, "", now)
    return complaint_id


async def move(
    db: Database,
    complaint_id: int,
    from_status: str,
    to_status: str,
    by_role: str,
    by_user_id: int,
    note: str,
) -> bool:
    """Move a complaint on iff it is still in `from_status`; False when someone moved it first."""
    now = utcnow()
    async with db.transaction() as cur:
        await cur.execute(
            "UPDATE complaints SET status = %s, updated_at = %s WHERE id = %s AND status = %s",
            (to_status, now, complaint_id, from_status),
        )
        if cur.rowcount != 1:
            return False
        await _insert_event(
            cur, complaint_id, from_status, to_status, by_role, by_user_id, note, now
        )
    return True


async def _insert_event(cur, complaint_id, from_status, status, by_role, by_user_id, note, at):
    await cur.execute(
        "INSERT INTO complaint_events (complaint_id, from_status, status, by_role, by_user_id,"
        " note, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (complaint_id, from_status, status, by_role, by_user_id, note, at),
    )


async def load(db: Database, complaint_id: int) -> dict | None:
    return await db.fetch_one("SELECT * FROM complaints WHERE id = %s", (complaint_id,))


async def for_order(db: Database, order_id: int) -> list[dict]:
    """The order's complaints, oldest first."""
    return await db.fetch_all(
        "SELECT * FROM complaints WHERE order_id = %s ORDER BY id", (order_id,)
    )


async def page(db: Database, status: str | None, limit: int, offset: int) -> tuple[list[dict], int]:
    """Complaints newest first, all or those in one status; and how many there are."""
    matches = "(%s IS NULL OR status = %s)"
    rows = await db.fetch_all(
        f"SELECT * FROM complaints WHERE {matches} ORDER BY id DESC LIMIT %s OFFSET %s",
        (status, status, limit, offset),
    )
    counted = await db.fetch_one(
        f"SELECT COUNT(*) AS n FROM complaints WHERE {matches}", (status, status)
    )
    return rows, counted["n"]


async def histories(db: Database, complaint_ids: list[int]) -> dict[int, list[dict]]:
    """Each complaint's history entries, in the order they happened."""
    if not complaint_ids:
        return {}
    rows = await db.fetch_all(
        "SELECT * FROM complaint_events WHERE complaint_id IN"
        f" ({', '.join(['%s'] * len(complaint_ids))}) ORDER BY id",
        complaint_ids,
    )
    out: dict[int, list[dict]] = {i: [] for i in complaint_ids}
    for row in rows:
        out[row["complaint_id"]].append(row)
    return out
