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
import os

from adapters.stalls import run_refreezer, sample_lag, time_gc, tune_gc
from hub import metrics


def start_gc_timing() -> None:
    series = {g: metrics.GC_PAUSE.labels(str(g)) for g in (0, 1, 2)}
    time_gc(lambda generation, seconds: series[generation].observe(seconds))


async def run_lag_sampler() -> None:
    await sample_lag(metrics.LOOP_LAG.observe)


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
