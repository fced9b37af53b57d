"""Backups (issue #13): a dump of the live database, restored into a scratch database, holds
every table with the same rows (count and CHECKSUM TABLE); old dumps are pruned after 30 days;
the daily run falls at the configured hour."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import os
import subprocess

from conftest import MYSQL_URL, PY, ROOT

from adapters import backup
from load.stores import drop_database

SCRATCH = MYSQL_URL.rsplit("/", 1)[0] + "/" + MYSQL_URL.rsplit("/", 1)[1] + "_restore"


async def test_a_dump_restores_every_table(world, tmp_path):
    # some rows of our own (an account, an order with its event and an encrypted phone),
    # besides whatever the session's other tests wrote
    customer = await world.customer()
    await world.order(customer, lat=20.07, lng=110.36)
    drop_database(SCRATCH)
    try:
        with backup.frozen(MYSQL_URL):  # the running hub's writes wait a moment
            file = backup.dump(MYSQL_URL, tmp_path)
            want = backup.fingerprint(MYSQL_URL)
            # the operator's command: restore into a scratch database, compare every table
            verified = await asyncio.to_thread(
                subprocess.run,
                [PY, "-m", "adapters.backup", "verify", str(file), "--into", SCRATCH],
                cwd=ROOT,
                env={**os.environ, "MYSQL_URL": MYSQL_URL},
                capture_output=True,
                text=True,
                timeout=120,
            )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "backup verified" in verified.stdout
        got = backup.fingerprint(SCRATCH)
        assert want["orders"][0] >= 1 and want["order_events"][0] >= 1
        assert set(got) == set(want)
        assert {t: got[t] for t in want if got[t] != want[t]} == {}
    finally:
        drop_database(SCRATCH)
    assert file.name.endswith(".sql.gz") and file.stat().st_mode & 0o077 == 0  # owner only
    with gzip.open(file, "rt", encoding="utf-8") as text:
        head = text.read(200_000)
    assert "CREATE TABLE `orders`" in head
    assert "13800138000" not in head  # phones are encrypted at rest, so in the dump too


def test_prune_keeps_thirty_days(tmp_path):
    now = dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC)
    names = {}
    for days in (0, 1, 29, 30.5, 31, 90):
        stamp = (now - dt.timedelta(days=days)).strftime(backup.STAMP)
        names[days] = tmp_path / f"orderhub-{stamp}.sql.gz"
        names[days].write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not a dump")
    gone = backup.prune(tmp_path, 30, now=now)
    assert sorted(gone) == sorted([names[30.5], names[31], names[90]])
    assert all(names[d].exists() for d in (0, 1, 29)) and (tmp_path / "notes.txt").exists()


def test_the_daily_run_falls_at_the_hour():
    before = dt.datetime(2026, 11, 29, 2, 59, tzinfo=dt.UTC)
    assert backup.next_run(before, 3) == dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC)
    after = dt.datetime(2026, 11, 29, 3, 0, 1, tzinfo=dt.UTC)
    assert backup.next_run(after, 3) == dt.datetime(2026, 11, 30, 3, 0, tzinfo=dt.UTC)
