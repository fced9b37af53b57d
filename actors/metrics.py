"""Timing a process's MySQL and Redis calls, and how a Ray host's timings reach /metrics.

`instrument` wraps a Database and a Redis client so each call reports (store, label, seconds)
to a callback: the hub's callback is a prometheus-client histogram (hub/metrics.py).

A Ray host is a process Ray starts, with no endpoint of its own to scrape. It keeps bucket
counts (its stores' timings, its GC pauses and loop lag) in memory (`HostFigures`) and every
10 s adds them to one Redis hash per deployment (HINCRBYFLOAT: the hosts' figures add up; a
host that dies loses at most its last 10 s).
The hub reads that hash when /metrics is scraped (adapters/figures.py host_histograms).
"""

from __future__ import annotations

import contextlib
import logging
import time
from bisect import bisect_left
from collections.abc import Callable

from adapters.stalls import sample_lag, time_gc

log = logging.getLogger("orderhub.metrics")

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
MYSQL_OPS = ("fetch_one", "fetch_all", "execute", "executemany")

Observe = Callable[[str, str, float], None]  # (store: "mysql" | "redis", label, seconds)


def host_key(ns: str) -> str:
    """The Redis hash the hosts add their figures to (ns: the deployment's key prefix)."""
    return f"{ns}:metrics:hosts"


def instrument(observe: Observe, db=None, redis=None) -> None:
    if db is not None:
        _instrument_db(observe, db)
    if redis is not None:
        _instrument_redis(observe, redis)


def _instrument_db(observe: Observe, db) -> None:
    for op in MYSQL_OPS:
        call = getattr(db, op)

        async def timed(*args, _call=call, _op=op, **kw):
            started = time.perf_counter()
            try:
                return await _call(*args, **kw)
            finally:
                observe("mysql", _op, time.perf_counter() - started)

        setattr(db, op, timed)
    begin = db.transaction

    @contextlib.asynccontextmanager
    async def transaction():
        started = time.perf_counter()
        try:
            async with begin() as cur:
                yield cur
        finally:
            observe("mysql", "transaction", time.perf_counter() - started)

    db.transaction = transaction


def _instrument_redis(observe: Observe, redis) -> None:
    call = redis.execute_command

    async def timed(*args, **options):
        started = time.perf_counter()
        try:
            return await call(*args, **options)
        finally:
            name = str(args[0]).lower() if args else "?"
            observe("redis", name if name.isalpha() else "other", time.perf_counter() - started)

    redis.execute_command = timed
    make = redis.pipeline

    def pipeline(*args, **kw):
        pipe = make(*args, **kw)
        run = pipe.execute

        async def execute(*eargs, **ekw):
            started = time.perf_counter()
            try:
                return await run(*eargs, **ekw)
            finally:
                observe("redis", "pipeline", time.perf_counter() - started)

        pipe.execute = execute
        return pipe

    redis.pipeline = pipeline


class HostFigures:
    """A host's timings, held as bucket counts until the next flush."""

    def __init__(self, redis, ns: str):
        self.key = host_key(ns)
        self._pipeline = redis.pipeline  # taken before instrumenting: a flush is not measured
        self.pending: dict[str, float] = {}

    def observe(self, store: str, label: str, seconds: float) -> None:
        i = bisect_left(BUCKETS, seconds)
        le = repr(BUCKETS[i]) if i < len(BUCKETS) else "+Inf"
        base = f"{store}|{label}|"
        self.pending[base + le] = self.pending.get(base + le, 0) + 1
        self.pending[base + "sum"] = self.pending.get(base + "sum", 0.0) + seconds

    async def time_stalls(self) -> None:
        """Time this process's GC pauses (`gc|<generation>`) and, while awaited, its loop lag
        (`loop|lag`): the hub exports them as orderhub_host_gc_pause_seconds and
        orderhub_host_loop_lag_seconds."""
        time_gc(lambda generation, seconds: self.observe("gc", str(generation), seconds))
        await sample_lag(lambda seconds: self.observe("loop", "lag", seconds))

    async def flush(self) -> None:
        if not self.pending:
            return
        pending, self.pending = self.pending, {}
        pipe = self._pipeline(transaction=False)
        for field, value in pending.items():
            pipe.hincrbyfloat(self.key, field, value)
        try:
            await pipe.execute()
        except Exception as exc:  # Redis away: these seconds' figures are lost, nothing else
            log.warning("host figures not flushed: %r", exc)
