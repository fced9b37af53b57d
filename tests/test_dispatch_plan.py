"""The dispatch engine's policy, fallback-chain plan and window matching (CONTRACT §10,
issue #10), with no services: policies merged and refused field by field, the chain walked
stage by stage, batches over a growing radius, explanations, and the assignment problem
against greedy on fixed cost matrices."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import pytest

from actors.dispatch.filters import Candidate, Job
from actors.dispatch.matching import greedy, optimal, total
from actors.dispatch.plan import (
    EXCLUDED_KEPT,
    State,
    batches_left,
    explain,
    first_stage,
    next_stage,
    plan_batch,
)
from actors.dispatch.policy import Policy, PolicyError, Weights, layers, merged
from actors.dispatch.scoring import rank

NOW = 1_764_400_000.0
JOB = Job(order_id=1, service_id=5, lat=31.23, lng=121.47)


def cand(pid: int, distance: float) -> Candidate:
    return Candidate(provider_id=pid, distance_m=distance)


def nearest(*distances: float, policy: Policy | None = None):
    """Providers 1, 2, ... at these distances, ranked nearest first."""
    policy = policy or merged({"strategy": "nearest"})
    cands = [cand(i + 1, d) for i, d in enumerate(distances)]
    return rank(JOB, cands, policy, NOW)


# --- policy ----------------------------------------------------------------------------------


def test_merged_without_overrides_is_the_defaults():
    p = merged()
    assert p == Policy() == merged({}, None)
    assert p.chain == ("grab", "batches", "assign", "alert") and p.strategy == "weighted"
    assert (p.min_radius_m, p.max_radius_m, p.radius_step_m) == (3000.0, 7000.0, 2000.0)
    assert (p.batch_size, p.max_batches) == (3, 3)
    assert p.weights == Weights()
    assert p.to_json()["chain"] == list(p.chain) and p.to_json()["weights"]["distance"] == 0.45


def test_merged_applies_overrides_general_first():
    area = {"batch_size": 5, "strategy": "nearest", "weights": {"rating": 1}}
    service = {"batch_size": 2, "chain": ["batches", "alert"], "weights": {"idle": 0}}
    p = merged(area, service)
    assert p.batch_size == 2 and isinstance(p.batch_size, int)  # the later one wins
    assert p.strategy == "nearest" and p.chain == ("batches", "alert")
    assert p.weights == Weights(rating=1, idle=0)  # weights merge key by key
    assert merged(service, area).batch_size == 5
    assert merged({"max_batches": 4.0}).max_batches == 4
    assert isinstance(merged({"batch_s": 7}).batch_s, float)
    assert merged({"min_radius_m": 8000, "max_radius_m": 9000}).min_radius_m == 8000


@pytest.mark.parametrize(
    "override, field",
    [
        ({"radius": 1}, "radius"),
        ({"chain": []}, "chain"),
        ({"chain": ["grab", "fly"]}, "chain"),
        ({"chain": ["batches", "batches"]}, "chain"),
        ({"chain": "batches"}, "chain"),
        ({"chain": None}, "chain"),
        ({"strategy": "random"}, "strategy"),
        ({"strategy": None}, "strategy"),
        ({"weights": [0.5]}, "weights"),
        ({"weights": {"speed": 1}}, "weights"),
        ({"weights": {"rating": -0.1}}, "weights.rating"),
        ({"weights": {"idle": 11}}, "weights.idle"),
        ({"weights": {"load": "1"}}, "weights.load"),
        ({"weights": {"previous": True}}, "weights.previous"),
        ({"batch_s": -1}, "batch_s"),
        ({"min_radius_m": -0.5}, "min_radius_m"),
        ({"cooldown_after": -3}, "cooldown_after"),
        ({"max_radius_m": "7000"}, "max_radius_m"),
        ({"travel_kmh": float("nan")}, "travel_kmh"),
        ({"grab_window_s": 1e8}, "grab_window_s"),
        ({"batch_size": True}, "batch_size"),
        ({"window_s": False}, "window_s"),
        ({"min_radius_m": 8000}, "min_radius_m"),  # above the default max
        ({"max_radius_m": 1000}, "min_radius_m"),
        ({"batch_size": 0}, "batch_size"),
        ({"max_batches": 0}, "batch_size and max_batches"),
        ({"radius_step_m": 0}, "radius_step_m"),  # else one radius per metre
        ({"batch_size": 2.7}, "batch_size"),  # whole numbers are not rounded silently
    ],
)
def test_invalid_settings_raise_naming_the_field(override, field):
    with pytest.raises(PolicyError) as err:
        merged(override)
    assert str(err.value).startswith(f"{field}:") or str(err.value).startswith(f"{field} ")
    with pytest.raises(PolicyError):  # in a later override too
        merged({"batch_size": 2}, override)


def test_radii_grow_from_min_to_max_by_step():
    assert merged().radii() == [3000, 5000, 7000]
    assert merged({"radius_step_m": 3000}).radii() == [3000, 6000, 7000]  # max always last
    assert merged({"radius_step_m": 9000}).radii() == [3000, 7000]
    assert merged({"min_radius_m": 7000}).radii() == [7000]
    assert merged({"min_radius_m": 0, "max_radius_m": 1000, "radius_step_m": 500}).radii() == [
        0,
        500,
        1000,
    ]


def test_stages_for_grab_and_auto():
    p = merged()
    assert p.stages_for("grab") == ("grab", "batches", "assign", "alert")
    assert p.stages_for("auto") == ("batches", "assign", "alert")
    no_grab = merged({"chain": ["batches", "alert"]})
    assert no_grab.stages_for("grab") == ("grab", "batches", "alert")  # a grab order grabs
    assert no_grab.stages_for("auto") == ("batches", "alert")
    assert merged({"chain": ["grab"]}).stages_for("auto") == ("alert",)  # staff hear of it
    assert merged({"chain": ["grab"]}).stages_for("grab") == ("grab",)
    # grab listed later still comes first for a grab order, and only once
    later = merged({"chain": ["batches", "grab", "alert"]})
    assert later.stages_for("grab") == ("grab", "batches", "alert")
    assert later.stages_for("auto") == ("batches", "alert")


# --- the chain -------------------------------------------------------------------------------


def walk(mode: str, policy: Policy) -> list[str]:
    stage, seen = first_stage(mode, policy), []
    while stage is not None:
        seen.append(stage)
        assert len(seen) <= 4, seen  # a chain always ends
        stage = next_stage(mode, stage, policy)
    return seen


@pytest.mark.parametrize(
    "chain, mode, stages",
    [
        (None, "grab", ["grab", "batches", "assign", "alert"]),
        (None, "auto", ["batches", "assign", "alert"]),
        (["assign", "alert"], "grab", ["grab", "assign", "alert"]),
        (["grab", "alert"], "auto", ["alert"]),
        (["alert", "grab", "batches"], "grab", ["grab", "alert", "batches"]),
    ],
)
def test_the_chain_runs_stage_by_stage_and_ends(chain, mode, stages):
    policy = merged({"chain": chain} if chain else {})
    assert walk(mode, policy) == stages
    assert next_stage(mode, stages[-1], policy) is None


def test_next_stage_from_before_the_chain_is_its_first():
    p = merged()
    assert next_stage("auto", "", p) == "batches"
    assert next_stage("auto", "scheduled", p) == "batches"
    assert next_stage("grab", "", p) == "grab"
    assert next_stage("auto", "grab", p) == "batches"  # a grab order turned auto


def test_a_batch_within_the_smallest_radius_that_fills_it():
    ranked = nearest(500, 2000, 2500, 2800, 4000)
    assert plan_batch(ranked, State(), merged()) == (3000, ranked[:3])


def test_nobody_within_r0_grows_the_radius_to_the_first_that_fills_the_batch():
    ranked = nearest(3500, 4000, 4500, 6000)
    radius, chosen = plan_batch(ranked, State(), merged())
    assert radius == 5000 and [s.provider_id for s in chosen] == [1, 2, 3]


def test_the_radius_caps_at_the_max_with_a_short_batch():
    ranked = nearest(3500, 6500, 9000)
    radius, chosen = plan_batch(ranked, State(), merged())
    assert radius == 7000 and [s.provider_id for s in chosen] == [1, 2]
    assert plan_batch(nearest(9000), State(), merged()) == (7000, [])
    assert plan_batch([], State(), merged()) == (7000, [])


def test_a_batch_skips_tried_providers_and_never_shrinks_the_radius():
    ranked = nearest(500, 1000, 1500, 2000, 4500)
    state = State(stage="batches", batch=1, radius_m=3000, offered=(1, 2), tried=(1, 2, 3))
    radius, chosen = plan_batch(ranked, state, merged())
    assert radius == 7000 and [s.provider_id for s in chosen] == [4, 5]  # short: to the max
    state = State(stage="batches", batch=1, radius_m=5000, tried=(1,))
    radius, chosen = plan_batch(ranked, state, merged())
    assert radius == 5000 and [s.provider_id for s in chosen] == [2, 3, 4]
    one = merged({"batch_size": 1})
    assert plan_batch(ranked, State(tried=(1,)), one) == (3000, [ranked[1]])


def test_a_batch_takes_the_best_ranked_not_the_nearest():
    cands = [cand(1, 500), replace(cand(2, 2900), rating=5.0), cand(3, 2000)]
    policy = merged({"batch_size": 1, "weights": {"distance": 0.01}})
    ranked = rank(JOB, cands, policy, NOW)
    assert plan_batch(ranked, State(), policy)[1][0].provider_id == 2


def test_batches_left():
    p = merged({"max_batches": 2})
    assert batches_left(State(batch=1), p) and not batches_left(State(batch=2), p)


def test_state_round_trips_through_json():
    state = State("batches", 2, 5000.0, (7, 9), (3, 7, 9), 1764400000.0, False)
    data = state.to_json()
    known = ("stage", "batch", "radiusM", "offered", "tried", "until", "pinned")
    assert {k: data[k] for k in known} == {
        "stage": "batches",
        "batch": 2,
        "radiusM": 5000.0,
        "offered": [7, 9],
        "tried": [3, 7, 9],
        "until": 1764400000.0,
        "pinned": False,
    }
    assert State.from_json(json.loads(json.dumps(data))) == state
    pinned = State(stage="alert", pinned=True, tried=(1,))
    assert State.from_json(pinned.to_json()) == pinned
    assert State.from_json(None) == State() == State.from_json({})


def test_without_offer_keeps_the_provider_tried():
    state = State("batches", 1, 3000.0, (7, 9), (3, 7, 9), NOW + 20)
    after = state.without_offer(7)
    assert after.offered == (9,) and after.tried == (3, 7, 9)
    assert after.until == state.until and after.batch == 1
    assert state.without_offer(42) == state


def test_explain_lists_the_top_with_parts_the_chosen_and_the_excluded_nearest_first():
    policy = merged({"strategy": "nearest"})
    ranked = nearest(*(500.0 * (i + 1) for i in range(12)), policy=policy)
    excluded = [(cand(50, 900.4), "offline"), (cand(51, 300), "stale_location")]
    excluded.append((cand(49, 300), "no_skill"))
    out = explain("batches", ranked, excluded, [1, 12], policy, batch=1, radiusM=7000)
    assert out["stage"] == "batches" and out["strategy"] == "nearest"
    assert out["batch"] == 1 and out["radiusM"] == 7000
    assert out["chosen"] == [1, 12] and out["eligible"] == 12
    rows = out["candidates"]
    assert [r["providerId"] for r in rows] == [*range(1, 11), 12]  # top 10 and the chosen 12th
    assert [r["providerId"] for r in rows if r["chosen"]] == [1, 12]
    assert rows[0] == {
        "providerId": 1,
        "distanceM": 500,
        "score": -0.5,
        "parts": {"distance": -0.5},
        "chosen": True,
    }
    assert out["excluded"] == [
        {"providerId": 49, "distanceM": 300, "reason": "no_skill"},
        {"providerId": 51, "distanceM": 300, "reason": "stale_location"},
        {"providerId": 50, "distanceM": 900, "reason": "offline"},
    ]
    assert out["excludedCount"] == 3


def test_explain_keeps_top_n_and_the_nearest_excluded():
    policy = merged({"strategy": "weighted", "explain_top": 2})
    ranked = nearest(100, 200, 300, 400, policy=policy)
    many = [(cand(100 + i, 10.0 * (200 - i)), "offline") for i in range(EXCLUDED_KEPT + 50)]
    out = explain("assign", ranked, many, [], policy)
    assert [r["providerId"] for r in out["candidates"]] == [1, 2]
    assert set(out["candidates"][0]["parts"]) == set(asdict(Weights()))
    assert len(out["excluded"]) == EXCLUDED_KEPT and out["excludedCount"] == EXCLUDED_KEPT + 50
    assert out["excluded"][0]["providerId"] == 100 + EXCLUDED_KEPT + 49  # the nearest
    distances = [e["distanceM"] for e in out["excluded"]]
    assert distances == sorted(distances)
    out = explain("assign", ranked, [], [4, 3, 1], policy)  # more chosen than the top N
    assert {r["providerId"] for r in out["candidates"] if r["chosen"]} == {1, 3, 4}


# --- matching --------------------------------------------------------------------------------


def test_optimal_beats_greedy_on_a_two_by_two():
    costs = [[1000, 1200], [1100, 9000]]  # order 0 comes first and takes provider 0 greedily
    assert greedy(costs) == {0: 0, 1: 1} and total(costs, greedy(costs)) == 10000
    assert optimal(costs) == {0: 1, 1: 0} and total(costs, optimal(costs)) == 2300


def test_ineligible_pairs_are_never_matched():
    assert optimal([[None, 500], [300, None]]) == {0: 1, 1: 0}
    assert optimal([[None, None], [700, 200]]) == {1: 1}
    assert optimal([[None], [None]]) == {}
    assert optimal([[1, 2], [None, 100]]) == {0: 0, 1: 1}  # matching both beats the cheap pair
    assert greedy([[None, 500], [300, None]]) == {0: 1, 1: 0}
    assert greedy([[None, None], [700, 200]]) == {1: 1}


def test_more_orders_than_providers():
    costs = [[500, 400], [100, 900], [300, 200]]
    match = optimal(costs)
    assert len(match) == 2 and len(set(match.values())) == 2
    assert match == {1: 0, 2: 1} and total(costs, match) == 300
    assert len(greedy(costs)) == 2


def test_more_providers_than_orders():
    assert optimal([[900, 100, 500]]) == {0: 1}
    assert greedy([[900, 100, 100]]) == {0: 1}  # a tie: the lower index


def test_empty():
    assert optimal([]) == {} == optimal([[]]) == greedy([]) == greedy([[]])
    assert total([], {}) == 0


def test_layers_apply_from_the_most_general_row_to_the_most_specific():
    rows = {(0, 0): {"a": 1}, (0, 5): {"b": 2}, (3, 0): {"c": 3}, (3, 5): {"d": 4}, (4, 5): {}}
    assert layers(rows, 3, 5) == [{"a": 1}, {"b": 2}, {"c": 3}, {"d": 4}]
    assert layers(rows, 3, 6) == [{"a": 1}, {"c": 3}]
    assert layers(rows, 0, 5) == [{"a": 1}, {"b": 2}]  # no area: each row once
    assert layers({}, 3, 5) == []
