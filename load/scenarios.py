"""Scenarios: what the customers do over the run, and what happens to the network.

- ``steady``: orders arrive as a Poisson process at ``--rate``.
- ``rush``: rush hour: the rate climbs from 20 % to ``--rate`` over the first 40 % of the
  run, holds at the peak, and falls back to 30 % over the last 30 %.
- ``grab-storm``: every provider is online near the centre; every ``storm_every`` seconds
  one grab order is placed at the centre and every provider grabs it at once.
- ``ramp``: steady orders, but the providers go online one by one over the first 80 % of
  the run (all are logged in and connected first): the report's capacity table shows, per
  10 s, how many were online and the p99 of location → watcher, and so the most providers
  online with that p99 under 100 ms.
- ``reconnect-storm``: steady load, and at ``--reconnect-at`` (default 40 % and 75 % of
  the run) every client loses its connection at the same moment and comes back within
  a few seconds (re-online, hall snapshot, re-watch with ``afterSeq``).
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Protocol

from load.city import City, pick
from load.config import RunConfig
from load.customer_sim import CustomerSim
from load.metrics import Metrics
from load.provider_sim import ProviderSim

SCENARIOS = ("steady", "rush", "grab-storm", "reconnect-storm", "ramp")


class Crowd(Protocol):
    """What a scenario drives: one worker process's users, and its share of the run
    (load/worker.py's Worker is one)."""

    cfg: RunConfig
    rng: random.Random
    city: City
    metrics: Metrics
    providers: list[ProviderSim]
    customers: list[CustomerSim]
    index: int  # this worker's number, of nprocs
    nprocs: int
    t0: float  # wall time the load started
    stopping: bool
    expect_drops: bool

    def spawn(self, coro) -> asyncio.Task: ...


def rate_at(scenario: str, peak: float, t: float, duration: float) -> float:
    """Orders per second (whole run, all workers) at ``t`` seconds into the run."""
    if scenario == "rush":
        f = t / duration if duration else 1.0
        if f < 0.4:
            return peak * (0.2 + 0.8 * f / 0.4)
        if f < 0.7:
            return peak
        return peak * (1.0 - 0.7 * (f - 0.7) / 0.3)
    if scenario == "grab-storm":
        return 0.0
    return peak


def reconnect_times(w: Crowd) -> list[float]:
    if w.cfg.reconnect_at:
        return sorted(w.cfg.reconnect_at)
    if w.cfg.scenario == "reconnect-storm":
        return [round(w.cfg.duration * 0.4, 1), round(w.cfg.duration * 0.75, 1)]
    return []


async def drive(w: Crowd) -> None:
    tasks = [asyncio.create_task(_orders(w))]
    if w.cfg.scenario == "grab-storm":
        tasks.append(asyncio.create_task(_storms(w)))
    if w.cfg.scenario == "ramp":
        tasks.append(asyncio.create_task(_ramp(w)))
    for at in reconnect_times(w):
        tasks.append(asyncio.create_task(_reconnect_storm(w, at)))
    try:
        await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()


async def _orders(w: Crowd) -> None:
    cfg = w.cfg
    rng = w.rng
    if not w.customers or (
        rate_at(cfg.scenario, cfg.rate, 0, cfg.duration) <= 0 and cfg.scenario != "rush"
    ):
        return
    while not w.stopping:
        t = time.time() - w.t0
        rate = rate_at(cfg.scenario, cfg.rate, t, cfg.duration) / w.nprocs
        if rate <= 0:
            await asyncio.sleep(0.5)
            continue
        await asyncio.sleep(rng.expovariate(rate))
        if w.stopping:
            return
        place_one(w)


def idle_customers(w: Crowd, max_active: int = 1) -> list[CustomerSim]:
    return [
        c for c in w.customers if c.active < max_active and c.sock is not None and c.sock.connected
    ]


def place_one(w: Crowd, mode: str | None = None, at_centre: bool = False) -> bool:
    cfg, rng = w.cfg, w.rng
    cands = idle_customers(w, 1) or idle_customers(w, 2) or (at_centre and idle_customers(w, 99))
    if not cands:
        w.metrics.inc("orders skipped (every customer busy)")
        return False
    c = rng.choice(cands)
    mode = mode or pick(rng, cfg.mix)
    urgent = rng.random() < cfg.urgent
    provider_id = None
    if at_centre:
        x, y = 0.0, 0.0
    else:
        x, y = w.city.random_point(rng)
    if mode == "direct":
        idle = [p for p in w.providers if p.online and p.job is None and p.provider_id]
        if not idle:
            mode = "grab"
        else:
            p = rng.choice(idle)
            provider_id = p.provider_id
            px, py, _h, _s = p.mover.position(time.time())
            x, y = w.city.near(rng, px, py, 1500.0)
    w.spawn(c.place_order(mode, urgent, x, y, provider_id))
    return True


async def _storms(w: Crowd) -> None:
    """Worker 0 places one grab order at the centre every ``storm_every`` s."""
    if w.index != 0:
        return
    await asyncio.sleep(min(2.0, w.cfg.storm_every / 3))
    while not w.stopping:
        place_one(w, mode="grab", at_centre=True)
        w.metrics.inc("storm orders")
        await asyncio.sleep(w.cfg.storm_every)


async def _reconnect_storm(w: Crowd, at: float) -> None:
    await asyncio.sleep(max(0.0, w.t0 + at - time.time()))
    if w.stopping:
        return
    w.expect_drops = True
    w.metrics.inc("reconnect storms")
    parties = w.providers + w.customers
    for p in parties:
        if p.sock is not None and p.sock.connected:
            p.dropped_at = time.time()
            p.sock.abort()
    await asyncio.sleep(10.0)
    w.expect_drops = False


async def _ramp(w: Crowd) -> None:
    """Bring this worker's providers online at evenly spaced times over 80 % of the run."""
    span = w.cfg.duration * 0.8
    total = max(1, w.cfg.providers)
    for p in sorted(w.providers, key=lambda p: p.idx):
        at = w.t0 + span * p.idx / total
        await asyncio.sleep(max(0.0, at - time.time()))
        if w.stopping:
            return
        if p.sock is not None and p.sock.connected and not p.online:
            w.spawn(p.go_online())
