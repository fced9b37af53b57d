"""Staff accounts: the first admin (CONTRACT §1) and the demo dispatcher."""

from __future__ import annotations

import pymysql

from adapters.mysql import MysqlDsn
from hub.auth import hash_password


def ensure_staff(mysql_url: str, username: str, password: str, role: str) -> bool:
    """Create the account if it does not exist; True when it was created."""
    dsn = MysqlDsn.parse(mysql_url)
    conn = pymysql.connect(**dsn.connect_kwargs(db_key="database"), autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM users WHERE username = %s", (username,))
            if cur.fetchone():
                return False
            cur.execute(
                "INSERT INTO users (role, username, password_hash, nickname)"
                " VALUES (%s, %s, %s, %s)",
                (role, username, hash_password(password), username),
            )
            return True
    finally:
        conn.close()
