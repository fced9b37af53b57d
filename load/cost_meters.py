"""Meters for load/measure_costs.py: CPU seconds of processes (from /proc), rows MySQL
changed in one database (MariaDB userstat) and Redis commands on one db (MONITOR)."""

from __future__ import annotations

import collections
import os
import subprocess
import threading
from pathlib import Path

import pymysql
import redis as redis_sync

from adapters.mysql import MysqlDsn
from hub.graceful import descendants

TICK_S = os.sysconf("SC_CLK_TCK")


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK_S  # utime + stime


class Cpu:
    """CPU seconds of the hub process, its Ray hosts and the rest of its embedded Ray."""

    def __init__(self, hub_pid: int, host_pids: list[int]):
        self.hub_pid, self.host_pids = hub_pid, host_pids

    def read(self) -> dict[str, float]:
        ray_pids = [p for p in descendants(self.hub_pid) if p not in self.host_pids]
        return {
            "hub": cpu_seconds(self.hub_pid),
            "hosts": sum(cpu_seconds(p) for p in self.host_pids),
            "ray": sum(cpu_seconds(p) for p in ray_pids),
        }


def delta(after: dict, before: dict) -> dict:
    return {k: after[k] - before.get(k, 0) for k in after}


class RedisCommands:
    """Redis commands on one db, counted by MONITOR in a thread while `counting`."""

    def __init__(self, url: str):
        self.url = url
        self.db = int(url.rsplit("/", 1)[1] or 0)
        self.counts: collections.Counter = collections.Counter()
        self.counting = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        with redis_sync.from_url(self.url).monitor() as monitor:
            for cmd in monitor.listen():
                if self.counting and cmd.get("db") == self.db:
                    self.counts[cmd["command"].split(" ", 1)[0].upper()] += 1


class MysqlRows:
    """Rows changed per table of one database (MariaDB userstat), on for the run."""

    def __init__(self, url: str):
        dsn = MysqlDsn.parse(url)
        self.schema = dsn.database
        self.conn = pymysql.connect(**dsn.connect_kwargs(with_db=False), autocommit=True)
        self.was_on = self._one("SELECT @@userstat")
        self._one("SET GLOBAL userstat = 1")

    def _one(self, sql: str, *args):
        with self.conn.cursor() as cur:
            cur.execute(sql, args)
            row = cur.fetchone()
            return row[0] if row else None

    def read(self) -> dict[str, int]:
        with self.conn.cursor() as cur:
            cur.execute(
                "SELECT TABLE_NAME, ROWS_CHANGED FROM information_schema.TABLE_STATISTICS"
                " WHERE TABLE_SCHEMA = %s",
                (self.schema,),
            )
            return {name: int(n) for name, n in cur.fetchall()}

    def server_status(self) -> dict[str, int]:
        """The whole server's Com_* counters (every client's: a noisy bound, not ours)."""
        with self.conn.cursor() as cur:
            cur.execute(
                "SHOW GLOBAL STATUS WHERE Variable_name IN"
                " ('Com_insert', 'Com_update', 'Com_delete', 'Com_select', 'Com_commit')"
            )
            return {name: int(value) for name, value in cur.fetchall()}

    def close(self) -> None:
        if not self.was_on:
            self._one("SET GLOBAL userstat = 0")
        self.conn.close()
