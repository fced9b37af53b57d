"""A process's stalls: its cyclic-GC pauses per generation and its event-loop lag, timed, and
the GC setting that shortens them (hub/loop_stats.py says why and what it costs).

Shared by the hub (hub/loop_stats.py: prometheus-client series) and the Ray hosts
(actors/host.py: their figures, pushed through Redis to the hub's /metrics), so a p99 that
jumps can be put on the process that paused.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable

LAG_EVERY_S = 0.05  # the sampler sleeps this long and records how late it wakes
# Generation 0 every 50,000 net allocations (default 700): between two re-freezes (below) the
# automatic collector then seldom runs; 20 and 100 make the older generations rarer still.
# Measured at 3,000 providers (docs/profile.md): 5,000 / 10 / 50 ran 140 young collections in
# 90 s and the GC was 57 % of the hub's Python time again; 50,000 / 20 / 100, 4 %.
THRESHOLDS = (50_000, 20, 100)


class GcTimer:
    """A gc.callbacks entry: the start and stop of every collection, timed;
    `observe(generation, seconds)` per collection."""

    def __init__(self, observe: Callable[[int, float], None]) -> None:
        self.observe = observe
        self.started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        elif self.started:
            self.observe(info["generation"], time.perf_counter() - self.started)
            self.started = 0.0


def time_gc(observe: Callable[[int, float], None]) -> GcTimer:
    """Time every collection of this process from now on (once per process)."""
    for callback in gc.callbacks:
        if isinstance(callback, GcTimer):
            return callback
    timer = GcTimer(observe)
    gc.callbacks.append(timer)
    return timer


async def sample_lag(observe: Callable[[float], None], every_s: float = LAG_EVERY_S) -> None:
    """How late the loop wakes from a short sleep: what every callback waited behind others."""
    loop = asyncio.get_running_loop()
    while True:
        planned = loop.time() + every_s
        await asyncio.sleep(every_s)
        observe(max(0.0, loop.time() - planned))


def tune_gc(freeze: bool = True) -> None:
    """Raise the thresholds; freeze everything alive now (after start-up)."""
    gc.set_threshold(*THRESHOLDS)
    if freeze:
        gc.collect()
        gc.freeze()


async def run_refreezer(every_s: float) -> None:
    """Freeze the survivors of the young generations now and then (see the module's text)."""
    while True:
        await asyncio.sleep(every_s)
        # generation 0 only (at most THRESHOLDS[0] objects): a generation-1 pass here walked
        # 10 s of survivors, 0.3-2.5 s on the wall at 4,000 providers (docs/benchmarks.md)
        gc.collect(0)
        gc.freeze()
