"""Staff alerts kept in MySQL (issue #11; adapters/schema/0010_console_alerts.sql).

An alert is written when it is raised (actors/emit.py `Emitter.alert` for the actors' alerts,
hub/routes/reviews.py `alert_staff` for the hub's), and sent with its `alertId`; staff
acknowledge it on the hub, for every console at once.
"""

from __future__ import annotations

import orjson

from adapters.clock import iso, utcnow
from adapters.mysql import Database

OPEN_LIMIT = 500


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def record(db: Database, kind: str, data: dict) -> int:
    """Write an alert; its id."""
    _, alert_id = await db.execute(
        "INSERT INTO console_alerts (kind, order_id, provider_id, detail) VALUES (%s, %s, %s, %s)",
        (
            kind[:32],
            _int(data.get("orderId")),
            _int(data.get("providerId")),
            orjson.dumps(data, default=str).decode(),
        ),
    )
    return alert_id


def alert_json(row: dict) -> dict:
    """The alert as console.update sends it, with when it was raised and its acknowledgement."""
    detail = row["detail"]
    if isinstance(detail, str | bytes):
        detail = orjson.loads(detail)
    return {
        **(detail or {}),
        "type": "alert",
        "kind": row["kind"],
        "alertId": row["id"],
        "at": iso(row["created_at"]),
        "ackedAt": iso(row["acked_at"]),
        "ackedBy": row["acked_by"],
        "ackNote": row["ack_note"],
    }


async def open_alerts(db: Database, limit: int = OPEN_LIMIT) -> tuple[list[dict], int]:
    """The unacknowledged alerts, newest first (at most `limit`), and how many there are."""
    count = await db.fetch_one("SELECT COUNT(*) AS n FROM console_alerts WHERE acked_at IS NULL")
    rows = await db.fetch_all(
        "SELECT * FROM console_alerts WHERE acked_at IS NULL ORDER BY id DESC LIMIT %s", (limit,)
    )
    return rows, int(count["n"])


async def get(db: Database, alert_id: int) -> dict | None:
    return await db.fetch_one("SELECT * FROM console_alerts WHERE id = %s", (alert_id,))


async def ack(db: Database, alert_ids: list[int], user_id: int, note: str) -> list[int]:
    """Acknowledge those still open; the ids this call acknowledged (a second call, or a
    colleague's at the same time, finds them done: the UPDATE's condition decides)."""
    if not alert_ids:
        return []
    marks = ", ".join(["%s"] * len(alert_ids))
    async with db.transaction() as cur:
        await cur.execute(
            f"SELECT id FROM console_alerts WHERE id IN ({marks}) AND acked_at IS NULL FOR UPDATE",
            alert_ids,
        )
        ids = [r["id"] for r in await cur.fetchall()]
        if ids:
            marks = ", ".join(["%s"] * len(ids))
            await cur.execute(
                f"UPDATE console_alerts SET acked_at = %s, acked_by = %s, ack_note = %s"
                f" WHERE id IN ({marks})",
                (utcnow(), user_id, note or None, *ids),
            )
    return ids


async def open_ids(db: Database) -> list[int]:
    rows = await db.fetch_all(
        "SELECT id FROM console_alerts WHERE acked_at IS NULL ORDER BY id LIMIT %s",
        (OPEN_LIMIT * 10,),
    )
    return [r["id"] for r in rows]


async def raised_for(db: Database, kind: str, order_id: int) -> bool:
    """Whether an alert of this kind was already raised for the order (acknowledged or not):
    a timer armed again after a restart must not raise it twice."""
    row = await db.fetch_one(
        "SELECT 1 AS x FROM console_alerts WHERE order_id = %s AND kind = %s LIMIT 1",
        (order_id, kind),
    )
    return row is not None
