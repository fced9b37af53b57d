"""The figures of one finished run: what the orders got, how evenly the providers got them,
and the checks every run must pass (no order taken twice, nobody on two jobs at once)."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

import numpy as np

from load.dispatch_sim.engine import Sim

HIST_STEP_M = 250.0
HIST_MAX_M = 7500.0
LORENZ_POINTS = 50


def gini(values) -> float:
    """0: everyone got the same; 1: one got everything."""
    v = np.sort(np.asarray(values, dtype=float))
    n, total = len(v), v.sum()
    if n == 0 or total == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2 * (ranks * v).sum()) / (n * total) - (n + 1) / n)


def lorenz(values, points: int = LORENZ_POINTS) -> list[list[float]]:
    """[share of providers, share of orders] from the fewest orders up."""
    v = np.sort(np.asarray(values, dtype=float))
    if len(v) == 0 or v.sum() == 0:
        return [[0.0, 0.0], [1.0, 1.0]]
    cum = np.concatenate([[0.0], np.cumsum(v) / v.sum()])
    xs = np.linspace(0, 1, points + 1)
    ys = np.interp(xs, np.linspace(0, 1, len(cum)), cum)
    return [[round(float(x), 3), round(float(y), 4)] for x, y in zip(xs, ys, strict=True)]


def _mean(a) -> float | None:
    return round(float(np.mean(a)), 1) if len(a) else None


def _p90(a) -> float | None:
    return round(float(np.percentile(a, 90)), 1) if len(a) else None


def checks(sim: Sim) -> dict[str, int]:
    """Every count must be 0."""
    taken = Counter(order_id for order_id, _, _ in sim.accepts)
    overlaps = 0
    for jobs in sim.fleet.jobs:
        ordered = sorted(jobs)
        overlaps += sum(1 for a, b in pairwise(ordered) if b[0] < a[1])
    reach = max(sim.policy.max_radius_m, sim.policy.grab_radius_m)
    return {
        "orders taken twice": sum(1 for n in taken.values() if n > 1),
        "providers on two jobs at once": overlaps,
        "pickups beyond the furthest radius": sum(
            1 for o in sim.runs if o.pickup_m is not None and o.pickup_m > reach + 1e-6
        ),
        "open offers left at the end": sum(1 for n in sim.fleet.open_offers if n != 0),
    }


def summarize(sim: Sim) -> dict:
    runs, fleet, world = sim.counted(), sim.fleet, sim.world
    taken = [o for o in runs if o.done]
    pickup = np.array([o.pickup_m for o in taken])
    wait = np.array([o.accepted_at - o.t for o in taken])
    active = fleet.active()
    per_provider = Counter(o.provider for o in taken)
    counts_active = [per_provider.get(i, 0) for i in active]
    n = len(runs)
    offers = sim.counts["personal offers"]
    hist = np.histogram(pickup, bins=np.arange(0, HIST_MAX_M + HIST_STEP_M, HIST_STEP_M))[0]
    out = {
        "scenario": sim.scenario.name,
        "about": sim.scenario.about,
        "group": sim.scenario.group,
        "orders": n,
        "accepted_pct": round(100.0 * len(taken) / n, 2) if n else None,
        "reached_alert": sum(1 for o in runs if o.alert_at is not None),
        "expired": sum(1 for o in runs if o.expired_at is not None),
        "pickup_mean_m": _mean(pickup),
        "pickup_p90_m": _p90(pickup),
        "accept_mean_s": _mean(wait),
        "accept_p90_s": _p90(wait),
        "offer_acceptance_pct": (
            round(100.0 * sim.counts["offers accepted"] / offers, 1) if offers else None
        ),
        "gini": round(gini(counts_active), 3),
        "utilisation_pct": round(
            100.0
            * fleet.busy_seconds(world.warmup_s, world.end_s)
            / (len(active) * world.duration_s),
            1,
        ),
        "providers_active": len(active),
        "providers_with_orders": sum(1 for c in counts_active if c),
        "taken_by": dict(Counter(o.how for o in taken).most_common()),
        "counts": dict(sorted(sim.counts.items())),  # warm-up included
        "cooldowns_started": fleet.cooldowns,
        "exclusions": dict(sim.reasons.most_common()),
        "pickup_histogram": {"step_m": HIST_STEP_M, "counts": hist.tolist()},
        "lorenz": lorenz(counts_active),
        "checks": checks(sim),
        "wall_s": round(sim.wall_s, 2),
    }
    if sim.grab_hall:
        out["grab"] = grab_fairness(sim, active)
    if sim.window:
        out["window"] = sim.window.summary()
    return out


def grab_fairness(sim: Sim, active: list[int]) -> dict:
    """Who wins the grab hall. Shares of all wins going to the lowest-latency and to the
    fastest-reacting tenth of the providers (about 10 % if neither mattered), how often a grab
    sent by each tenth wins against everyone's rate, and the orders nobody grabbed in time."""
    beh = sim.fleet.behaviour
    lat = np.array([beh[i].latency_s for i in active])
    react_of = (lambda b: b.race_s) if sim.scenario.race else (lambda b: b.react_s)
    react = np.array([react_of(beh[i]) for i in active])
    low_lat = {i for i, v in zip(active, lat, strict=True) if v <= np.percentile(lat, 10)}
    fast = {i for i, v in zip(active, react, strict=True) if v <= np.percentile(react, 10)}
    runs = sim.counted()
    wins = Counter(o.provider for o in runs if o.how == "grab")
    tries = sim.grab_hall.attempts
    n = sum(wins.values())

    def share(group: set[int]) -> float | None:
        return round(100.0 * sum(wins[i] for i in group) / n, 1) if n else None

    def success(group) -> float | None:
        sent = sum(tries[i] for i in group)
        return round(100.0 * sum(wins[i] for i in group) / sent, 1) if sent else None

    return {
        "grab_wins": n,
        "wins_lowest_latency_decile_pct": share(low_lat),
        "wins_fastest_reaction_decile_pct": share(fast),
        "grab_success_pct": success(tries),
        "grab_success_lowest_latency_decile_pct": success(low_lat),
        "grab_success_fastest_reaction_decile_pct": success(fast),
        "grab_gini": round(gini([wins.get(i, 0) for i in active]), 3),
        "fell_through_pct": (
            round(100.0 * sum(1 for o in runs if o.fell_through) / len(runs), 1) if runs else None
        ),
    }
