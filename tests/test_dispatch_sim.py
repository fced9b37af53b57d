"""The dispatch simulation (load/dispatch_sim): a small, fast run of every scenario with the
real engine; its invariants, its figures' bounds and its report files."""

from __future__ import annotations

import json
from collections import Counter
from itertools import pairwise

import pytest

from load.dispatch_sim import cli
from load.dispatch_sim.engine import Sim
from load.dispatch_sim.metrics import gini, lorenz, summarize
from load.dispatch_sim.scenarios import GROUPS, pick
from load.dispatch_sim.world import make_world

SMALL = {"providers": 200, "per_min": 60.0, "duration_s": 300.0, "seed": 7}


@pytest.fixture(scope="module")
def world():
    return make_world(
        SMALL["providers"], SMALL["per_min"], SMALL["duration_s"], SMALL["seed"], warmup_s=30
    )


@pytest.fixture(scope="module")
def sims(world):
    return {s.name: Sim(world, s).run() for s in pick(["nearest", "weighted"], list(GROUPS))}


def test_the_same_seed_makes_the_same_world():
    a, b = make_world(50, 30, 120, 3), make_world(50, 30, 120, 3)
    assert a.providers == b.providers
    assert a.orders.t.tolist() == b.orders.t.tolist()
    assert make_world(50, 30, 120, 4).orders.t.tolist() != a.orders.t.tolist()


def test_every_order_is_taken_at_most_once_and_by_one_provider(sims):
    for name, sim in sims.items():
        taken = Counter(order_id for order_id, _, _ in sim.accepts)
        assert taken and max(taken.values()) == 1, name
        for o in sim.runs:
            assert (o.provider is not None) == o.done, name
            assert o.expired_at is None or not o.done, name


def test_no_provider_is_on_two_jobs_at_once(sims):
    for name, sim in sims.items():
        for jobs in sim.fleet.jobs:
            for a, b in pairwise(sorted(jobs)):
                assert b[0] >= a[1], name


def test_every_order_ends_taken_or_expired_and_no_offer_stays_open(sims):
    for name, sim in sims.items():
        assert len(sim.runs) == len(sim.world.orders), name
        assert all(o.done or o.expired_at is not None for o in sim.runs), name
        assert all(n == 0 for n in sim.fleet.open_offers), name


def test_figures_are_within_bounds(sims):
    for name, sim in sims.items():
        m = summarize(sim)
        assert all(v == 0 for v in m["checks"].values()), (name, m["checks"])
        assert m["orders"] == len(sim.counted()) > 0
        assert 0 <= m["accepted_pct"] <= 100
        assert 0 <= m["gini"] <= 1
        assert 0 <= m["utilisation_pct"] <= 100
        assert 0 <= m["expired"] <= m["reached_alert"] <= m["orders"]
        reach = max(sim.policy.max_radius_m, sim.policy.grab_radius_m)
        assert 0 <= m["pickup_mean_m"] <= reach and 0 <= m["pickup_p90_m"] <= reach
        assert 0 <= m["accept_mean_s"] <= m["accept_p90_s"] * 2 and m["accept_p90_s"] <= 900
        taken = sum(1 for o in sim.counted() if o.done)
        assert sum(m["pickup_histogram"]["counts"]) == taken
        assert m["lorenz"][0] == [0.0, 0.0] and m["lorenz"][-1][1] == pytest.approx(1.0)
        if "grab" in m:
            g = m["grab"]
            assert g["grab_wins"] == m["taken_by"].get("grab", 0)
            assert 0 <= g["fell_through_pct"] <= 100 and 0 <= g["grab_success_pct"] <= 100


def test_the_engine_filters_and_strategies_ran(sims):
    auto = sims["auto-weighted"]
    assert auto.counts["screenings"] > 0 and auto.counts["personal offers"] > 0
    assert {"offline", "outside_service_area"} <= set(auto.reasons)
    assert sims["grab"].counts["grab offers"] > 0
    assert sims["grab-no-cooldown"].fleet.cooldowns == 0


def test_the_optimal_window_is_never_longer_than_greedy_on_the_same_windows(sims):
    for name in ("window-optimal", "window-greedy"):
        w = sims[name].window
        assert w.windows
        for one in w.windows:
            (n_opt, km_opt), (n_gr, km_gr) = one["optimal"], one["greedy"]
            assert n_opt >= n_gr
            if n_opt == n_gr:
                assert km_opt <= km_gr + 1e-6
        s = w.summary()
        assert s["same_count_optimal_km"] <= s["same_count_greedy_km"]


def test_gini_and_lorenz():
    assert gini([1, 1, 1, 1]) == 0.0
    assert gini([0, 0, 0, 4]) == pytest.approx(0.75)
    assert gini([]) == 0.0
    assert lorenz([0, 0, 0, 4], points=4) == [[0, 0], [0.25, 0], [0.5, 0], [0.75, 0], [1, 1]]


def test_the_command_writes_the_report(tmp_path, capsys):
    rc = cli.main(
        [
            "--providers", "150", "--rate", "40", "--duration", "120", "--warmup", "0",
            "--groups", "auto,window", "--strategies", "nearest", "--jobs", "1",
            "--quiet", "--out", str(tmp_path),
        ]
    )  # fmt: skip
    assert rc == 0
    data = json.loads((tmp_path / "dispatch-sim.json").read_text())
    assert data["checks_ok"] is True
    assert list(data["scenarios"]) == [
        "auto-nearest",
        "auto-no-cooldown",
        "window-optimal",
        "window-greedy",
    ]
    page = (tmp_path / "dispatch-sim.html").read_text()
    assert page.startswith("<!doctype html>") and "<svg" in page
    assert "<script" not in page and "http" not in page.split("</title>")[1]
    assert "auto-nearest" in capsys.readouterr().out
