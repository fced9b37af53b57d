"""Orders in MySQL: the row ↔ API shape, and the writes that make a change acknowledged.

Both the hub (reads, creation) and the order actors (every later change) use this module, so
there is one definition of what an Order looks like and how an event is recorded.
"""

from __future__ import annotations

import orjson

from adapters.clock import iso, utcnow
from adapters.mysql import Database

TERMINAL = ("completed", "cancelled", "expired")
ACTIVE = ("accepted", "departed", "arrived", "in_progress")  # a provider is on it
LIVE = ("pending", *ACTIVE)


def order_json(row: dict) -> dict:
    images = row["images"]
    return {
        "id": row["id"],
        "orderNo": row["order_no"],
        "status": row["status"],
        "paymentStatus": row["payment_status"],
        "dispatchMode": row["dispatch_mode"],
        "urgency": row["urgency"],
        "serviceId": row["service_id"],
        "providerId": row["provider_id"],
        "customerId": row["customer_id"],
        "address": row["address"],
        "district": row["district"],
        "lat": row["lat"],
        "lng": row["lng"],
        "description": row["description"],
        "contactName": row["contact_name"],
        "contactPhone": row["contact_phone_masked"],
        "images": orjson.loads(images) if isinstance(images, str | bytes) else (images or []),
        "scheduledAt": iso(row["scheduled_at"]),
        "price": {
            "estimated": row["estimated_amount"],
            "quoted": row["quoted_amount"],
            "final": row["final_amount"],
        },
        "cancelReason": row["cancel_reason"],
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
        "seq": row["seq"],
    }


def status_event_json(order_id: int, ev: dict) -> dict:
    """An order_events row as the `order.status` payload (and a timeline item)."""
    detail = ev["detail"]
    if isinstance(detail, str | bytes):
        detail = orjson.loads(detail)
    return {
        "orderId": order_id,
        "seq": ev["seq"],
        "status": ev["status"],
        "at": iso(ev["created_at"]),
        "by": ev["by_role"],
        "detail": {"action": ev["action"], **(detail or {})},
    }


def message_json(order_id: int, m: dict) -> dict:
    """A messages row as the `chat.message` payload."""
    return {
        "orderId": order_id,
        "msgId": m["id"],
        "seq": m["seq"],
        "from": f"{m['sender_role']}:{m['sender_id']}",
        "text": m["text"],
        "at": iso(m["created_at"]),
    }


async def load(db: Database, order_id: int) -> dict | None:
    return await db.fetch_one("SELECT * FROM orders WHERE id = %s", (order_id,))


async def timeline(db: Database, order_id: int) -> list[dict]:
    rows = await db.fetch_all(
        "SELECT * FROM order_events WHERE order_id = %s ORDER BY seq", (order_id,)
    )
    return [status_event_json(order_id, r) for r in rows]


async def messages_after(db: Database, order_id: int, after_seq: int, limit: int) -> list[dict]:
    rows = await db.fetch_all(
        "SELECT * FROM messages WHERE order_id = %s AND seq > %s ORDER BY seq LIMIT %s",
        (order_id, after_seq, limit),
    )
    return [message_json(order_id, r) for r in rows]


async def events_after(db: Database, order_id: int, after_seq: int) -> list[dict]:
    """Every event (status and chat) with seq > after_seq, in seq order, each with its type.

    One statement, so one consistent snapshot: two separate reads could each miss what the
    other saw and leave a hole in the sequence.
    """
    rows = await db.fetch_all(
        "SELECT 'status' AS type, seq, status, action, by_role, detail, created_at,"
        " NULL AS id, NULL AS sender_id, NULL AS sender_role, NULL AS text"
        " FROM order_events WHERE order_id = %s AND seq > %s"
        " UNION ALL SELECT 'chat', seq, NULL, NULL, NULL, NULL, created_at,"
        " id, sender_id, sender_role, text FROM messages WHERE order_id = %s AND seq > %s"
        " ORDER BY seq",
        (order_id, after_seq, order_id, after_seq),
    )
    return [
        {
            "type": r["type"],
            **(
                status_event_json(order_id, r)
                if r["type"] == "status"
                else message_json(order_id, r)
            ),
        }
        for r in rows
    ]


async def record(
    db: Database,
    row: dict,
    changes: dict,
    event: dict | None,
    message: dict | None = None,
    extra: list | None = None,
) -> dict | None:
    """Write a change to an order iff nobody else moved it since `row` was read.

    `row["seq"]` is the version: the UPDATE matches only that seq, so two writers (a stale
    actor after a restart, a second host) cannot both win; the loser gets None and must
    reload. An event or chat message takes the next seq; `extra` statements (counters) commit
    with it. Returns the new row.
    """
    now = utcnow()
    bump = 1 if (event or message) else 0
    new_seq = row["seq"] + bump
    cols = {**changes, "seq": new_seq, "updated_at": now}
    sets = ", ".join(f"{k} = %s" for k in cols)
    async with db.transaction() as cur:
        await cur.execute(
            f"UPDATE orders SET {sets} WHERE id = %s AND seq = %s",
            (*cols.values(), row["id"], row["seq"]),
        )
        if cur.rowcount != 1:
            return None
        if event is not None:
            await cur.execute(
                "INSERT INTO order_events (order_id, seq, status, action, by_role, by_user_id,"
                " detail, cmd_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    row["id"],
                    new_seq,
                    cols.get("status", row["status"]),
                    event["action"],
                    event["by_role"],
                    event.get("by_user_id"),
                    orjson.dumps(event.get("detail") or {}).decode(),
                    event.get("cmd_id"),
                    now,
                ),
            )
            event.update(seq=new_seq, created_at=now, status=cols.get("status", row["status"]))
        if message is not None:
            await cur.execute(
                "INSERT INTO messages (order_id, seq, sender_id, sender_role, text,"
                " client_msg_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    row["id"],
                    new_seq,
                    message["sender_id"],
                    message["sender_role"],
                    message["text"],
                    message["client_msg_id"],
                    now,
                ),
            )
            message.update(id=cur.lastrowid, seq=new_seq, created_at=now)
        for sql, args in extra or ():
            await cur.execute(sql, args)
    return {**row, **cols}
