"""Reading the test database straight, for checks the API does not show (ledger sums, how
many events of a kind were written)."""

from __future__ import annotations

import pymysql
from conftest import MYSQL_URL

from adapters.mysql import MysqlDsn


def rows(sql: str, args: tuple = ()) -> list[tuple]:
    conn = pymysql.connect(**MysqlDsn.parse(MYSQL_URL).connect_kwargs(db_key="database"))
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())
    finally:
        conn.close()
