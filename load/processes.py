"""Starting and stopping the processes a test run or a bench needs: a Ray head, the WeChat
sandbox (``python -m sandbox``) and hubs (``python -m hub``), each on free ports and in a
process group of its own, and waiting until each answers.

Used by tests/conftest.py, load/bench.py (its throw-away hub) and load/bench_actors (one
stack per phase). Only the process groups started here are ever signalled: no ``ray stop``,
nothing killed by name, because other people's Ray clusters and hubs share the machine.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


class StartError(RuntimeError):
    """A process exited, or did not answer, before it was ready."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(args: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen:
    """Start `args` in the repository with its output appended to `log`."""
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=dict(env),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stop() signals exactly that group
    )


def stop(proc: subprocess.Popen | None, sig=signal.SIGTERM, timeout: float = 20) -> None:
    """`sig` to the process group, SIGKILL to the group if it is still there after `timeout`."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)


def _check_alive(proc: subprocess.Popen | None, what: str, log: Path | None) -> None:
    if proc is not None and proc.poll() is not None:
        where = f": see {log}" if log else ""
        raise StartError(f"process exited ({proc.returncode}) before {what}{where}")


def wait_http(
    url: str, timeout: float, proc: subprocess.Popen | None = None, log: Path | None = None
) -> None:
    """Until `url` answers 200; fails early when `proc` exits (its `log` says why)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        _check_alive(proc, f"{url} answered", log)
        try:
            if httpx.get(url, timeout=3).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    where = f": see {log}" if log else ""
    raise StartError(f"{url} did not answer 200 within {timeout:.0f} s{where}")


