"""The audit log in MySQL: who did what to which record (staff actions, sensitive changes)."""

from __future__ import annotations

import orjson

from adapters.mysql import Database


async def record(
    db: Database,
    *,
    actor_id: int | None,
    actor_role: str,
    action: str,
    target_type: str,
    target_id: int | None,
    detail: dict,
    ip: str,
) -> None:
    await db.execute(
        "INSERT INTO audit_log (actor_id, actor_role, action, target_type, target_id, detail, ip)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (actor_id, actor_role, action, target_type, target_id, orjson.dumps(detail).decode(), ip),
    )
