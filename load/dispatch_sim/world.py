"""The simulated city: its service areas, its providers (with how each behaves) and the
stream of orders, all drawn from one seed so every scenario sees the same world.

A 30 × 30 km square around Shenzhen's centre (22.54, 114.06); positions are drawn in local
metres (x east, y north) and kept as WGS-84, which is what the engine measures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CENTRE = (22.54, 114.06)
HALF_M = 15_000.0  # the city spans ±15 km around the centre
M_PER_DEG_LAT = 111_320.0
M_PER_DEG_LNG = M_PER_DEG_LAT * math.cos(math.radians(CENTRE[0]))

# (name, share of orders): the services; a provider's 1–3 skills are drawn by the same shares
SERVICES = (
    ("cleaning", 0.24),
    ("repair", 0.16),
    ("plumbing", 0.12),
    ("electrical", 0.12),
    ("moving help", 0.1),
    ("appliance", 0.1),
    ("pest control", 0.08),
    ("laundry pick-up", 0.08),
)
# where demand (and part of the supply) gathers: (x, y) in metres, spread σ 2.5 km
HOTSPOTS = ((0, 0), (-8000, 3000), (7000, -4000), (4000, 8000), (-5000, -9000))
HOTSPOT_SIGMA_M = 2500.0
# minutes on site: short, so that 2,000 providers can serve 200 orders a minute at all (each
# job, drive included, must average under ~9 min); see docs/dispatch-simulation.md
JOB_MINUTES = (0.5, 2.0)
ORDERS_AT_HOTSPOTS = 0.65
PROVIDERS_AT_HOTSPOTS = 0.4

# four service areas over the city, overlapping by 1 km on the middle lines (metres)
AREAS_XY = {
    1: [(-15500, -1000), (-15500, 15500), (1000, 15500), (1000, 4000), (-2000, -1000)],
    2: [(-1000, -1000), (-1000, 15500), (15500, 15500), (15500, -1000)],
    3: [(-15500, -15500), (-15500, 1000), (1000, 1000), (1000, -15500)],
    4: [(-2000, -15500), (-1000, 1000), (15500, 1000), (15500, -15500)],
}


def to_latlng(x: float, y: float) -> tuple[float, float]:
    return CENTRE[0] + y / M_PER_DEG_LAT, CENTRE[1] + x / M_PER_DEG_LNG


def in_polygon_xy(x: float, y: float, poly: list[tuple[float, float]]) -> bool:
    inside, n = False, len(poly)
    for i in range(n):
        (x1, y1), (x2, y2) = poly[i], poly[(i + 1) % n]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


@dataclass(frozen=True)
class Behaviour:
    """How one provider answers: personal offers (accept / decline / no answer) and grabs."""

    never_answers: bool  # offers to them time out; they never grab
    base: float  # the chance of saying yes to a job next door
    half_m: float  # ... which halves at this distance
    respond_s: float  # median seconds to answer a personal offer
    react_s: float  # median seconds from seeing a grab offer to tapping "grab"
    race_s: float  # ... in a tap race (an assistant app, or everyone racing): 0.25–0.8 s
    latency_s: float  # one-way network latency of their phone
    fix_every_s: float  # how often their phone sends a location fix
    fix_phase_s: float

    def accept_p(self, distance_m: float) -> float:
        if self.never_answers:
            return 0.0
        return self.base / (1.0 + math.exp((distance_m - self.half_m) / 800.0))


@dataclass(frozen=True)
class Provider:
    id: int
    lat: float
    lng: float
    skills: frozenset[int]
    areas: frozenset[int]
    rating: float
    online: bool
    verified: bool
    behaviour: Behaviour


@dataclass(frozen=True)
class Orders:
    """The order stream as arrays: order k (id k + 1) arrives at t[k] seconds."""

    t: np.ndarray
    lat: np.ndarray
    lng: np.ndarray
    service: np.ndarray  # service ids 1..len(SERVICES)
    duration_s: np.ndarray  # time on site

    def __len__(self) -> int:
        return len(self.t)


@dataclass(frozen=True)
class World:
    providers: list[Provider]
    orders: Orders
    areas: dict[int, list[list[float]]]  # area id → [[lat, lng], ...], as the engine reads
    duration_s: float  # the measured time, after the warm-up
    seed: int
    warmup_s: float = 0.0  # orders of the first warmup_s run but are not counted

    @property
    def end_s(self) -> float:
        return self.warmup_s + self.duration_s


def _points(rng: np.random.Generator, n: int, at_hotspots: float) -> tuple[np.ndarray, ...]:
    """n points in the city: a share around the hot spots, the rest uniform."""
    xy = rng.uniform(-HALF_M, HALF_M, size=(n, 2))
    hot = rng.random(n) < at_hotspots
    centres = np.array(HOTSPOTS, dtype=float)[rng.integers(0, len(HOTSPOTS), size=n)]
    xy[hot] = centres[hot] + rng.normal(0.0, HOTSPOT_SIGMA_M, size=(int(hot.sum()), 2))
    xy = np.clip(xy, -HALF_M + 50, HALF_M - 50)
    return xy[:, 0], xy[:, 1]


def _behaviour(rng: np.random.Generator) -> Behaviour:
    fast = rng.random() < 0.15  # a few tap "grab" almost at once
    fix_every = 600.0 if rng.random() < 0.03 else 30.0  # a few phones report rarely
    return Behaviour(
        never_answers=bool(rng.random() < 0.05),
        base=float(rng.uniform(0.7, 0.97)),
        half_m=float(rng.uniform(2500, 6000)),
        respond_s=float(np.clip(rng.lognormal(math.log(5.0), 0.4), 1.5, 15.0)),
        react_s=float(rng.uniform(0.3, 0.8) if fast else rng.lognormal(math.log(2.5), 0.4)),
        race_s=float(rng.uniform(0.25, 0.8)),
        latency_s=float(np.clip(rng.lognormal(math.log(0.06), 0.7), 0.01, 0.6)),
        fix_every_s=fix_every,
        fix_phase_s=float(rng.uniform(0, fix_every)),
    )


def make_providers(rng: np.random.Generator, n: int) -> list[Provider]:
    xs, ys = _points(rng, n, PROVIDERS_AT_HOTSPOTS)
    shares = np.array([s for _, s in SERVICES])
    out = []
    for i in range(n):
        x, y = float(xs[i]), float(ys[i])
        k = int(rng.integers(1, 4))
        skills = rng.choice(len(SERVICES), size=k, replace=False, p=shares) + 1
        home = {a for a, poly in AREAS_XY.items() if in_polygon_xy(x, y, poly)}
        if rng.random() < 0.4:  # some also work another area (drawn at random)
            home.add(int(rng.integers(1, len(AREAS_XY) + 1)))
        lat, lng = to_latlng(x, y)
        out.append(
            Provider(
                id=i + 1,
                lat=lat,
                lng=lng,
                skills=frozenset(int(s) for s in skills),
                areas=frozenset(home),
                rating=round(float(rng.uniform(3.5, 5.0)), 2),
                online=bool(rng.random() < 0.96),
                verified=bool(rng.random() < 0.99),
                behaviour=_behaviour(rng),
            )
        )
    return out


def make_orders(
    rng: np.random.Generator, per_min: float, duration_s: float, job_min: tuple[float, float]
) -> Orders:
    """Poisson arrivals at per_min over duration_s; places and services as the city's."""
    rate = per_min / 60.0
    gaps = rng.exponential(1.0 / rate, size=int(rate * duration_s * 1.3) + 50)
    t = np.cumsum(gaps)
    t = t[t < duration_s]
    n = len(t)
    xs, ys = _points(rng, n, ORDERS_AT_HOTSPOTS)
    shares = np.array([s for _, s in SERVICES])
    return Orders(
        t=t,
        lat=CENTRE[0] + ys / M_PER_DEG_LAT,
        lng=CENTRE[1] + xs / M_PER_DEG_LNG,
        service=rng.choice(len(SERVICES), size=n, p=shares) + 1,
        duration_s=rng.uniform(job_min[0] * 60, job_min[1] * 60, size=n),
    )


def make_world(
    providers: int,
    per_min: float,
    duration_s: float,
    seed: int,
    job_min: tuple[float, float] = JOB_MINUTES,
    warmup_s: float = 0.0,
) -> World:
    """The same seed gives the same providers and the same orders (over warm-up + duration)."""
    areas = {a: [list(to_latlng(x, y)) for x, y in poly] for a, poly in AREAS_XY.items()}
    rng_p = np.random.default_rng([seed, 1])
    rng_o = np.random.default_rng([seed, 2])
    return World(
        providers=make_providers(rng_p, providers),
        orders=make_orders(rng_o, per_min, warmup_s + duration_s, job_min),
        areas=areas,
        duration_s=duration_s,
        seed=seed,
        warmup_s=warmup_s,
    )
