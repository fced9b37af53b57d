"""The fallback chain of one order: its state, and what the next step is.

The state is a small JSON object on the order row (orders.dispatch), written with each step's
order event, so a host that restarts resumes the dispatch where it was:

    {"stage": "batches", "batch": 2, "radiusM": 5000, "offered": [7, 9], "tried": [3, 7, 9],
     "until": 1764400000.0, "pinned": false}

Pure: the order actor (and the simulation) supply the ranked candidates and the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import orjson

from actors.dispatch.filters import Candidate
from actors.dispatch.policy import Policy
from actors.dispatch.scoring import Scored

EXCLUDED_KEPT = 100  # excluded providers an explanation lists (nearest first)


@dataclass(frozen=True)
class State:
    stage: str = ""  # "" before dispatch starts; "scheduled" while waiting for the lead time
    batch: int = 0  # batches sent in the batches stage
    radius_m: float = 0.0
    offered: tuple[int, ...] = ()  # providers holding this stage's personal offers now
    tried: tuple[int, ...] = ()  # providers offered before (they are not offered again)
    until: float = 0.0  # epoch seconds: when this stage or batch ends
    pinned: bool = False  # the chain ran out: staff must act
    reminded: bool = False  # a scheduled order's provider was reminded of the slot

    def to_json(self) -> dict:
        return {
            "stage": self.stage,
            "batch": self.batch,
            "radiusM": self.radius_m,
            "offered": list(self.offered),
            "tried": list(self.tried),
            "until": self.until,
            "pinned": self.pinned,
            "reminded": self.reminded,
        }

    @classmethod
    def from_json(cls, data: dict | None) -> State:
        if not data:
            return cls()
        return cls(
            stage=data.get("stage", ""),
            batch=int(data.get("batch", 0)),
            radius_m=float(data.get("radiusM", 0.0)),
            offered=tuple(data.get("offered", ())),
            tried=tuple(data.get("tried", ())),
            until=float(data.get("until", 0.0)),
            pinned=bool(data.get("pinned", False)),
            reminded=bool(data.get("reminded", False)),
        )

    def without_offer(self, provider_id: int) -> State:
        """A provider in the batch declined or timed out: out of the batch, still tried."""
        return replace(self, offered=tuple(p for p in self.offered if p != provider_id))


def first_stage(mode: str, policy: Policy) -> str:
    return policy.stages_for(mode)[0]


def next_stage(mode: str, stage: str, policy: Policy) -> str | None:
    """The stage after `stage` in this mode's chain; None when the chain has run out."""
    stages = policy.stages_for(mode)
    if stage not in stages:
        return stages[0]
    i = stages.index(stage)
    return stages[i + 1] if i + 1 < len(stages) else None


def plan_batch(ranked: list[Scored], state: State, policy: Policy) -> tuple[float, list[Scored]]:
    """The next batch: up to batch_size of the best not offered before, within the smallest
    radius (from the current one up, by step) that fills the batch; (radius, chosen)."""
    tried = set(state.tried)
    fresh = [s for s in ranked if s.provider_id not in tried]
    radii = [r for r in policy.radii() if r >= state.radius_m] or [policy.max_radius_m]
    for radius in radii:
        chosen = [s for s in fresh if s.candidate.distance_m <= radius][: policy.batch_size]
        if len(chosen) == policy.batch_size or radius == radii[-1]:
            return radius, chosen
    return radii[-1], []  # unreachable: the last radius always returns


def batches_left(state: State, policy: Policy) -> bool:
    return state.batch < policy.max_batches


def explain(
    stage: str,
    ranked: list[Scored],
    excluded: list[tuple[Candidate, str]],
    chosen: list[int],
    policy: Policy,
    **facts,
) -> dict:
    """What one decision considered: the top candidates with their score parts, and every
    excluded provider (the nearest EXCLUDED_KEPT) with its reason."""
    picked = set(chosen)
    top = ranked[: max(policy.explain_top, len(picked))]
    top += [s for s in ranked[len(top) :] if s.provider_id in picked]
    near = sorted(excluded, key=lambda e: (e[0].distance_m, e[0].provider_id))
    return {
        "stage": stage,
        "strategy": policy.strategy,
        **facts,
        "chosen": list(chosen),
        "eligible": len(ranked),
        "candidates": [
            {
                "providerId": s.provider_id,
                "distanceM": round(s.candidate.distance_m),
                "score": s.score,
                "parts": s.parts,
                "chosen": s.provider_id in picked,
            }
            for s in top
        ],
        "excluded": [
            {"providerId": c.provider_id, "distanceM": round(c.distance_m), "reason": why}
            for c, why in near[:EXCLUDED_KEPT]
        ],
        "excludedCount": len(excluded),
    }


def state_of(order: dict) -> State:
    """The dispatch state on an order row (a JSON string as read from MySQL, or a dict)."""
    raw = order.get("dispatch")
    if isinstance(raw, str | bytes):
        raw = orjson.loads(raw)
    return State.from_json(raw)


def dumps(state: State) -> str:
    """The column value of a state."""
    return orjson.dumps(state.to_json()).decode()


def offered_to(order: dict) -> set[int]:
    """Every provider holding a personal offer of this order now (batch, direct, assigned)."""
    held = set(state_of(order).offered)
    if order.get("offered_provider_id"):
        held.add(order["offered_provider_id"])
    return held
