"""One scenario's run: the real dispatch engine (actors.dispatch) driven by a discrete-event
clock, a heap of (time, seq, handler, args); no sleeps, no asyncio.

Each order runs its mode's chain (plan.first_stage / plan.next_stage of the policy):

- grab: the grab hall (grab.py); nobody grabs within grab_window_s → the next stage;
- batches: filters.screen + scoring.rank of the providers near the order, then
  plan.plan_batch picks up to batch_size not tried before (the candidates are fetched within
  the batch radius first and again within the next one only when that one does not fill
  the batch: the same choice as fetching all within max_radius_m, since a candidate's score
  does not depend on the others, for a fraction of the work); they get personal offers for
  batch_s. The first "yes" wins; when all said no the next batch goes at once; at batch_s
  the silent ones time out (a miss, like a decline: cooldown_after in a row rest them
  cooldown_s). An empty batch waits batch_s too (someone may come free). max_batches, then
  the next stage. With window_s > 0 an order's first batch is one provider, chosen for the
  whole window's orders at once (window.py);
- assign: the best-ranked eligible provider not tried gets the order outright;
- alert: staff are alerted (the order is unassigned); simulated staff run the same screen and
  rank every STAFF_RETRY_S, without the tried list, until the order expires.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from actors.dispatch import filters, plan, scoring
from actors.dispatch.plan import State
from actors.dispatch.scoring import Scored
from load.dispatch_sim.fleet import Fleet
from load.dispatch_sim.scenarios import Scenario
from load.dispatch_sim.world import World

STAFF_RETRY_S = 60.0  # how often the (simulated) staff try an alerted order again
EXPIRY_S = 900.0  # HUB_ORDER_EXPIRY_S: a pending order expires this long after it was made
PROGRESS_EVERY_S = 600.0  # simulated seconds between progress lines


@dataclass(slots=True, eq=False)
class Run:
    """One order's dispatch as it goes."""

    id: int
    t: float
    lat: float
    lng: float
    service: int
    on_site_s: float
    state: State = field(default_factory=State)
    step: int = 0  # bumped at each batch and stage: timers of an older step do nothing
    holders: set[int] = field(default_factory=set)  # provider indexes holding an open offer
    crowd: set[int] = field(default_factory=set)  # provider ids the grab hall offered it to
    windowed: bool = False
    fell_through: bool = False  # the grab hall closed with nobody having grabbed it
    done: bool = False
    provider: int | None = None
    accepted_at: float | None = None
    pickup_m: float | None = None
    how: str = ""  # grab | batch | window | assign | staff
    alert_at: float | None = None
    expired_at: float | None = None


