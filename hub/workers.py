"""Several hub processes on one port (HUB_WORKERS, default one per core).

The first process (the primary, `python -m hub`) migrates, starts or joins Ray, creates the
standing hosts and rebuilds Redis, then starts the others with `start_workers`: each joins
the same Ray by its address and finds the hosts by name (`Placement.attach`). Every process
opens its own listening socket on the port with SO_REUSEPORT, so the kernel spreads new
connections over them, and every process receives the hosts' events through python-socketio's
Redis channel, so a socket gets its rooms' events whichever process holds it.

A connection stays on the process that accepted it for its whole life: a websocket is one
TCP connection. Long-polling is several requests, each a new connection the kernel may give
to another process that does not know the session, so with more than one process the hub
serves websocket only (`transports`; the mini program and the console connect that way);
a deployment that needs polling runs HUB_WORKERS=1 per port behind a sticky balancer.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time

log = logging.getLogger("orderhub.workers")

PRIMARY_ENV = "HUB_WORKER_OF"  # set on the processes the primary starts: the primary's pid
RESPAWN_DELAY_S = 1.0
_PR_SET_PDEATHSIG = 1


def count(setting: int) -> int:
    """How many hub processes serve the port: HUB_WORKERS, or one per core when 0."""
    return setting if setting > 0 else len(os.sched_getaffinity(0)) or 1


def is_worker() -> bool:
    return bool(os.environ.get(PRIMARY_ENV))


def transports(workers: int) -> list[str] | None:
    """Socket.IO transports to allow: websocket only when connections may land anywhere."""
    return ["websocket"] if workers > 1 else None


def follow_primary() -> None:
    """A worker ends (SIGTERM, so it drains) when its primary dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != int(os.environ[PRIMARY_ENV]):  # it died before prctl took hold
        sys.exit(1)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def check_port_free(host: str, port: int, wait_s: float = 10.0) -> None:
    """Raise OSError when anything listens on the port still after `wait_s` (the workers of
    a hub that was just killed close theirs as they drain): SO_REUSEPORT alone would quietly
    share the port with another deployment's hub run by the same user."""
    deadline = time.monotonic() + wait_s
    while True:
        with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is fine
            try:
                probe.bind((host, port))
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
        time.sleep(0.5)


def listen_socket(host: str, port: int) -> socket.socket:
    """This process's socket on the shared port (uvicorn calls listen() once it serves, so
    no connection is routed here before the app has started)."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


class Workers:
    """The primary's other hub processes: started, restarted when one dies, stopped."""

    def __init__(self, extra: int, ray_address: str):
        self.env = {**os.environ, PRIMARY_ENV: str(os.getpid()), "RAY_ADDRESS": ray_address}
        self.procs: list[subprocess.Popen | None] = [None] * extra
        self._stopping = threading.Event()

    def start(self) -> None:
        for index in range(len(self.procs)):
            self._spawn(index)
            threading.Thread(target=self._watch, args=(index,), daemon=True).start()

    def _spawn(self, index: int) -> None:
        env = {**self.env, "HUB_WORKER_INDEX": str(index + 1)}
        # The primary's output, a process group of their own: a stop (honcho's SIGTERM to the
        # primary's group) reaches them once, from the primary; a second SIGTERM would make
        # uvicorn skip the drain. They follow the primary if it dies (follow_primary).
        self.procs[index] = subprocess.Popen(
            [sys.executable, "-m", "hub", "serve"], env=env, start_new_session=True
        )
        print(f"[orderhub] hub worker {index + 1} started (pid {self.procs[index].pid})")

    def _watch(self, index: int) -> None:
        delay = RESPAWN_DELAY_S
        while not self._stopping.is_set():
            started = time.monotonic()
            code = self.procs[index].wait()
            if self._stopping.is_set():
                return
            # one that keeps failing at start (Ray unreachable …) is retried less and less often
            delay = RESPAWN_DELAY_S if time.monotonic() - started > 60 else min(delay * 2, 30)
            log.error("hub worker %d exited (%s): restarting in %.0f s", index + 1, code, delay)
            if not self._stopping.wait(delay):
                self._spawn(index)

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p is not None]

    def terminate(self) -> None:
        """SIGTERM to each, once: each drains its sockets (hub/graceful.py) meanwhile."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 3.0) -> None:
        """`terminate`, then wait; SIGKILL what is left after `timeout`."""
        self.terminate()
        deadline = time.monotonic() + timeout
        for proc in self.procs:
            if proc is None:
                continue
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
