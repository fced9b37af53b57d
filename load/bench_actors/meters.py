"""What the actor bench measures besides the hub's answers: CPU of chosen processes and of
the whole machine, a process's RSS, the shared database servers, and how long the hub takes
to answer a health check while it works."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time

import httpx

from load.metrics import machine_cpu, own_cpu_seconds, proc_cpu_seconds


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[k]


def spread(values: list[float]) -> dict:
    """p50, p99 and max (ms, one decimal) of a list of milliseconds."""
    return {
        "p50Ms": round(pct(values, 50), 1) if values else None,
        "p99Ms": round(pct(values, 99), 1) if values else None,
        "maxMs": round(max(values), 1) if values else None,
    }


def proc_rss_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def service_pids() -> dict[str, list[int]]:
    """MariaDB/MySQL and Redis server processes (shared with everyone else on the machine)."""
    found: dict[str, list[int]] = {"mysql": [], "redis": []}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm in ("mariadbd", "mysqld"):
            found["mysql"].append(int(entry.name))
        elif comm == "redis-server":
            found["redis"].append(int(entry.name))
    return {k: v for k, v in found.items() if v}


def machine_snapshot() -> dict:
    with open("/proc/meminfo") as f:
        mem = {k: int(v.split()[0]) for k, v in (ln.split(":", 1) for ln in f)}
    return {
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "memAvailableMb": mem["MemAvailable"] // 1024,
    }


class CpuMeter:
    """CPU use of this process, of chosen pids and of the whole machine over an interval."""

    def __init__(self, pids: dict[str, list[int]]):
        self.pids = pids
        self.t0 = time.monotonic()
        self.self0 = own_cpu_seconds()
        self.m0 = machine_cpu()
        self.p0 = {k: [proc_cpu_seconds(p) for p in v] for k, v in pids.items()}

    def read(self) -> dict:
        wall = time.monotonic() - self.t0
        busy, total = machine_cpu()
        out = {
            "wallS": round(wall, 2),
            "generatorCpuPct": round(100 * (own_cpu_seconds() - self.self0) / wall, 1),
            "machineBusyPct": round(
                100 * (busy - self.m0[0]) / max(1, total - self.m0[1]) * os.cpu_count(), 1
            ),
        }
        for name, pids in self.pids.items():
            used = 0.0
            for pid, before in zip(pids, self.p0[name], strict=True):
                after = proc_cpu_seconds(pid)
                if before is not None and after is not None:
                    used += after - before
            out[f"{name}CpuPct"] = round(100 * used / wall, 1)
        return out


async def hub_probe(base: str, stop: asyncio.Event) -> dict:
    """GET /api/health every 0.2 s: a slow answer means the hub's event loop was held up
    (blocking calls, or no CPU to be had) - which its sockets feel too."""
    rtts: list[float] = []
    failures = 0
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        while not stop.is_set():
            t = time.perf_counter()
            try:
                await http.get("/api/health")
                rtts.append((time.perf_counter() - t) * 1000)
            except httpx.HTTPError:
                failures += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.2)
    return {**spread(rtts), "failures": failures}
