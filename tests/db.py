"""Reading the test database straight, for checks the API does not show (ledger sums, how
many events of a kind were written)."""

from __future__ import annotations

import pymysql
from conftest import MYSQL_URL

from adapters.mysql import MysqlDsn


def rows(sql: str, args: tuple = (), url: str = MYSQL_URL, with_db: bool = True) -> list[tuple]:
    """The rows of one statement on `url`'s server (its database, unless `with_db` is off)."""
    dsn = MysqlDsn.parse(url)
    conn = pymysql.connect(
        **dsn.connect_kwargs(with_db=with_db, db_key="database"), autocommit=True
    )
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())
    finally:
        conn.close()
