"""Numbered SQL migrations (adapters/schema/NNNN_name.sql), applied once each, in order."""

from __future__ import annotations

import re
from pathlib import Path

import pymysql

from adapters.mysql import MysqlDsn

SCHEMA_DIR = Path(__file__).with_name("schema")
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migration_files() -> list[Path]:
    files = sorted(p for p in SCHEMA_DIR.iterdir() if _NAME.match(p.name))
    numbers = [int(_NAME.match(p.name).group(1)) for p in files]
    if numbers != list(range(1, len(files) + 1)):
        raise RuntimeError(f"migrations must be numbered 0001.. without gaps: {numbers}")
    return files


def _statements(sql: str) -> list[str]:
    # Our migrations hold plain DDL/DML: ';' at a line end always ends a statement.
    lines = [ln for ln in sql.splitlines() if not ln.strip().startswith("--")]
    return [s.strip() for s in re.split(r";\s*$", "\n".join(lines), flags=re.M) if s.strip()]


def migrate(url: str, log=print) -> list[str]:
    """Create the database if needed and apply pending migrations; returns what was applied.

    Synchronous on purpose: it runs before the event loop serves anything. A lock keeps two
    starting hubs from applying the same file twice.
    """
    dsn = MysqlDsn.parse(url)
    conn = pymysql.connect(**dsn.connect_kwargs(with_db=False), autocommit=True)
    applied: list[str] = []
    try:
        with conn.cursor() as cur:
            cur.execute(
                f"CREATE DATABASE IF NOT EXISTS `{dsn.database}` "
                "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
            cur.execute(f"USE `{dsn.database}`")
            cur.execute("SELECT GET_LOCK('orderhub_migrate', 60)")
            try:
                cur.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version INT PRIMARY KEY, name VARCHAR(128) NOT NULL,"
                    " applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))"
                    " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
                )
                cur.execute("SELECT version FROM schema_migrations")
                done = {row[0] for row in cur.fetchall()}
                for path in migration_files():
                    version = int(path.name[:4])
                    if version in done:
                        continue
                    # MySQL commits DDL implicitly, so a file is applied statement by
                    # statement and recorded at the end; keep files small and re-runnable.
                    for stmt in _statements(path.read_text(encoding="utf-8")):
                        cur.execute(stmt)
                    cur.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                        (version, path.name),
                    )
                    applied.append(path.name)
                    log(f"[orderhub] applied migration {path.name}")
            finally:
                cur.execute("SELECT RELEASE_LOCK('orderhub_migrate')")
    finally:
        conn.close()
    return applied
