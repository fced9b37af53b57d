"""Daily backups of the MySQL database: a consistent, compressed dump, kept 30 days, and the
restore that brings one back (docs/operations.md).

    python -m adapters.backup dump                  # one dump now, into $ORDERHUB_BACKUP_DIR
    python -m adapters.backup restore FILE [--into MYSQL_URL]
    python -m adapters.backup verify FILE --into MYSQL_URL   # restore + compare every table
    python -m adapters.backup prune                 # drop dumps older than the retention
    python -m adapters.backup schedule              # forever: dump + prune daily at the hour

`schedule` is a process of the Procfile, so `make run` backs up the demo database daily.
`mariadb-dump --single-transaction` reads one InnoDB snapshot without locking the hub out.
The password goes to the client tools through MYSQL_PWD, never on a command line (which
`ps` and logs would show).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gzip
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pymysql

from adapters import logs
from adapters.mysql import MysqlDsn

log = logging.getLogger("orderhub.backup")

SUFFIX = ".sql.gz"
STAMP = "%Y%m%dT%H%M%SZ"


def _tool(*names: str) -> str:
    for name in names:
        if path := shutil.which(name):
            return path
    raise RuntimeError(f"none of {names} is installed (apt-get install mariadb-client)")


def _client_args(dsn: MysqlDsn) -> tuple[list[str], dict]:
    args = [f"--host={dsn.host}", f"--port={dsn.port}", f"--user={dsn.user}"]
    env = {**os.environ, "MYSQL_PWD": dsn.password} if dsn.password else dict(os.environ)
    return args, env


def backup_dir() -> Path:
    """$ORDERHUB_BACKUP_DIR, else backups/ in the state directory."""
    if raw := os.environ.get("ORDERHUB_BACKUP_DIR"):
        return Path(raw).resolve()
    return Path(os.environ.get("ORDERHUB_STATE_DIR", "var")).resolve() / "backups"


def dump(mysql_url: str, directory: Path, now: dt.datetime | None = None) -> Path:
    """One compressed dump of the whole database (schema, data, triggers, routines)."""
    dsn = MysqlDsn.parse(mysql_url)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = (now or dt.datetime.now(dt.UTC)).strftime(STAMP)
    final = directory / f"{dsn.database}-{stamp}{SUFFIX}"
    partial = final.with_name(final.name + ".part")  # never mistaken for a finished dump
    args, env = _client_args(dsn)
    cmd = [_tool("mariadb-dump", "mysqldump"), *args, "--single-transaction", "--quick"]
    cmd += ["--routines", "--triggers", "--events", "--hex-blob", "--default-character-set=utf8mb4"]
    cmd.append(dsn.database)
    partial.touch(mode=0o600)  # user data (hashes, encrypted phones): the owner's only
    with gzip.open(partial, "wb", compresslevel=6) as out:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        assert proc.stdout is not None
        shutil.copyfileobj(proc.stdout, out, 1 << 20)
        _, err = proc.communicate()
    if proc.returncode != 0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"dump failed ({proc.returncode}): {err.decode(errors='replace')}")
    partial.rename(final)
    log.info("backup written: %s (%d bytes)", final, final.stat().st_size)
    return final


def restore(file: Path, mysql_url: str) -> None:
    """Load a dump into MYSQL_URL's database (created if missing; its tables replaced)."""
    dsn = MysqlDsn.parse(mysql_url)
    conn = pymysql.connect(**dsn.connect_kwargs(with_db=False), autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(
                f"CREATE DATABASE IF NOT EXISTS `{dsn.database}`"
                " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
    finally:
        conn.close()
    args, env = _client_args(dsn)
    cmd = [_tool("mariadb", "mysql"), *args, "--default-character-set=utf8mb4", dsn.database]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdin is not None
    with gzip.open(file, "rb") as src:
        shutil.copyfileobj(src, proc.stdin, 1 << 20)
    proc.stdin.close()
    err = proc.stderr.read() if proc.stderr else b""
    if proc.wait() != 0:
        raise RuntimeError(f"restore failed ({proc.returncode}): {err.decode(errors='replace')}")
    log.info("restored %s into %s", file, dsn.database)


@contextlib.contextmanager
def _database(mysql_url: str) -> Iterator[tuple[pymysql.Connection, list[str]]]:
    """A connection to the URL's database and its base tables by name (views left out)."""
    dsn = MysqlDsn.parse(mysql_url)
    conn = pymysql.connect(**dsn.connect_kwargs(with_db=True, db_key="database"))
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT TABLE_NAME FROM information_schema.TABLES"
                " WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
                (dsn.database,),
            )
            tables = [row[0] for row in cur.fetchall()]
        yield conn, tables
    finally:
        conn.close()


@contextlib.contextmanager
def frozen(mysql_url: str) -> Iterator[None]:
    """Hold a READ lock on every table of the database (writers wait, readers read): a
    running hub's database keeps still while a dump and its fingerprint are taken."""
    with _database(mysql_url) as (conn, tables):
        with conn.cursor() as cur:
            cur.execute("LOCK TABLES " + ", ".join(f"`{t}` READ" for t in tables))
        yield
        with conn.cursor() as cur:
            cur.execute("UNLOCK TABLES")


def fingerprint(mysql_url: str) -> dict[str, tuple[int, int]]:
    """Every base table → (row count, CHECKSUM TABLE): two databases with the same
    fingerprint hold the same rows."""
    with _database(mysql_url) as (conn, tables), conn.cursor() as cur:
        out = {}
        for table in tables:
            cur.execute(f"SELECT COUNT(*) FROM `{table}`")
            (count,) = cur.fetchone()
            cur.execute(f"CHECKSUM TABLE `{table}` EXTENDED")
            (_, checksum) = cur.fetchone()
            out[table] = (int(count), int(checksum or 0))
        return out


def verify(file: Path, source_url: str, scratch_url: str) -> list[str]:
    """Restore `file` into the scratch database and compare it table by table with the
    source; returns the differences (empty: the backup is good). The source must not have
    changed since the dump (compare right after dumping, or against a quiet database)."""
    if MysqlDsn.parse(scratch_url).database == MysqlDsn.parse(source_url).database:
        raise ValueError("verify restores into a scratch database, not the source")
    restore(file, scratch_url)
    want, got = fingerprint(source_url), fingerprint(scratch_url)
    diffs = [f"{t}: missing in the restore" for t in want if t not in got]
    diffs += [f"{t}: not in the source" for t in got if t not in want]
    diffs += [f"{t}: {want[t]} != {got[t]}" for t in want if t in got and want[t] != got[t]]
    return diffs


def prune(directory: Path, keep_days: float, now: dt.datetime | None = None) -> list[Path]:
    """Delete dumps whose timestamp is older than `keep_days`; returns what went."""
    now = now or dt.datetime.now(dt.UTC)
    gone = []
    for file in sorted(directory.glob(f"*{SUFFIX}")):
        try:
            stamp = dt.datetime.strptime(file.name[-len(SUFFIX) - 16 : -len(SUFFIX)], STAMP)
        except ValueError:
            continue  # not one of ours
        if now - stamp.replace(tzinfo=dt.UTC) > dt.timedelta(days=keep_days):
            file.unlink()
            gone.append(file)
            log.info("backup pruned: %s", file)
    return gone


def next_run(now: dt.datetime, hour: int) -> dt.datetime:
    """The next time it is `hour`:00 UTC."""
    at = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return at if at > now else at + dt.timedelta(days=1)


def schedule(mysql_url: str, directory: Path, hour: int, keep_days: float) -> None:
    """Forever: sleep until the hour, dump, prune. A failed dump is logged and retried the
    next day (the process stays up; /metrics-free on purpose: the file dates tell)."""
    while True:
        at = next_run(dt.datetime.now(dt.UTC), hour)
        log.info("next backup at %s", at.isoformat())
        time.sleep(max(0.0, (at - dt.datetime.now(dt.UTC)).total_seconds()))
        try:
            dump(mysql_url, directory)
        except Exception:
            log.exception("the daily backup failed")
        prune(directory, keep_days)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adapters.backup", description=__doc__)
    parser.add_argument("command", choices=["dump", "restore", "verify", "prune", "schedule"])
    parser.add_argument("file", nargs="?", type=Path, help="the dump (restore, verify)")
    parser.add_argument("--into", help="MYSQL_URL to restore into (default: MYSQL_URL)")
    parser.add_argument("--dir", type=Path, default=None, help="default $ORDERHUB_BACKUP_DIR")
    args = parser.parse_args(argv)
    logs.setup("backup")
    url = os.environ.get("MYSQL_URL", "mysql://root@127.0.0.1:3306/orderhub")
    directory = args.dir or backup_dir()
    hour = int(os.environ.get("ORDERHUB_BACKUP_HOUR", "3"))
    keep_days = float(os.environ.get("ORDERHUB_BACKUP_KEEP_DAYS", "30"))
    if args.command in ("restore", "verify") and args.file is None:
        parser.error(f"{args.command} needs the dump file")
    if args.command == "dump":
        print(dump(url, directory))
    elif args.command == "restore":
        restore(args.file, args.into or url)
    elif args.command == "verify":
        if not args.into:
            parser.error("verify needs --into a scratch MYSQL_URL")
        diffs = verify(args.file, url, args.into)
        print("\n".join(diffs) or "backup verified: every table's rows and checksum match")
        return 1 if diffs else 0
    elif args.command == "prune":
        for gone in prune(directory, keep_days):
            print(f"pruned {gone}")
    else:
        schedule(url, directory, hour, keep_days)
    return 0


if __name__ == "__main__":
    sys.exit(main())
