"""The scratch MySQL database and Redis db that a test session or a bench owns: dropping,
flushing, and refusing one that someone else is connected to (the machine is shared, and
a flush under somebody's running hub would wreck their run)."""

from __future__ import annotations

import time

import pymysql
import redis as redis_sync

from adapters.mysql import MysqlDsn


def drop_database(mysql_url: str) -> None:
    """DROP the database named in `mysql_url` (if it exists)."""
    dsn = MysqlDsn.parse(mysql_url)
    conn = pymysql.connect(**dsn.connect_kwargs(with_db=False), autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{dsn.database}`")
    finally:
        conn.close()


def flush_redis(redis_url: str) -> None:
    r = redis_sync.from_url(redis_url)
    try:
        r.flushdb()
    finally:
        r.close()


def wait_until_unused(mysql_url: str, redis_url: str, timeout: float = 20) -> None:
    """Until no other client uses the database or the Redis db; raises RuntimeError after
    `timeout` (a previous run's processes may take a moment to let go of theirs)."""
    dsn = MysqlDsn.parse(mysql_url)
    r = redis_sync.from_url(redis_url)
    conn = pymysql.connect(**dsn.connect_kwargs(with_db=False), autocommit=True)
    try:
        deadline = time.time() + timeout
        while (problem := _others_using(conn, dsn.database, r)) is not None:
            if time.time() > deadline:
                raise RuntimeError(f"{problem}: someone else uses it; pick another scratch one")
            time.sleep(1)
    finally:
        conn.close()
        r.close()


def _others_using(conn, database: str, r) -> str | None:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST"
            " WHERE DB = %s AND ID <> CONNECTION_ID()",
            (database,),
        )
        (users,) = cur.fetchone()
    if users:
        return f"database {database} has {users} other connection(s) (--mysql-url)"
    db = str(r.connection_pool.connection_kwargs.get("db", 0))
    me = str(r.client_id())
    others = [c for c in r.client_list() if c.get("db") == db and c.get("id") != me]
    if others:
        return (
            f"Redis db {db} has {len(others)} other client(s), e.g. {others[0].get('addr')}"
            " (--redis-url)"
        )
    return None
