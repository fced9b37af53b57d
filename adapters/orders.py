"""Orders in MySQL: the row ↔ API shape, creation, reads, and the writes that make a change
acknowledged.

Both the hub (reads, creation) and the order actors (every later change) use this module, so
there is one definition of what an Order looks like and how an event is recorded. Which
statuses exist and what they mean is the state machine's business (actors/transitions.py):
queries that need a set of statuses take it as an argument.
"""

from __future__ import annotations

from datetime import timedelta

import orjson

from adapters.clock import iso, utcnow
from adapters.mysql import Database, is_duplicate


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


Statement = tuple[str, tuple]  # a statement another aggregate adds to an order's transaction


class _Moved(Exception):
    """Someone else changed the order since it was read (its seq moved)."""


class Unchanged(Exception):
    """The change was already made (its command id is recorded) or its guard no longer
    holds: nothing was written."""


class OrderStore:
    """Every statement about orders, order_events, messages and order idempotency keys."""

    def __init__(self, db: Database):
        self.db = db

    async def load(self, order_id: int) -> dict | None:
        return await self.db.fetch_one("SELECT * FROM orders WHERE id = %s", (order_id,))

    async def create(self, order: dict, event: dict, idem_key: str | None) -> int:
        """The order row, its first event (seq 1) and the customer's idempotency key, in one
        transaction: a retry with the same key hits the key's primary key and creates nothing
        (the caller catches the duplicate and answers with `id_for_key`)."""
        now = order["created_at"]
        cols = {**order, "seq": 1, "updated_at": now}
        async with self.db.transaction() as cur:
            await cur.execute(
                f"INSERT INTO orders ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})",
                tuple(cols.values()),
            )
            order_id = cur.lastrowid
            await _insert_event(cur, order_id, 1, "pending", event, now)
            if idem_key:
                await cur.execute(
                    "INSERT INTO idempotency_keys (user_id, scope, idem_key, resource_id)"
                    " VALUES (%s, 'order', %s, %s)",
                    (order["customer_id"], idem_key, order_id),
                )
        return order_id

    async def id_for_key(self, user_id: int, key: str) -> int | None:
        found = await self.db.fetch_one(
            "SELECT resource_id FROM idempotency_keys WHERE user_id = %s AND scope = 'order'"
            " AND idem_key = %s",
            (user_id, key),
        )
        return found["resource_id"] if found else None

    async def page(
        self,
        *,
        customer_id: int | None = None,
        provider_id: int | None = None,
        status: str | None = None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict], int]:
        """Newest first, filtered by whichever of customer, provider and status are given."""
        where, args = [], []
        for column, value in (
            ("customer_id", customer_id),
            ("provider_id", provider_id),
            ("status", status),
        ):
            if value is not None:
                where.append(f"{column} = %s")
                args.append(value)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        total = await self.db.fetch_one(f"SELECT COUNT(*) AS n FROM orders {clause}", args)
        rows = await self.db.fetch_all(
            f"SELECT * FROM orders {clause} ORDER BY id DESC LIMIT %s OFFSET %s",
            [*args, limit, offset],
        )
        return rows, total["n"]

    async def ids_in(self, statuses: tuple[str, ...]) -> list[int]:
        rows = await self.db.fetch_all(
            f"SELECT id FROM orders WHERE status IN ({', '.join(['%s'] * len(statuses))})",
            statuses,
        )
        return [r["id"] for r in rows]

    async def ended_since(self, seconds: float, live: tuple[str, ...]) -> list[int]:
        """Orders that changed in the last `seconds` and are no longer in `live`, the most
        recently changed last."""
        rows = await self.db.fetch_all(
            "SELECT id, status FROM orders WHERE updated_at >= %s ORDER BY updated_at",
            (utcnow() - timedelta(seconds=seconds),),
        )
        return [r["id"] for r in rows if r["status"] not in live]

    async def timeline(self, order_id: int) -> list[dict]:
        rows = await self.db.fetch_all(
            "SELECT * FROM order_events WHERE order_id = %s ORDER BY seq", (order_id,)
        )
        return [status_event_json(order_id, r) for r in rows]

    async def messages_after(self, order_id: int, after_seq: int, limit: int) -> list[dict]:
        rows = await self.db.fetch_all(
            "SELECT * FROM messages WHERE order_id = %s AND seq > %s ORDER BY seq LIMIT %s",
            (order_id, after_seq, limit),
        )
        return [message_json(order_id, r) for r in rows]

    async def message_by_client_id(
        self, order_id: int, sender_id: int, client_msg_id: str
    ) -> dict | None:
        return await self.db.fetch_one(
            "SELECT id, seq FROM messages WHERE order_id = %s AND sender_id = %s"
            " AND client_msg_id = %s",
            (order_id, sender_id, client_msg_id),
        )

    async def events_after(self, order_id: int, after_seq: int) -> list[dict]:
        """Every event (status and chat) with seq > after_seq, in seq order, each with its type.

        One statement, so one consistent snapshot: two separate reads could each miss what the
        other saw and leave a hole in the sequence.
        """
        rows = await self.db.fetch_all(
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
        self,
        row: dict,
        changes: dict,
        event: dict | None,
        message: dict | None = None,
        extra: tuple[Statement, ...] = (),
        guard: Statement | None = None,
    ) -> dict | None:
        """Write a change to an order iff nobody else moved it since `row` was read.

        `row["seq"]` is the version: the UPDATE matches only that seq, so two writers (a stale
        actor after a restart, a second host) cannot both win; the loser gets None and must
        reload. An event or chat message takes the next seq; `extra` statements (another
        aggregate's counters) commit with it. `guard`, another aggregate's conditional update,
        must change exactly one row, and an event's command id must be new, or nothing is
        written and Unchanged is raised. Returns the new row.
        """
        now = utcnow()
        new_seq = row["seq"] + (1 if (event or message) else 0)
        cols = {**changes, "seq": new_seq, "updated_at": now}
        status = cols.get("status", row["status"])
        try:
            await self._write(row, cols, status, now, event, message, extra, guard)
        except _Moved:
            return None
        return {**row, **cols}

    async def _write(self, row, cols, status, now, event, message, extra, guard) -> None:
        new_seq = cols["seq"]
        sets = ", ".join(f"{k} = %s" for k in cols)
        async with self.db.transaction() as cur:  # any exception rolls the whole change back
            if guard is not None:
                await cur.execute(*guard)
                if cur.rowcount != 1:
                    raise Unchanged("the guard matched nothing")
            await cur.execute(
                f"UPDATE orders SET {sets} WHERE id = %s AND seq = %s",
                (*cols.values(), row["id"], row["seq"]),
            )
            if cur.rowcount != 1:
                raise _Moved
            if event is not None:
                try:
                    await _insert_event(cur, row["id"], new_seq, status, event, now)
                except Exception as exc:
                    if is_duplicate(exc) and event.get("cmd_id"):
                        raise Unchanged(f"command {event['cmd_id']} was applied") from exc
                    raise
                event.update(seq=new_seq, created_at=now, status=status)
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
            for sql, args in extra:
                await cur.execute(sql, args)


async def _insert_event(cur, order_id: int, seq: int, status: str, event: dict, at) -> None:
    """The one place an order_events row is written."""
    await cur.execute(
        "INSERT INTO order_events (order_id, seq, status, action, by_role, by_user_id,"
        " detail, cmd_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            order_id,
            seq,
            status,
            event["action"],
            event["by_role"],
            event.get("by_user_id"),
            orjson.dumps(event.get("detail") or {}).decode(),
            event.get("cmd_id"),
            at,
        ),
    )
