"""Migrations build the whole schema on an empty database, in utf8mb4, and a second run is a
no-op. Runs against a scratch database of its own (dropped after), not the hub's."""

from __future__ import annotations

import uuid
from urllib.parse import urlparse, urlunparse

import pymysql
import pytest
from conftest import MYSQL_URL
from db import rows

from adapters.migrate import migrate, migration_files
from adapters.mysql import MysqlDsn

TABLES = {
    "schema_migrations",
    "users",
    "areas",
    "services",
    "providers",
    "orders",
    "order_events",
    "messages",
    "payments",
    "reviews",
    "idempotency_keys",
    "audit_log",
}


@pytest.fixture
def scratch_url():
    name = f"orderhub_mig_{uuid.uuid4().hex[:12]}"
    url = urlunparse(urlparse(MYSQL_URL)._replace(path=f"/{name}"))
    dsn = MysqlDsn.parse(url)
    conn = pymysql.connect(**dsn.connect_kwargs(with_db=False), autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (name,))
            assert cur.fetchone() is None, f"{name} exists already"
        yield url
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()


def _query(url: str, sql: str, args=()) -> list[tuple]:
    return rows(sql, args, url, with_db=False)


def test_migrations_build_the_schema_then_a_second_run_is_a_noop(scratch_url):
    db = MysqlDsn.parse(scratch_url).database
    logged: list[str] = []

    applied = migrate(scratch_url, log=logged.append)

    files = [p.name for p in migration_files()]
    assert applied == files and len(logged) == len(files)
    (charset,) = _query(
        scratch_url,
        "SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
        (db,),
    )[0]
    assert charset == "utf8mb4"
    tables = dict(
        _query(
            scratch_url,
            "SELECT TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES"
            " WHERE TABLE_SCHEMA = %s",
            (db,),
        )
    )
    assert TABLES <= set(tables), f"missing tables: {TABLES - set(tables)}"
    not_mb4 = {t: c for t, c in tables.items() if not c.startswith("utf8mb4")}
    assert not not_mb4, f"tables not in utf8mb4: {not_mb4}"
    text_columns = _query(
        scratch_url,
        "SELECT TABLE_NAME, COLUMN_NAME, CHARACTER_SET_NAME FROM information_schema.COLUMNS"
        " WHERE TABLE_SCHEMA = %s AND CHARACTER_SET_NAME IS NOT NULL"
        " AND CHARACTER_SET_NAME <> 'utf8mb4' AND DATA_TYPE <> 'json'",
        (db,),
    )
    assert not text_columns, f"text columns not in utf8mb4: {text_columns}"
    # Four-byte characters (emoji, rare hanzi) round-trip.
    _query(
        scratch_url,
        f"INSERT INTO `{db}`.services (category, name, base_price, duration_min)"
        " VALUES ('test', '𠮷🔧', 1, 1)",
    )
    assert _query(scratch_url, f"SELECT name FROM `{db}`.services")[0][0] == "𠮷🔧"

    recorded = _query(scratch_url, f"SELECT * FROM `{db}`.schema_migrations ORDER BY version")
    assert [r[1] for r in recorded] == files

    assert migrate(scratch_url, log=logged.append) == []
    assert len(logged) == len(files)
    assert _query(scratch_url, f"SELECT * FROM `{db}`.schema_migrations ORDER BY version") == (
        recorded
    )
