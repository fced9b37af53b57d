"""A Ray cluster of several nodes on this machine, for the cluster test and benches: a head
(load/processes.py start_ray_head) and more nodes joined to it (`ray start --address`), each
its own process group on free ports. Only what is started here is ever signalled (never
`ray stop`: other people's clusters share the machine); a node is stopped, or crashed, by
signalling its own process group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from hub.graceful import descendants
from load.processes import (
    PY,
    RAY_NODE_PORTS,
    RayHead,
    StartError,
    free_port,
    ray_env,
    spawn,
    start_ray_head,
)

# A dead node is noticed in ~2 s, not Ray's default ~15-30 s (5 missed checks 3 s apart):
# its hosts restart on another node sooner. Set on the head, whose GCS runs the checks.
FAST_FAILURE_DETECTION = {
    "RAY_health_check_initial_delay_ms": "1000",
    "RAY_health_check_period_ms": "500",
    "RAY_health_check_timeout_ms": "1000",
    "RAY_health_check_failure_threshold": "4",
}


@dataclass
class RayNode:
    proc: subprocess.Popen
    log: Path

    def crash(self) -> None:
        """SIGKILL to every process of the node at once (its raylet, agents and the workers
        its actors run in, which have process groups of their own): a machine gone."""
        doomed = [self.proc.pid, *descendants(self.proc.pid)]
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)

    def stop(self, timeout: float = 30) -> None:
        RayHead(self.proc, "", self.log).stop(timeout)


@dataclass
class RayCluster:
    head: RayHead
    nodes: list[RayNode] = field(default_factory=list)

    @property
    def address(self) -> str:
        return self.head.address

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.head.stop()


def _wait_started(node: RayNode, timeout: float, offset: int) -> None:
    """Until the node's log says it started (past `offset`: the log may hold earlier runs)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if node.proc.poll() is not None:
            raise StartError(f"ray node exited ({node.proc.returncode}): see {node.log}")
        with contextlib.suppress(OSError):
            if b"Ray runtime started" in node.log.read_bytes()[offset:]:
                return
        time.sleep(0.5)
    raise StartError(f"ray node not started within {timeout:.0f} s: see {node.log}")


def start_ray_node(
    address: str, log: Path, temp_dir: Path, num_cpus: int = 1, timeout: float = 120
) -> RayNode:
    """Another node for the cluster at `address` (host:port of its head); its session files
    under `temp_dir` (the head's: not the machine's shared /tmp/ray)."""
    args = [
        str(Path(PY).with_name("ray")),
        "start",
        f"--address={address}",
        "--block",
        f"--num-cpus={num_cpus}",
        "--disable-usage-stats",
        f"--temp-dir={temp_dir}",
        *[f"{flag}={free_port()}" for flag in RAY_NODE_PORTS],
    ]
    offset = log.stat().st_size if log.exists() else 0
    node = RayNode(spawn(args, ray_env(), log), log)
    try:
        _wait_started(node, timeout, offset)
    except StartError:
        node.crash()
        raise
    return node


def start_ray_cluster(workdir: Path, nodes: int = 2, timeout: float = 120) -> RayCluster:
    """A head (1 CPU) and `nodes` - 1 more nodes (1 CPU each), logs in `workdir`."""
    workdir.mkdir(parents=True, exist_ok=True)
    head = start_ray_head(
        workdir / "ray", workdir / "ray-head.log", timeout, num_cpus=1, **FAST_FAILURE_DETECTION
    )
    cluster = RayCluster(head)
    try:
        for i in range(1, nodes):
            log = workdir / f"ray-node-{i}.log"
            cluster.nodes.append(start_ray_node(head.address, log, temp_dir=workdir / "ray"))
    except StartError:
        cluster.stop()
        raise
    return cluster
