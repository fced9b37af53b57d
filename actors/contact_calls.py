"""A masked call's record on its order's timeline (action `call`), for staff.

Runs inside the order's mailbox (EntityHost.order_call_record), so the event takes the order's
next seq like any other; the record's call id is the event's command id, so a record pushed
twice is written once. Ended orders take records too (a call in the grace period).
"""

from __future__ import annotations

from actors.results import fail, ok
from adapters.orders import Unchanged, order_json, status_event_json


async def record_call(order, detail: dict) -> dict:
    """`detail`: {callId, from: customer|provider, calledAt, startedAt, endedAt, durationS,
    answered} — no phone numbers."""
    event = {
        "action": "call",
        "by_role": "system",
        "by_user_id": None,
        "detail": detail,
        "cmd_id": f"call:{detail['callId']}"[:64],
    }
    try:
        written = await order._write({}, event, None)
    except Unchanged:  # this record was written before
        return ok(unchanged=True)
    if not written:
        return fail(409, "conflict", "the order changed meanwhile; push again")
    payload = status_event_json(order.id, event)
    await order.env.emitter.emit(
        "console.update",
        {"type": "order", "order": order_json(order.row), "event": payload},
        "staff",
    )
    return ok(seq=event["seq"])
