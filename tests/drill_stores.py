"""Private MariaDB and Redis servers for the fault drills (tests/test_drills.py).

The drills restart, stop and slow down the stores under a hub. The machine's MariaDB
(127.0.0.1:3306) and Redis (6379) serve every other engineer's tests and CI at the same
time, so the drills never touch them: each drill module starts its own `mariadbd` (a fresh
datadir in a temporary directory, root without a password on a free port) and its own
`redis-server` (no persistence: a restart loses everything, as a crashed cache would), and
only ever signals the processes started here.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pymysql
import redis as redis_sync

from load.processes import free_port, spawn, stop


def _wait(probe, what: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what}: exited ({proc.returncode}), see {log}")
        with contextlib.suppress(Exception):
            if probe():
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what}: not up within {timeout:.0f} s, see {log}")


@dataclass
class PrivateRedis:
    """`redis-server` on a free port with no persistence."""

    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log(self) -> Path:
        return self.workdir / "redis.log"

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        self.proc = spawn(args, {"PATH": "/usr/bin:/bin:/usr/sbin"}, self.log)
        _wait(self._pings, "private redis", self.proc, self.log)

    def _pings(self) -> bool:
        r = redis_sync.Redis(port=self.port, socket_timeout=1)
        try:
            return bool(r.ping())
        finally:
            r.close()

    def stop(self, sig=signal.SIGTERM) -> None:
        stop(self.proc, sig, timeout=10)


@dataclass
class PrivateMariaDB:
    """`mariadbd` with its own datadir, socket and free port; root without a password."""

    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def datadir(self) -> Path:
        return self.workdir / "data"

    @property
    def log(self) -> Path:
        return self.workdir / "mariadb.log"

    def url(self, database: str) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/{database}"

    def install(self) -> None:
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.datadir}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
            ],
            check=True,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )

    def start(self) -> None:
        args = [
            "mariadbd",
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--socket={self.workdir / 'sock'}",
            f"--pid-file={self.workdir / 'mariadb.pid'}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            "--user=root",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=64M",
            "--innodb-log-file-size=32M",
            "--max-connections=300",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
        ]
        self.proc = spawn(args, {"PATH": "/usr/bin:/bin:/usr/sbin"}, self.log)
        _wait(self._answers, "private mariadb", self.proc, self.log, timeout=90)

    def _answers(self) -> bool:
        conn = pymysql.connect(host="127.0.0.1", port=self.port, user="root", connect_timeout=1)
        conn.close()
        return True

    def stop(self, sig=signal.SIGTERM) -> None:
        stop(self.proc, sig, timeout=30)


class PrivateStores:
    """Both servers under one temporary directory, removed on close."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="orderhub-drill-stores-"))
        self.redis = PrivateRedis(self.root / "redis")
        self.mariadb = PrivateMariaDB(self.root / "mariadb")

    def start(self) -> None:
        self.redis.workdir.mkdir()
        self.mariadb.workdir.mkdir()
        self.redis.start()
        self.mariadb.install()
        self.mariadb.start()

    def close(self) -> None:
        self.redis.stop()
        self.mariadb.stop()
        shutil.rmtree(self.root, ignore_errors=True)
