"""Who may get an order: one pipeline of named filters over candidate snapshots.

Each filter is a predicate with the reason an excluded provider keeps; the pipeline runs them
in order and a provider is excluded by the first that fails, so every exclusion has exactly
one reason. Pure: times are epoch seconds passed in, distances already measured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from math import asin, cos, radians, sin, sqrt
from typing import NamedTuple

from actors.dispatch.policy import Policy


@dataclass(frozen=True)
class Slot:
    """An order a provider holds: when it starts (None: now), how long, and where."""

    order_id: int
    start: float | None
    duration_s: float
    lat: float
    lng: float


@dataclass(frozen=True)
class Candidate:
    """What dispatch knows of one provider at one moment (its card, its fix, its distance)."""

    provider_id: int
    distance_m: float  # from the order, as the index measured it (no position needed beyond)
    online: bool = True
    verified: bool = True
    skills: frozenset[int] = frozenset()
    areas: frozenset[int] = frozenset()
    capacity: int = 1
    slots: tuple[Slot, ...] = ()
    fix_at: float | None = None  # epoch seconds of the last location fix
    cooldown_until: float = 0.0
    open_offers: int = 0
    rating: float = 4.5
    accepted: int = 0
    declined: int = 0
    timed_out: int = 0
    idle_since: float | None = None  # when the provider last became free


@dataclass(frozen=True)
class Job:
    """The order being dispatched, as the filters and strategies see it."""

    order_id: int
    service_id: int
    lat: float
    lng: float
    duration_s: float = 3600.0
    start: float | None = None  # a scheduled order's slot (epoch seconds), else now
    lead_s: float = 3600.0  # scheduled orders: dispatch starts this long before the slot
    # area id → polygon [[lat, lng], ...]: the areas a provider may serve, to test the point
    areas: dict[int, list] = field(default_factory=dict)
    excluded: frozenset[int] = frozenset()  # declined, timed out or already offered
    previous: frozenset[int] = frozenset()  # providers this customer had before


class Context(NamedTuple):
    job: Job
    policy: Policy
    now: float


def point_in_polygon(lat: float, lng: float, polygon: list) -> bool:
    """Ray casting over [[lat, lng], ...] (a city-sized polygon; the plane is fine)."""
    inside, n = False, len(polygon)
    for i in range(n):
        (y1, x1), (y2, x2) = polygon[i], polygon[(i + 1) % n]
        if (y1 > lat) != (y2 > lat):
            cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lng < cross:
                inside = not inside
    return inside


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Metres between two WGS-84 points (haversine; plenty for a city)."""
    dlat, dlng = radians(lat2 - lat1), radians(lng2 - lng1)
    a = sin(dlat / 2) ** 2 + cos(radians(lat1)) * cos(radians(lat2)) * sin(dlng / 2) ** 2
    return 2 * 6_371_000 * asin(sqrt(a))


def load_now(slots: tuple[Slot, ...] | list[Slot], now: float, lead_s: float) -> int:
    """Orders that occupy the provider now: unscheduled ones, and scheduled ones whose slot is
    within the lead time (a job tomorrow does not take today's capacity)."""
    return sum(1 for s in slots if s.start is None or s.start - now <= lead_s)


def _travel_s(policy: Policy, metres: float) -> float:
    return metres / max(policy.travel_kmh, 1.0) * 3.6


def _in_area(c: Candidate, x: Context) -> bool:
    polygons = [x.job.areas[a] for a in c.areas if a in x.job.areas]
    return any(point_in_polygon(x.job.lat, x.job.lng, p) for p in polygons)


def _free_for_slot(c: Candidate, x: Context) -> bool:
    """The job's time (plus travel to it) does not overlap another job of this provider's
    (plus travel between the two)."""
    job, policy = x.job, x.policy
    start = job.start if job.start is not None else x.now + _travel_s(policy, c.distance_m)
    end = start + job.duration_s
    for s in c.slots:
        if s.start is None:
            continue  # a job in hand now is counted by capacity
        gap = _travel_s(policy, distance_m(s.lat, s.lng, job.lat, job.lng))
        if start < s.start + s.duration_s + gap and s.start < end + gap:
            return False
    return True


def _fresh(c: Candidate, x: Context) -> bool:
    return c.fix_at is not None and x.now - c.fix_at <= x.policy.fix_max_age_s


# (reason, predicate): in the order they run. The reason is what an explanation shows.
FILTERS: tuple[tuple[str, Callable[[Candidate, Context], bool]], ...] = (
    ("offline", lambda c, x: c.online),
    ("not_verified", lambda c, x: c.verified),
    ("no_skill", lambda c, x: x.job.service_id in c.skills),
    ("outside_service_area", _in_area),
    ("already_tried", lambda c, x: c.provider_id not in x.job.excluded),
    ("at_capacity", lambda c, x: load_now(c.slots, x.now, x.job.lead_s) < c.capacity),
    ("schedule_conflict", _free_for_slot),
    ("stale_location", _fresh),
    ("cooling_down", lambda c, x: c.cooldown_until <= x.now),
    ("too_many_offers", lambda c, x: c.open_offers < x.policy.max_open_offers),
)
REASONS = tuple(reason for reason, _ in FILTERS)


class Screened(NamedTuple):
    eligible: list[Candidate]
    excluded: list[tuple[Candidate, str]]


def screen(job: Job, candidates: list[Candidate], policy: Policy, now: float) -> Screened:
    """Split candidates into the eligible and the excluded, each with its first failed filter."""
    ctx = Context(job, policy, now)
    eligible, excluded = [], []
    for c in candidates:
        reason = next((r for r, holds in FILTERS if not holds(c, ctx)), None)
        if reason is None:
            eligible.append(c)
        else:
            excluded.append((c, reason))
    return Screened(eligible, excluded)
