"""Users in MySQL: WeChat users (customers, providers), staff accounts with their password
lockout, and bound phone numbers.

The hub's auth routes use the async functions; `username_taken` and `add_staff` are
synchronous for `python -m hub migrate|seed`, which run before any event loop.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pymysql

from adapters.mysql import Database, MysqlDsn, is_duplicate


async def user(db: Database, user_id: int) -> dict | None:
    return await db.fetch_one("SELECT * FROM users WHERE id = %s", (user_id,))


async def user_by_openid(db: Database, openid: str) -> dict | None:
    return await db.fetch_one("SELECT * FROM users WHERE openid = %s", (openid,))


async def wechat_user(
    db: Database, openid: str, unionid: str | None, role: str, nickname: str
) -> tuple[dict, bool]:
    """The user of a WeChat openid, created with `role` and `nickname` on its first login;
    True when this call created it."""
    found = await user_by_openid(db, openid)
    if found is not None:
        return found, False
    is_new = True
    try:
        await db.execute(
            "INSERT INTO users (role, openid, unionid, nickname) VALUES (%s, %s, %s, %s)",
            (role, openid, unionid, nickname),
        )
    except Exception as exc:
        if not is_duplicate(exc):  # a concurrent first login of the same user won
            raise
        is_new = False
    return await user_by_openid(db, openid), is_new


async def record_wechat_login(db: Database, user_id: int) -> None:
    await db.execute("UPDATE users SET last_login_at = UTC_TIMESTAMP(3) WHERE id = %s", (user_id,))


async def staff_by_username(db: Database, username: str) -> dict | None:
    """A console account (dispatcher or admin), with `locked`: true while locked out."""
    return await db.fetch_one(
        "SELECT *, locked_until > UTC_TIMESTAMP(3) AS locked FROM users"
        " WHERE username = %s AND role IN ('dispatcher', 'admin')",
        (username,),
    )


async def record_failed_login(db: Database, user_id: int, lock_after: int, lock_hours: int) -> None:
    """Count a wrong password; the `lock_after`th in a row locks the account for `lock_hours`
    and starts the count again."""
    # locked_until first: MySQL assigns left to right, so it sees the old count.
    await db.execute(
        "UPDATE users SET locked_until = IF(failed_logins + 1 >= %s,"
        " UTC_TIMESTAMP(3) + INTERVAL %s HOUR, locked_until),"
        " failed_logins = IF(failed_logins + 1 >= %s, 0, failed_logins + 1)"
        " WHERE id = %s",
        (lock_after, lock_hours, lock_after, user_id),
    )


async def record_staff_login(db: Database, user_id: int) -> None:
    """A right password: forget the failures and any lock."""
    await db.execute(
        "UPDATE users SET failed_logins = 0, locked_until = NULL,"
        " last_login_at = UTC_TIMESTAMP(3) WHERE id = %s",
        (user_id,),
    )


async def bind_phone(db: Database, user_id: int, enc: bytes, lookup: bytes, masked: str) -> None:
    """Store a phone number as the vault sealed it: encrypted, its lookup HMAC, masked."""
    await db.execute(
        "UPDATE users SET phone_enc = %s, phone_hash = %s, phone_masked = %s WHERE id = %s",
        (enc, lookup, masked, user_id),
    )


def username_taken(mysql_url: str, username: str) -> bool:
    with _cursor(mysql_url) as cur:
        cur.execute("SELECT id FROM users WHERE username = %s", (username,))
        return cur.fetchone() is not None


def add_staff(mysql_url: str, username: str, password_hash: str, role: str) -> None:
    """A console account; its nickname is its username."""
    with _cursor(mysql_url) as cur:
        cur.execute(
            "INSERT INTO users (role, username, password_hash, nickname) VALUES (%s, %s, %s, %s)",
            (role, username, password_hash, username),
        )


@contextlib.contextmanager
def _cursor(mysql_url: str) -> Iterator[pymysql.cursors.Cursor]:
    dsn = MysqlDsn.parse(mysql_url)
    conn = pymysql.connect(**dsn.connect_kwargs(db_key="database"), autocommit=True)
    with contextlib.closing(conn), conn.cursor() as cur:
        yield cur