class Sim:
    def __init__(self, world: World, scenario: Scenario, say: Callable[[str], None] | None = None):
        self.world, self.scenario = world, scenario
        self.policy = scenario.policy()
        self.mode = scenario.mode
        self.fleet = Fleet(world, self.policy)
        self.rng = random.Random(world.seed)
        self.say = say
        self.now = 0.0
        self.q: list = []
        self._seq = itertools.count()
        self.runs: list[Run] = []
        self.reasons: Counter[str] = Counter()  # exclusions per screening, by filter
        self.counts: Counter[str] = Counter()
        self.accepts: list[tuple[int, int, float]] = []  # (order id, provider id, time)
        self.grab_hall = self.window = None
        if self.mode == "grab":
            from load.dispatch_sim.grab import GrabHall

            self.grab_hall = GrabHall(self)
        if self.policy.window_s > 0:
            from load.dispatch_sim.window import Window

            self.window = Window(self, scenario.matcher or "optimal")
        self.wall_s = 0.0

    # --- the clock ---------------------------------------------------------------------------

    def at(self, t: float, handler: Callable, *args) -> None:
        heapq.heappush(self.q, (t, next(self._seq), handler, args))

    def run(self) -> Sim:
        started = time.perf_counter()
        orders = self.world.orders
        for k in range(len(orders)):
            self.at(float(orders.t[k]), self._arrive, k)
        mark = PROGRESS_EVERY_S
        q, pop = self.q, heapq.heappop
        while q:
            t, _, handler, args = pop(q)
            self.now = t
            handler(*args)
            if mark <= t <= self.world.end_s:
                self._progress(mark, started)
                mark += PROGRESS_EVERY_S
        self.wall_s = time.perf_counter() - started
        return self

    def counted(self) -> list[Run]:
        """The orders the figures cover: those made after the warm-up."""
        return [o for o in self.runs if o.t >= self.world.warmup_s]

    def _progress(self, mark: float, started: float) -> None:
        if self.say:
            taken = sum(1 for r in self.runs if r.done)
            self.say(
                f"[{self.scenario.name}] {mark:5.0f}/{self.world.end_s:.0f} s simulated · "
                f"{len(self.runs):,} orders, {taken:,} taken · "
                f"{time.perf_counter() - started:5.1f} s wall"
            )

    # --- the engine's view -------------------------------------------------------------------

    def ranked(self, o: Run, radius_m: float, excluded=None) -> list[Scored]:
        """filters.screen then scoring.rank over the candidates within radius_m."""
        job = filters.Job(
            order_id=o.id,
            service_id=o.service,
            lat=o.lat,
            lng=o.lng,
            duration_s=o.on_site_s,
            areas=self.world.areas,
            excluded=frozenset(o.state.tried if excluded is None else excluded),
        )
        cands = self.fleet.candidates(o.lat, o.lng, o.service, radius_m, self.now)
        eligible, out = filters.screen(job, cands, self.policy, self.now)
        for _, why in out:
            self.reasons[why] += 1
        self.counts["screenings"] += 1
        return scoring.rank(job, eligible, self.policy, self.now)

    # --- the chain ---------------------------------------------------------------------------

    def _arrive(self, k: int) -> None:
        ords = self.world.orders
        o = Run(
            id=k + 1,
            t=self.now,
            lat=float(ords.lat[k]),
            lng=float(ords.lng[k]),
            service=int(ords.service[k]),
            on_site_s=float(ords.duration_s[k]),
        )
        self.runs.append(o)
        self.enter(o, plan.first_stage(self.mode, self.policy))

    def enter(self, o: Run, stage: str | None) -> None:
        o.step += 1
        o.state = replace(o.state, stage=stage or "alert", batch=0, radius_m=0.0, offered=())
        if stage == "grab" and self.grab_hall:
            self.grab_hall.open(o)
        elif stage == "batches":
            if self.window and not o.windowed:
                self.window.add(o)
            else:
                self.batch(o)
        elif stage == "assign":
            self.assign(o)
        else:  # "alert", or the chain ran out
            self.alert(o)

    def batch(self, o: Run) -> None:
        if not plan.batches_left(o.state, self.policy):
            self.enter(o, plan.next_stage(self.mode, "batches", self.policy))
            return
        radii = [r for r in self.policy.radii() if r >= o.state.radius_m] or [
            self.policy.max_radius_m
        ]
        for reach in radii:  # the geo query grows with the batch radius, as plan_batch does
            ranked = self.ranked(o, reach)
            radius, chosen = plan.plan_batch(ranked, o.state, self.policy)
            if len(chosen) == self.policy.batch_size:
                break
        self.send(o, chosen, radius)

    def send(self, o: Run, chosen: list[Scored], radius: float) -> None:
        """Personal offers to `chosen` for batch_s; the batch ends then."""
        ids = tuple(s.provider_id for s in chosen)
        o.step += 1
        o.state = replace(
            o.state,
            batch=o.state.batch + 1,
            radius_m=radius,
            offered=ids,
            tried=o.state.tried + ids,
            until=self.now + self.policy.batch_s,
        )
        self.counts["batches"] += 1
        if not chosen:
            self.counts["empty batches"] += 1
        for s in chosen:
            self._offer(o, s.provider_id - 1, s.candidate.distance_m)
        self.at(o.state.until, self._batch_end, o, o.step)

    def _offer(self, o: Run, i: int, metres: float) -> None:
        o.holders.add(i)
        self.fleet.open_offers[i] += 1
        self.counts["personal offers"] += 1
        b = self.fleet.behaviour[i]
        if b.never_answers:
            return
        delay = b.respond_s * math.exp(self.rng.gauss(0.0, 0.5)) + 2 * b.latency_s
        yes = self.rng.random() < b.accept_p(metres)
        self.at(self.now + delay, self._answer, o, i, yes, metres)

    def _answer(self, o: Run, i: int, yes: bool, metres: float) -> None:
        if o.done or i + 1 not in o.state.offered:
            self.counts["answers after the offer ended"] += 1
            return
        if yes and not self.fleet.busy(i):
            self.fleet.said_yes(i)
            self.counts["offers accepted"] += 1
            self.win(o, i, "window" if o.windowed and o.state.batch == 1 else "batch", metres)
            return
        self._drop(o, i)
        if yes:
            self.counts["yes while busy (refused)"] += 1
        else:
            self.counts["offers declined"] += 1
            self.fleet.missed(i, self.now, timed_out=False)
        if not o.state.offered:  # everyone in the batch said no: the next batch now
            self.batch(o)

    def _drop(self, o: Run, i: int) -> None:
        o.holders.discard(i)
        self.fleet.open_offers[i] -= 1
        o.state = o.state.without_offer(i + 1)

    def _batch_end(self, o: Run, step: int) -> None:
        if o.done or o.step != step:
            return
        for pid in o.state.offered:
            self._drop(o, pid - 1)
            self.counts["offers timed out"] += 1
            self.fleet.missed(pid - 1, self.now, timed_out=True)
        self.batch(o)

    def assign(self, o: Run) -> None:
        ranked = self.ranked(o, self.policy.max_radius_m)
        if ranked:
            self.win(o, ranked[0].provider_id - 1, "assign", ranked[0].candidate.distance_m)
        else:
            self.enter(o, plan.next_stage(self.mode, "assign", self.policy))

    def alert(self, o: Run) -> None:
        o.state = replace(o.state, pinned=True)
        o.alert_at = self.now
        self.at(min(self.now + STAFF_RETRY_S, o.t + EXPIRY_S), self._staff, o)

    def _staff(self, o: Run) -> None:
        if o.done:
            return
        ranked = self.ranked(o, self.policy.max_radius_m, excluded=())
        if ranked:
            self.win(o, ranked[0].provider_id - 1, "staff", ranked[0].candidate.distance_m)
        elif self.now >= o.t + EXPIRY_S - 1e-6:
            o.expired_at = self.now
        else:
            self.at(min(self.now + STAFF_RETRY_S, o.t + EXPIRY_S), self._staff, o)

    # --- the end of a dispatch -----------------------------------------------------------------

    def withdraw(self, o: Run) -> None:
        """Every open offer of this order is withdrawn (no miss for anyone)."""
        for i in o.holders:
            self.fleet.open_offers[i] -= 1
        o.holders.clear()
        o.state = replace(o.state, offered=())

    def win(self, o: Run, i: int, how: str, metres: float) -> None:
        o.done, o.provider, o.accepted_at, o.pickup_m, o.how = True, i, self.now, metres, how
        o.step += 1
        self.withdraw(o)
        self.accepts.append((o.id, i + 1, self.now))
        end = self.fleet.start_job(i, o.id, o.lat, o.lng, metres, o.on_site_s, self.now)
        self.at(end, self.fleet.finish_job, i, end)
