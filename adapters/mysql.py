"""MySQL access: a connection pool from MYSQL_URL and a transaction helper."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

import aiomysql
import pymysql

DUPLICATE_KEY = 1062


@dataclass(frozen=True)
class MysqlDsn:
    host: str
    port: int
    user: str
    password: str
    database: str

    @classmethod
    def parse(cls, url: str) -> MysqlDsn:
        u = urlparse(url)
        if u.scheme not in ("mysql", "mariadb"):
            raise ValueError(f"MYSQL_URL must start with mysql://, got {url!r}")
        database = u.path.lstrip("/")
        if not database.replace("_", "").isalnum():
            raise ValueError(f"MYSQL_URL needs a plain database name, got {database!r}")
        return cls(
            host=u.hostname or "127.0.0.1",
            port=u.port or 3306,
            user=unquote(u.username or "root"),
            password=unquote(u.password or ""),
            database=database,
        )

    def connect_kwargs(self, with_db: bool = True, db_key: str = "db") -> dict:
        """Connection arguments; PyMySQL names the database `database`, aiomysql `db`."""
        kw = dict(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            charset="utf8mb4",
        )
        if with_db:
            kw[db_key] = self.database
        return kw


def is_duplicate(exc: BaseException) -> bool:
    return isinstance(exc, pymysql.err.IntegrityError) and exc.args[0] == DUPLICATE_KEY


class Database:
    """A small pool wrapper: `fetch_one`, `fetch_all`, `execute`, and `transaction()`."""

    def __init__(self, pool: aiomysql.Pool):
        self.pool = pool

    @classmethod
    async def connect(cls, url: str, minsize: int = 1, maxsize: int = 10) -> Database:
        dsn = MysqlDsn.parse(url)
        pool = await aiomysql.create_pool(
            minsize=minsize,
            maxsize=maxsize,
            autocommit=True,
            cursorclass=aiomysql.DictCursor,
            init_command="SET time_zone = '+00:00'",
            pool_recycle=3600,
            connect_timeout=5,
            **dsn.connect_kwargs(),
        )
        return cls(pool)

    async def close(self) -> None:
        self.pool.close()
        await self.pool.wait_closed()

    async def ping(self) -> None:
        """Raises unless MySQL answers a trivial query (readiness)."""
        await self.fetch_one("SELECT 1 AS one")

    async def fetch_one(self, sql: str, args=None) -> dict | None:
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(sql, args)
            return await cur.fetchone()

    async def fetch_all(self, sql: str, args=None) -> list[dict]:
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(sql, args)
            return list(await cur.fetchall())

    async def execute(self, sql: str, args=None) -> tuple[int, int]:
        """Run one statement; returns (rowcount, lastrowid)."""
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(sql, args)
            return cur.rowcount, cur.lastrowid

    async def executemany(self, sql: str, rows) -> int:
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.executemany(sql, rows)
            return cur.rowcount

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiomysql.DictCursor]:
        """A cursor inside BEGIN … COMMIT; any exception rolls back."""
        async with self.pool.acquire() as conn:
            await conn.begin()
            try:
                async with conn.cursor() as cur:
                    yield cur
                await conn.commit()
            except BaseException:
                await conn.rollback()
                raise
