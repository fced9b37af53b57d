"""Staff and SMS (MySQL): the devices a staff account passed an SMS code on, and who asked for
alerts by SMS."""

from __future__ import annotations

from adapters.mysql import Database


async def known_device(db: Database, user_id: int, device_hash: bytes) -> bool:
    n, _ = await db.execute(
        "UPDATE staff_devices SET last_seen_at = CURRENT_TIMESTAMP(3)"
        " WHERE user_id = %s AND device_hash = %s",
        (user_id, device_hash),
    )
    return n == 1


async def remember_device(db: Database, user_id: int, device_hash: bytes) -> None:
    await db.execute(
        "INSERT IGNORE INTO staff_devices (user_id, device_hash) VALUES (%s, %s)",
        (user_id, device_hash),
    )


async def alerts_enabled(db: Database, user_id: int) -> bool:
    row = await db.fetch_one("SELECT enabled FROM staff_sms_alerts WHERE user_id = %s", (user_id,))
    return bool(row and row["enabled"])


async def set_alerts(db: Database, user_id: int, enabled: bool) -> None:
    await db.execute(
        "INSERT INTO staff_sms_alerts (user_id, enabled) VALUES (%s, %s)"
        " ON DUPLICATE KEY UPDATE enabled = VALUES(enabled)",
        (user_id, int(enabled)),
    )


async def alert_recipients(db: Database) -> list[dict]:
    """Active staff who asked for SMS alerts and have a phone: {id, phone_enc}."""
    return await db.fetch_all(
        "SELECT u.id, u.phone_enc FROM staff_sms_alerts a JOIN users u ON u.id = a.user_id"
        " WHERE a.enabled = 1 AND u.status = 'active' AND u.phone_enc IS NOT NULL"
        " AND u.role IN ('dispatcher', 'admin')"
    )
