"""The grab hall: an order offered to every eligible provider within grab_radius_m at once
(filters.screen + scoring.rank), and again every ROUND_S to the newly eligible, for
grab_window_s. The first grab to reach the hub wins.

Timing of one provider: the offer reaches the phone after a random reveal delay (0 ..
reveal_ms, drawn per offer: the fairness setting) plus the phone's one-way latency; the
provider decides at once whether the job is worth it (the same distance-based chance as a
personal offer) and taps after a reaction time (people: ~2.5 s, a few quick ones 0.3–0.8 s;
in a race scenario everyone 0.25–0.8 s); the grab reaches the hub one latency later.
At the hub: the grab rate limit (grab_per_min in any 60 s), then whether the order is still
in the hall, then the provider's capacity.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING

from actors.dispatch import plan

if TYPE_CHECKING:
    from load.dispatch_sim.engine import Run, Sim

ROUND_S = 60.0  # HUB_OFFER_TTL_S: the grab offer goes again to newly eligible providers


class GrabHall:
    def __init__(self, sim: Sim):
        self.sim = sim
        self.attempts: Counter[int] = Counter()  # grabs sent per provider (counted orders)

    def open(self, o: Run) -> None:
        sim = self.sim
        until = sim.now + sim.policy.grab_window_s
        o.state = replace(o.state, until=until)
        self._round(o, o.step)
        sim.at(until, self._close, o, o.step)

    def _round(self, o: Run, step: int) -> None:
        sim, fleet, policy = self.sim, self.sim.fleet, self.sim.policy
        if o.done or o.step != step:
            return
        ranked = sim.ranked(o, policy.grab_radius_m, excluded=o.crowd)
        reveal_s = policy.reveal_ms / 1000.0
        for s in ranked:
            i = s.provider_id - 1
            o.crowd.add(s.provider_id)
            o.holders.add(i)
            fleet.open_offers[i] += 1
            delay = sim.rng.uniform(0.0, reveal_s) if reveal_s > 0 else 0.0
            sim.at(
                sim.now + delay + fleet.behaviour[i].latency_s,
                self._see,
                o,
                step,
                i,
                s.candidate.distance_m,
            )
        sim.counts["grab offers"] += len(ranked)
        if sim.now + ROUND_S < o.state.until:
            sim.at(sim.now + ROUND_S, self._round, o, step)

    def _see(self, o: Run, step: int, i: int, metres: float) -> None:
        sim, fleet = self.sim, self.sim.fleet
        if o.done or o.step != step or fleet.busy(i):
            return  # withdrawn before it arrived, or the provider is on a job
        b = fleet.behaviour[i]
        if sim.rng.random() >= b.accept_p(metres):
            return
        react = (b.race_s if sim.scenario.race else b.react_s) * math.exp(sim.rng.gauss(0.0, 0.3))
        sim.at(sim.now + react + b.latency_s, self._grab, o, step, i, metres)

    def _grab(self, o: Run, step: int, i: int, metres: float) -> None:
        sim, fleet = self.sim, self.sim.fleet
        sim.counts["grabs sent"] += 1
        if o.t >= sim.world.warmup_s:
            self.attempts[i] += 1
        if not fleet.may_grab(i, sim.now):
            sim.counts["grabs refused: rate limit"] += 1
        elif o.done or o.step != step:
            sim.counts["grabs lost"] += 1
        elif fleet.busy(i):
            sim.counts["grabs refused: at capacity"] += 1
        else:
            sim.counts["grabs won"] += 1
            sim.win(o, i, "grab", metres)

    def _close(self, o: Run, step: int) -> None:
        sim = self.sim
        if o.done or o.step != step:
            return
        sim.withdraw(o)
        o.fell_through = True
        sim.counts["grab hall closed untaken"] += 1
        sim.enter(o, plan.next_stage(sim.mode, "grab", sim.policy))
