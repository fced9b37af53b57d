"""The audit log: who did what to which record, for staff actions and sensitive changes."""

from __future__ import annotations

import orjson

from hub.ratelimit import client_ip


async def audit(
    call, action: str, target_type: str, target_id: int | None, detail: dict | None = None
) -> None:
    me = call.user
    await call.hub.db.execute(
        "INSERT INTO audit_log (actor_id, actor_role, action, target_type, target_id, detail, ip)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (
            me.user_id if me else None,
            me.role if me else "public",
            action,
            target_type,
            target_id,
            orjson.dumps(detail or {}).decode(),
            client_ip(call.request.scope),
        ),
    )