def wait_tcp(port: int, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    """Until something listens on 127.0.0.1:`port`; fails early when `proc` exits."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        _check_alive(proc, f"port {port} listened", log)
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise StartError(f"nothing listened on port {port} within {timeout:.0f} s: see {log}")


# --- Ray head ------------------------------------------------------------------------------------


@dataclass
class RayHead:
    proc: subprocess.Popen
    address: str  # host:port, for RAY_ADDRESS and ray.init
    log: Path

    def stop(self, timeout: float = 45) -> None:
        """SIGTERM to `ray start --block` alone (it stops its children in order: signalling
        the whole group first kills the GCS under its drain request), then SIGKILL to what
        is left of its group. The actors' workers have groups of their own; they exit when
        their raylet does."""
        proc = self.proc
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)


# Every port Ray would otherwise take by default is a free one: several heads (other people's
# tests and benches) run on this machine at once.
RAY_NODE_PORTS = [
    "--dashboard-agent-listen-port",
    "--dashboard-agent-grpc-port",
    "--runtime-env-agent-port",
    "--metrics-export-port",
    "--node-manager-port",
    "--object-manager-port",
]


def ray_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "RAY_AUTH_MODE": "disabled",
        "RAY_USAGE_STATS_ENABLED": "0",
        # a scratch cluster: no 30 s drain of the (detached, never idle) hosts on SIGTERM
        "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0",
        **extra,
    }


def start_ray_head(
    temp_dir: Path, log: Path, timeout: float = 120, num_cpus: int = 2, **env: str
) -> RayHead:
    """A single-node Ray head for hubs to join (RAY_ADDRESS), like `make run` has embedded.
    `env`: Ray's own settings for its processes (RAY_health_check_period_ms=…)."""
    port = free_port()
    args = [
        str(Path(PY).with_name("ray")),
        "start",
        "--head",
        "--block",
        f"--port={port}",
        f"--num-cpus={num_cpus}",
        "--include-dashboard=false",
        "--disable-usage-stats",
        f"--temp-dir={temp_dir}",
        *[f"{flag}={free_port()}" for flag in RAY_NODE_PORTS],
    ]
    env = ray_env(**env)
    proc = spawn(args, env, log)
    try:
        wait_tcp(port, timeout, proc, log)
    except StartError:
        RayHead(proc, "", log).stop(timeout=5)
        raise
    time.sleep(2)  # the GCS listens a little before the head takes drivers
    return RayHead(proc, f"127.0.0.1:{port}", log)


# --- WeChat sandbox ------------------------------------------------------------------------------


@dataclass
class Service:
    """A process that answers HTTP at `url`."""

    proc: subprocess.Popen
    url: str
    log: Path

    def stop(self) -> None:
        stop(self.proc)


def start_sandbox(log: Path, state_dir: Path, timeout: float = 60, **env: object) -> Service:
    """The WeChat sandbox, with the hubs' state directory: both read the WeChat Pay keys made
    there on first start. `env`: more variables (WECHAT_SANDBOX_TIME_FACTOR=…)."""
    port = free_port()
    variables = {
        **os.environ,
        "WECHAT_SANDBOX_PORT": str(port),
        "ORDERHUB_STATE_DIR": str(state_dir),
        **{k: str(v) for k, v in env.items()},
    }
    proc = spawn([PY, "-m", "sandbox"], variables, log)
    sandbox = Service(proc, f"http://127.0.0.1:{port}", log)
    try:
        wait_http(f"{sandbox.url}/sandbox/health", timeout, proc, log)
    except StartError:
        sandbox.stop()
        raise
    return sandbox


# --- hub -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stores:
    """Where a hub keeps its state: a MySQL database, a Redis db and a state directory."""

    mysql_url: str
    redis_url: str
    state_dir: Path


def hub_env(
    port: int,
    stores: Stores,
    sandbox_url: str,
    admin_password: str,
    ray_address: str | None = None,
    **settings: object,
) -> dict[str, str]:
    """The environment of `python -m hub` on `port`; `settings` are more variables (rate
    limits, placement, ...) as HUB_LOGIN_PER_MIN=... and so on, and override the others."""
    env = {
        **os.environ,
        "MYSQL_URL": stores.mysql_url,
        "REDIS_URL": stores.redis_url,
        "ORDERHUB_STATE_DIR": str(stores.state_dir),
        "HUB_PORT": str(port),
        "WECHAT_API_BASE": sandbox_url,
        "WECHAT_PAY_BASE": sandbox_url,
        "ALIYUN_SMS_BASE": sandbox_url,  # Alibaba Cloud SMS and privacy numbers: the same sandbox
        "ALIYUN_PLS_BASE": sandbox_url,
        "HUB_ADMIN_PASSWORD": admin_password,
        "RAY_AUTH_MODE": "disabled",
        "PYTHONUNBUFFERED": "1",
        "HUB_WORKERS": "1",  # one process per test hub unless a test asks for more
    }
    if ray_address:
        env["RAY_ADDRESS"] = ray_address
    env.update((k, str(v)) for k, v in settings.items())  # last: they may override any
    return env


def seed_hub(env: Mapping[str, str], log: Path) -> None:
    """`python -m hub seed`: migrations and the demo catalog (idempotent)."""
    subprocess.run(
        [PY, "-m", "hub", "seed"],
        env=dict(env),
        cwd=ROOT,
        check=True,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


@dataclass
class HubProcess:
    url: str
    port: int
    proc: subprocess.Popen
    env: dict[str, str]
    log: Path
    ready_timeout: float = 120

    @classmethod
    def start(cls, env: dict[str, str], log: Path, ready_timeout: float = 120) -> HubProcess:
        """`python -m hub` with `env` (see hub_env), once it answers /api/ready."""
        port = int(env["HUB_PORT"])
        proc = spawn([PY, "-m", "hub"], env, log)
        hub = cls(f"http://127.0.0.1:{port}", port, proc, env, log, ready_timeout)
        try:
            hub.wait_ready()
        except StartError:
            hub.stop()
            raise
        return hub

    def wait_ready(self) -> None:
        wait_http(f"{self.url}/api/ready", self.ready_timeout, self.proc, self.log)

    def stop(self) -> None:
        stop(self.proc)

    def kill(self) -> None:
        """SIGKILL: a crash, no goodbye."""
        stop(self.proc, signal.SIGKILL)

    def restart(self) -> None:
        self.kill()
        self.proc = spawn([PY, "-m", "hub"], self.env, self.log)
        self.wait_ready()

    def pids(self) -> list[int]:
        """The hub's processes (HUB_WORKERS): this one, then the workers it started."""
        return [self.proc.pid, *children(self.proc.pid, "hub")]

    def serving_pids(self) -> list[int]:
        """Those of `pids` that listen on the port now."""
        return [pid for pid in self.pids() if self.port in tcp_ports(pid, listening=True)]


# --- which process holds which connection (from /proc: no psutil here) -----------------------


def children(pid: int, module: str) -> list[int]:
    """The child processes of `pid` running `python -m <module>`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if parent == pid and module.encode() in argv and b"-m" in argv:
                found.append(int(entry.name))
    return sorted(found)


def tcp_ports(pid: int, listening: bool = False) -> dict[int, set[int]]:
    """Local port → remote ports of `pid`'s TCP sockets that are established (or listening,
    then with remote port 0), IPv4 and IPv6."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                link = os.readlink(fd)
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
    state = "0A" if listening else "01"
    out: dict[int, set[int]] = {}
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                cols = line.split()
                if cols[3] == state and cols[9] in inodes:
                    local = int(cols[1].rsplit(":", 1)[1], 16)
                    out.setdefault(local, set()).add(int(cols[2].rsplit(":", 1)[1], 16))
    return out
