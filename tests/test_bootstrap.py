"""`make run` with MariaDB stopped brings it back up and serves, and Ctrl-C stops it all.

Slow and disruptive (it stops the local MariaDB for a while), so root only. It may run at any
point of a session: it uses a database and Redis keys of its own, and what it breaks it
restores and checks. MariaDB runs again afterwards (started by `make run`, or by this test's
teardown if the test failed), and the session's hub, which lost its MySQL connections, must
serve again: it answers /api/ready and takes an order through its Ray hosts.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote, urlparse, urlunparse

import httpx
import pymysql
import pytest
import redis as redis_sync
from conftest import MYSQL_URL, REDIS_URL, World
from waiting import until

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
RUN_SH = REPO / "scripts" / "run.sh"
ENSURE_SERVICES = REPO / "scripts" / "ensure_services.sh"
BOOT_DB = "orderhub_boot_test"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
HEALTH_TIMEOUT_S = 120
STOP_TIMEOUT_S = 20
RECOVERY_TIMEOUT_S = 60
MARKER = "ORDERHUB_BOOT_TEST"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class MySQLTarget:
    def __init__(self, url: str) -> None:
        parsed = urlparse(url)
        self.url = url
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 3306
        self.user = unquote(parsed.username or "root")
        self.password = unquote(parsed.password or "")
        self.boot_url = urlunparse(parsed._replace(path=f"/{BOOT_DB}"))

    def answers(self) -> bool:
        try:
            conn = pymysql.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                password=self.password,
                connect_timeout=3,
            )
        except pymysql.MySQLError:
            return False
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
                return cur.fetchone() == (1,)
        finally:
            conn.close()

    def drop_boot_db(self) -> None:
        conn = pymysql.connect(
            host=self.host, port=self.port, user=self.user, password=self.password
        )
        try:
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{BOOT_DB}`")
        finally:
            conn.close()


def _wait(predicate, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def _stop_mariadb(db: MySQLTarget) -> None:
    subprocess.run(
        [
            "mysqladmin",
            "--protocol=tcp",
            "-h",
            db.host,
            "-P",
            str(db.port),
            "-u",
            db.user,
            "shutdown",
        ],
        env={**os.environ, "MYSQL_PWD": db.password},
        check=True,
        timeout=60,
    )
    assert _wait(lambda: not _port_open(db.host, db.port), 60), "MariaDB's port stayed open"


def _ensure_mariadb_running(db: MySQLTarget) -> None:
    """Start MariaDB again if it does not answer: first as make run would, then directly."""
    if db.answers():
        return
    env = {**os.environ, "MYSQL_URL": db.url}
    subprocess.run(["bash", str(ENSURE_SERVICES)], env=env, timeout=120, check=False)
    if not _wait(db.answers, 10):
        for binary in ("/usr/sbin/mariadbd", "/usr/sbin/mysqld"):
            if Path(binary).exists():
                subprocess.run(
                    ["start-stop-daemon", "--start", "--oknodo", "--background", "--exec", binary],
                    timeout=30,
                    check=False,
                )
                break
    assert _wait(db.answers, 60), "could not start MariaDB again: start it by hand!"


def _marked_pids(marker_value: str) -> list[int]:
    """Processes that inherited this test's marker: everything run.sh started, and below."""
    needle = f"{MARKER}={marker_value}".encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            pids.append(int(proc.name))
    return pids


def _describe(pids: list[int]) -> str:
    lines = []
    for pid in pids:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            cmd = "(gone)"
        lines.append(f"{pid}: {cmd[:150]}")
    return "\n".join(lines)


def _health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


@pytest.fixture
def mysql_target() -> Iterator[MySQLTarget]:
    if os.geteuid() != 0:
        pytest.skip("stopping and starting the local MariaDB needs root")
    db = MySQLTarget(MYSQL_URL)
    if db.host not in LOCAL_HOSTS or db.port != 3306:
        pytest.skip(f"MYSQL_URL is not the local MariaDB on port 3306 ({db.host}:{db.port})")
    if not shutil.which("mysqladmin") or not any(
        Path(b).exists() for b in ("/usr/sbin/mariadbd", "/usr/sbin/mysqld")
    ):
        pytest.skip("no local MariaDB/MySQL server installed (mysqladmin, mariadbd)")
    if not db.answers():
        pytest.skip("the local MariaDB does not answer before the test")
    try:
        yield db
    finally:
        _ensure_mariadb_running(db)
        db.drop_boot_db()
        _drop_boot_redis_keys()


