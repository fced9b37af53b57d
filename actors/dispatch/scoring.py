"""How eligible providers rank: pluggable strategies, each giving a score and its parts.

Higher is better. Ties break deterministically: nearer first, then the lower provider id, so
the same inputs always give the same order (and explanations can be replayed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from actors.dispatch.filters import Candidate, Job, load_now
from actors.dispatch.policy import Policy

IDLE_FULL_S = 3600.0  # an hour idle earns the whole idle part


class Scored(NamedTuple):
    candidate: Candidate
    score: float
    parts: dict[str, float]

    @property
    def provider_id(self) -> int:
        return self.candidate.provider_id


def _nearest(c: Candidate, job: Job, policy: Policy, now: float) -> dict[str, float]:
    return {"distance": -c.distance_m / 1000.0}


def acceptance_ratio(c: Candidate) -> float:
    """Accepted over personal offers that ended (accepted, declined or timed out), with a
    prior of 4 in 5 for newcomers."""
    return (c.accepted + 4) / (c.accepted + c.declined + c.timed_out + 5)


def _weighted(c: Candidate, job: Job, policy: Policy, now: float) -> dict[str, float]:
    """Each part in 0..1 (1 best), times its weight."""
    w = policy.weights
    reach = max(policy.max_radius_m, policy.grab_radius_m, 1.0)
    load = load_now(c.slots, now, job.lead_s) / max(c.capacity, 1)
    idle = 0.0 if c.idle_since is None else min(max(now - c.idle_since, 0.0) / IDLE_FULL_S, 1.0)
    parts = {
        "distance": w.distance * max(0.0, 1.0 - c.distance_m / reach),
        "rating": w.rating * min(max((c.rating - 1.0) / 4.0, 0.0), 1.0),
        "load": w.load * (1.0 - min(load, 1.0)),
        "acceptance": w.acceptance * acceptance_ratio(c),
        "idle": w.idle * idle,
        "previous": w.previous * (1.0 if c.provider_id in job.previous else 0.0),
    }
    return {k: round(v, 4) for k, v in parts.items()}


STRATEGIES: dict[str, Callable[[Candidate, Job, Policy, float], dict[str, float]]] = {
    "nearest": _nearest,
    "weighted": _weighted,
}


def rank(job: Job, eligible: list[Candidate], policy: Policy, now: float) -> list[Scored]:
    """The eligible, best first, each with its score and the parts it is the sum of."""
    parts_of = STRATEGIES[policy.strategy]
    scored = []
    for c in eligible:
        parts = parts_of(c, job, policy, now)
        scored.append(Scored(c, round(sum(parts.values()), 4), parts))
    scored.sort(key=lambda s: (-s.score, s.candidate.distance_m, s.candidate.provider_id))
    return scored
