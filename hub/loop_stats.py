"""Stalls of a hub process, measured: cyclic-GC pauses per generation and event-loop lag.

At a few thousand connections the p99 of location → watcher is decided by pauses, not by CPU
(FIELD-NOTES "Tracking ceilings": generation-2 collections of 0.2-1.2 s). So both are timed in
every hub process and exported on /metrics (`orderhub_gc_pause_seconds{generation}`,
`orderhub_loop_lag_seconds`); the load simulator reads them before and after a run and prints
them (load/hub_stalls.py).

And the first remedy: once the hub has started (modules, settings, Ray handles, the app), the
objects alive then are frozen (`gc.freeze()`: moved to a permanent generation the collector
never scans again), and the thresholds are raised so that generation 2, whose pause grows with
everything alive, runs rarely (`HUB_GC_TUNE=0` keeps Python's defaults: the before/after
comparison). Connections still make long-lived objects: every `HUB_GC_FREEZE_S` (default
10 s, 0 = never) the youngest generation is collected and what survived is frozen too, so a
collection only ever walks the last few seconds' survivors (a short pause, often) instead of
everything (a long one). The cost: a cycle frozen while alive is never collected once it
becomes garbage — what a connection that closes later leaves in cycles stays in memory until
the process restarts, so memory grows with the connections' churn (docs/profile.md).
"""

from __future__ import annotations

import asyncio
import gc
import os
import time

from hub import metrics

LAG_EVERY_S = 0.05  # the sampler sleeps this long and records how late it wakes
# Generation 0 every 50,000 net allocations (default 700): between two re-freezes (below) the
# automatic collector then seldom runs; 20 and 100 make the older generations rarer still.
# Measured at 3,000 providers (docs/profile.md): 5,000 / 10 / 50 ran 140 young collections in
# 90 s and the GC was 57 % of the hub's Python time again; 50,000 / 20 / 100, 4 %.
THRESHOLDS = (50_000, 20, 100)


class _GcTimer:
    """gc.callbacks: the start and stop of every collection, timed, per generation."""

    def __init__(self) -> None:
        self.started = 0.0
        self.series = {g: metrics.GC_PAUSE.labels(str(g)) for g in (0, 1, 2)}

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        elif self.started:
            self.series[info["generation"]].observe(time.perf_counter() - self.started)
            self.started = 0.0


_timer: _GcTimer | None = None


def start_gc_timing() -> None:
    global _timer
    if _timer is None:
        _timer = _GcTimer()
        gc.callbacks.append(_timer)


def tune_gc(freeze: bool = True) -> None:
    """Raise the thresholds; freeze everything alive now (after start-up)."""
    gc.set_threshold(*THRESHOLDS)
    if freeze:
        gc.collect()
        gc.freeze()


async def run_lag_sampler(every_s: float = LAG_EVERY_S) -> None:
    """How late the loop wakes from a short sleep: what every callback waited behind others."""
    series = metrics.LOOP_LAG
    loop = asyncio.get_running_loop()
    while True:
        planned = loop.time() + every_s
        await asyncio.sleep(every_s)
        series.observe(max(0.0, loop.time() - planned))


async def run_refreezer(every_s: float) -> None:
    """Freeze the survivors of the young generations now and then (see the module's text)."""
    while True:
        await asyncio.sleep(every_s)
        # generation 0 only (at most THRESHOLDS[0] objects): a generation-1 pass here walked
        # 10 s of survivors, 0.3-2.5 s on the wall at 4,000 providers (docs/benchmarks.md)
        gc.collect(0)
        gc.freeze()


class Stalls:
    """ASGI wrapper: times GC from the start, and at the end of the app's start-up freezes
    the heap and starts the loop-lag sampler (and the re-freezer) on the server's loop."""

    def __init__(self, app, tune: bool | None = None, freeze_every_s: float | None = None):
        self.app = app
        if tune is None:
            tune = os.environ.get("HUB_GC_TUNE", "1") != "0"
        if freeze_every_s is None:
            freeze_every_s = float(os.environ.get("HUB_GC_FREEZE_S", "10"))
        self.tune = tune
        self.freeze_every_s = freeze_every_s if tune else 0.0
        self.tasks: list[asyncio.Task] = []
        start_gc_timing()

    def __getattr__(self, name):  # the wrapped app's attributes (engineio_server, ...)
        return getattr(self.app, name)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "lifespan":
            return await self.app(scope, receive, send)

        async def sent(message):
            if message["type"] == "lifespan.startup.complete":
                self._started()
            elif message["type"].startswith("lifespan.shutdown"):
                for task in self.tasks:
                    task.cancel()
            await send(message)

        return await self.app(scope, receive, sent)

    def _started(self) -> None:
        if self.tune:
            tune_gc(freeze=True)
        self.tasks.append(asyncio.create_task(run_lag_sampler()))
        if self.freeze_every_s > 0:
            self.tasks.append(asyncio.create_task(run_refreezer(self.freeze_every_s)))