def _drop_boot_redis_keys() -> None:
    """The `make run` hub's Redis keys: named after its database (adapters.redis.Keys)."""
    r = redis_sync.from_url(REDIS_URL)
    try:
        keys = list(r.scan_iter(match=f"{BOOT_DB}:*", count=1000))
        if keys:
            r.delete(*keys)
    finally:
        r.close()


async def _serves_again(base: str) -> None:
    """The hub at `base`, up through the outage, is ready and writes through its hosts."""
    world = World(base)
    customer = None
    try:
        ready = f"{base}/api/ready answering 200 after the MariaDB restart"
        await until(lambda: _ready(world.base), ready, RECOVERY_TIMEOUT_S, interval=1)
        customer = await world.customer()
        order = await world.order(customer)
        path = f"/api/orders/{order['id']}/cancel"
        cancelled = await customer.api.ok("POST", path, {"reason": "bootstrap check"})
        assert cancelled["status"] == "cancelled", cancelled
    finally:
        await world.close()
        if customer is not None:
            await customer.api.close()


async def _ready(base: str) -> bool:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        return (await http.get("/api/ready")).status_code == 200


def _run_async(coro) -> None:
    """Run `coro` to the end on a loop of its own, in a thread of its own: this thread's
    event loop belongs to pytest-asyncio and must stay as it is."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


def test_make_run_with_mariadb_stopped_brings_it_up_and_serves(
    mysql_target: MySQLTarget, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # The session's hub, as the tests before and after this one use it: up through the outage.
    suite_hub = request.getfixturevalue("hub")
    hub_port, sandbox_port = _free_port(), _free_port()
    marker = uuid.uuid4().hex
    env = {
        **os.environ,
        "HUB_HOST": "127.0.0.1",
        "HUB_PORT": str(hub_port),
        "WECHAT_SANDBOX_PORT": str(sandbox_port),
        "MYSQL_URL": mysql_target.boot_url,
        "REDIS_URL": REDIS_URL,  # the tests' Redis db; keys and channel are named after BOOT_DB
        "ORDERHUB_STATE_DIR": str(tmp_path / "state"),
        MARKER: marker,
    }
    # run.sh points the hub at its own sandbox port; inherited values would point elsewhere.
    for name in ("WECHAT_API_BASE", "WECHAT_PAY_BASE", "RAY_ADDRESS"):
        env.pop(name, None)
    health = f"http://127.0.0.1:{hub_port}/api/health"
    log_path = tmp_path / "run.log"
    proc: subprocess.Popen[bytes] | None = None

    try:
        _stop_mariadb(mysql_target)
        assert not mysql_target.answers()

        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                ["bash", str(RUN_SH)],
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def serving() -> bool:
            assert proc is not None
            if proc.poll() is not None:
                pytest.fail(f"run.sh exited ({proc.returncode}) before serving:\n{_tail(log_path)}")
            return _health_ok(health)

        assert _wait(serving, HEALTH_TIMEOUT_S, 1), (
            f"{health} did not answer 200 within {HEALTH_TIMEOUT_S}s:\n{_tail(log_path)}"
        )
        assert mysql_target.answers(), "the hub serves but MariaDB does not answer"
        assert _marked_pids(marker), "no process carries the marker: the check below is void"

        os.killpg(proc.pid, signal.SIGINT)
        try:
            returncode = proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"run.sh still running {STOP_TIMEOUT_S}s after SIGINT:\n{_tail(log_path)}")
        left = _marked_pids(marker)
        assert not left, f"left running after Ctrl-C:\n{_describe(left)}"
        assert returncode == 0, (
            f"run.sh exited {returncode} after Ctrl-C (strays had to be killed?):\n"
            f"{_tail(log_path)}"
        )
        assert "verified: no process of this run is left" in log_path.read_text(errors="replace")

        # What stopping MariaDB broke for the rest of the session is whole again.
        assert mysql_target.answers(), "MariaDB does not answer after make run stopped"
        _run_async(_serves_again(suite_hub.url))
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        for pid in _marked_pids(marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
