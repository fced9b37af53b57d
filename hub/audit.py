"""The audit log: who did what to which record, for staff actions and sensitive changes."""

from __future__ import annotations

from adapters import audit as audit_log
from hub.ratelimit import client_ip


async def audit(
    call, action: str, target_type: str, target_id: int | None, detail: dict | None = None
) -> None:
    me = call.user
    await audit_log.record(
        call.hub.db,
        actor_id=me.user_id if me else None,
        actor_role=me.role if me else "public",
        action=action,
        target_type=target_type,
        target_id=target_id,
        detail=detail or {},
        ip=client_ip(call.request.scope),
    )
