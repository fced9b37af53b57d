"""The providers' live state during one run, and the snapshots (filters.Candidate) the engine
reads.

Who is near an order comes from numpy over the providers with the order's skill and room
(the stand-in for the hub's geo index, which is kept per service and drops a provider at
capacity); offline and unverified providers are left in it so those filters have work too.
Every candidate it finds goes through the engine's filters and strategies.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from actors.dispatch.filters import Candidate, Slot
from actors.dispatch.policy import Policy
from load.dispatch_sim.world import SERVICES, World

EARTH_M = 6_371_000.0


def haversine_m(lat: float, lng: float, lats: np.ndarray, lngs: np.ndarray) -> np.ndarray:
    """The engine's distance (filters.distance_m), over arrays."""
    la1, la2 = np.radians(lat), np.radians(lats)
    dlat, dlng = la2 - la1, np.radians(lngs - lng)
    a = np.sin(dlat / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin(dlng / 2) ** 2
    return 2 * EARTH_M * np.arcsin(np.sqrt(a))


class Fleet:
    """Index i is provider id i + 1. Mutable lists, changed only by the engine's events."""

    def __init__(self, world: World, policy: Policy):
        self.world = world
        self.policy = policy
        ps = world.providers
        n = len(ps)
        self.n = n
        self.lat = np.array([p.lat for p in ps])
        self.lng = np.array([p.lng for p in ps])
        self.by_service = {
            s: np.array([i for i, p in enumerate(ps) if s in p.skills], dtype=np.int64)
            for s in range(1, len(SERVICES) + 1)
        }
        self.behaviour = [p.behaviour for p in ps]
        self.free = np.ones(n, dtype=bool)  # no job in hand: in the index
        self.slots: list[tuple[Slot, ...]] = [()] * n
        # an hour's spread of "idle since" at the start, so nobody starts with the same idle part
        self.idle_since = [-float((i * 7919) % 3600) for i in range(n)]
        self.cooldown_until = [0.0] * n
        self.streak = [0] * n  # declines and time-outs in a row
        self.accepted = [0] * n
        self.declined = [0] * n
        self.timed_out = [0] * n
        self.open_offers = [0] * n
        # (start, end, order id) of each job, drive included
        self.jobs: list[list[tuple[float, float, int]]] = [[] for _ in range(n)]
        self.grabs: list[deque[float]] = [deque() for _ in range(n)]
        self.cooldowns = 0  # cool-downs started

    # --- what the engine reads -------------------------------------------------------------

    def near(
        self, lat: float, lng: float, service: int, radius_m: float
    ) -> list[tuple[int, float]]:
        """(index, metres) of the providers with the skill and room within radius_m."""
        idx = self.by_service[service]
        idx = idx[self.free[idx]]
        d = haversine_m(lat, lng, self.lat[idx], self.lng[idx])
        keep = d <= radius_m
        return list(zip(idx[keep].tolist(), d[keep].tolist(), strict=True))

    def candidate(self, i: int, distance_m: float, now: float) -> Candidate:
        p = self.world.providers[i]
        b = p.behaviour
        return Candidate(
            provider_id=p.id,
            distance_m=distance_m,
            online=p.online,
            verified=p.verified,
            skills=p.skills,
            areas=p.areas,
            capacity=1,
            slots=self.slots[i],
            fix_at=now - (now + b.fix_phase_s) % b.fix_every_s,
            cooldown_until=self.cooldown_until[i],
            open_offers=self.open_offers[i],
            rating=p.rating,
            accepted=self.accepted[i],
            declined=self.declined[i],
            timed_out=self.timed_out[i],
            idle_since=self.idle_since[i],
        )

    def candidates(
        self, lat: float, lng: float, service: int, radius_m: float, now: float
    ) -> list[Candidate]:
        return [self.candidate(i, d, now) for i, d in self.near(lat, lng, service, radius_m)]

    def busy(self, i: int) -> bool:
        return bool(self.slots[i])

    # --- what happens to a provider --------------------------------------------------------

    def start_job(
        self,
        i: int,
        order_id: int,
        lat: float,
        lng: float,
        metres: float,
        on_site_s: float,
        now: float,
    ) -> float:
        """Drive to the job at travel_kmh, do it, be free there: → when free."""
        travel_s = metres / max(self.policy.travel_kmh, 1.0) * 3.6
        end = now + travel_s + on_site_s
        self.slots[i] = (Slot(order_id, None, on_site_s, lat, lng),)
        self.free[i] = False
        self.jobs[i].append((now, end, order_id))
        return end

    def finish_job(self, i: int, now: float) -> None:
        slot = self.slots[i][0]
        self.lat[i], self.lng[i] = slot.lat, slot.lng
        self.slots[i] = ()
        self.free[i] = True
        self.idle_since[i] = now

    def said_yes(self, i: int) -> None:
        self.accepted[i] += 1
        self.streak[i] = 0

    def missed(self, i: int, now: float, timed_out: bool) -> None:
        """A declined or timed-out personal offer; enough in a row rest the provider."""
        if timed_out:
            self.timed_out[i] += 1
        else:
            self.declined[i] += 1
        self.streak[i] += 1
        if self.policy.cooldown_after and self.streak[i] >= self.policy.cooldown_after:
            self.streak[i] = 0
            if self.policy.cooldown_s > 0:
                self.cooldown_until[i] = now + self.policy.cooldown_s
                self.cooldowns += 1

    def may_grab(self, i: int, now: float) -> bool:
        """The per-provider grab rate limit: grab_per_min in any 60 s. Counts this grab."""
        q = self.grabs[i]
        while q and q[0] <= now - 60.0:
            q.popleft()
        if len(q) >= self.policy.grab_per_min:
            return False
        q.append(now)
        return True

    # --- figures ---------------------------------------------------------------------------

    def busy_seconds(self, start: float, end: float) -> float:
        return sum(max(0.0, min(e, end) - max(s, start)) for jobs in self.jobs for s, e, _ in jobs)

    def active(self) -> list[int]:
        """Indexes of providers who could ever get an order (online and verified)."""
        return [i for i, p in enumerate(self.world.providers) if p.online and p.verified]
