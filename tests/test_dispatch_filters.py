"""The dispatch engine's eligibility filters and scoring strategies (CONTRACT §10, issue #10),
with no services: fixed fixtures, a fixed clock. Each filter excludes its fixture provider
for exactly its reason, the first failing filter names the exclusion, and each strategy
ranks the provider the spec says should win."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from actors.dispatch.filters import (
    FILTERS,
    REASONS,
    Candidate,
    Context,
    Job,
    Slot,
    distance_m,
    load_now,
    point_in_polygon,
    screen,
)
from actors.dispatch.policy import STRATEGY_NAMES, Policy, merged
from actors.dispatch.scoring import STRATEGIES, acceptance_ratio, rank

NOW = 1_764_400_000.0
LAT, LNG = 31.23, 121.47  # the order's place
SERVICE, TRIED = 5, 99
SQUARE = [
    [LAT - 0.1, LNG - 0.1],
    [LAT - 0.1, LNG + 0.1],
    [LAT + 0.1, LNG + 0.1],
    [LAT + 0.1, LNG - 0.1],
]
ELSEWHERE = [[lat + 1.0, lng] for lat, lng in SQUARE]
JOB = Job(
    order_id=1,
    service_id=SERVICE,
    lat=LAT,
    lng=LNG,
    areas={1: SQUARE, 2: ELSEWHERE},
    excluded=frozenset({TRIED}),
)
POLICY = Policy()  # fix_max_age_s 180, travel 25 km/h, max_open_offers 20; lead_s 3600


def cand(pid: int = 1, distance: float = 1000.0, **kw) -> Candidate:
    """An eligible provider for JOB unless kw says otherwise."""
    base = dict(
        provider_id=pid,
        distance_m=distance,
        skills=frozenset({SERVICE}),
        areas=frozenset({1}),
        fix_at=NOW - 10,
    )
    return Candidate(**{**base, **kw})


def reason_of(c: Candidate, job: Job = JOB, policy: Policy = POLICY, now: float = NOW):
    out = screen(job, [c], policy, now)
    assert len(out.eligible) + len(out.excluded) == 1
    return out.excluded[0][1] if out.excluded else None


IN_HAND = Slot(50, None, 3600.0, LAT, LNG)  # a job the provider is on now
SOON = Slot(51, NOW + 1800, 3600.0, LAT, LNG)  # a scheduled job in half an hour
# reason → what makes the base provider fail that filter (and only that one)
FAILS = {
    "offline": {"online": False},
    "not_verified": {"verified": False},
    "no_skill": {"skills": frozenset({SERVICE + 1})},
    "outside_service_area": {"areas": frozenset({2, 3})},  # 2 is elsewhere, 3 is unknown
    "already_tried": {"provider_id": TRIED},
    "at_capacity": {"capacity": 1, "slots": (IN_HAND,)},
    "schedule_conflict": {"capacity": 2, "slots": (SOON,)},
    "stale_location": {"fix_at": NOW - 181},
    "cooling_down": {"cooldown_until": NOW + 60},
    "too_many_offers": {"open_offers": 20},
}


# --- filters ---------------------------------------------------------------------------------


def test_every_filter_has_a_fixture_and_the_base_provider_is_eligible():
    assert set(FAILS) == set(REASONS) and len(REASONS) == len(FILTERS)
    assert reason_of(cand()) is None


@pytest.mark.parametrize("reason", REASONS)
def test_each_filter_excludes_for_exactly_its_reason(reason):
    c = cand(**FAILS[reason])
    ctx = Context(JOB, POLICY, NOW)
    assert [r for r, holds in FILTERS if not holds(c, ctx)] == [reason]
    assert screen(JOB, [c], POLICY, NOW).excluded == [(c, reason)]


def test_every_reason_appears_over_the_fixture_set():
    good = cand(1)
    bad = [cand(10 + i, **FAILS[r]) for i, r in enumerate(REASONS)]
    out = screen(JOB, [*bad, good], POLICY, NOW)
    assert out.eligible == [good]
    assert [why for _, why in out.excluded] == list(REASONS)
    assert [c for c, _ in out.excluded] == bad


@pytest.mark.parametrize("first", range(len(REASONS)))
def test_the_first_failing_filter_names_the_exclusion(first):
    """A provider failing this filter and every later one is excluded for this one."""
    kw: dict = {}
    for r in reversed(REASONS[first:]):  # earlier filters' fixtures win a shared field
        kw.update(FAILS[r])
    assert reason_of(cand(**kw)) == REASONS[first]


def test_filter_boundaries():
    assert reason_of(cand(fix_at=NOW - 180)) is None  # exactly the max age is still fresh
    assert reason_of(cand(fix_at=None)) == "stale_location"  # never sent a fix
    assert reason_of(cand(fix_at=NOW - 100), policy=merged({"fix_max_age_s": 60})) == (
        "stale_location"
    )
    assert reason_of(cand(cooldown_until=NOW)) is None  # the rest ends now
    assert reason_of(cand(open_offers=19)) is None
    assert reason_of(cand(open_offers=2), policy=merged({"max_open_offers": 2})) == (
        "too_many_offers"
    )
    assert reason_of(cand(areas=frozenset())) == "outside_service_area"
    assert reason_of(cand(areas=frozenset({2, 1}))) is None  # one area holding the point is enough
    assert reason_of(cand(capacity=2, slots=(IN_HAND,))) is None


# --- point in polygon ------------------------------------------------------------------------

# A square with a V notch cut from its top edge down to (1, 2): concave, and the horizontal
# ray from a point at lat 1 passes exactly through the notch's vertex.
NOTCHED = [[0, 0], [0, 4], [2, 4], [1, 2], [2, 0]]
DIAMOND = [[0, 1], [1, 0], [0, -1], [-1, 0]]  # vertices on the ray through lat 0


@pytest.mark.parametrize(
    "lat, lng, polygon, inside",
    [
        (LAT, LNG, SQUARE, True),
        (LAT + 0.05, LNG - 0.09, SQUARE, True),
        (LAT + 0.11, LNG, SQUARE, False),
        (LAT, LNG + 0.2, SQUARE, False),
        (LAT, LNG, ELSEWHERE, False),
        (0.5, 0.5, NOTCHED, True),  # the left arm
        (1.5, 3.5, NOTCHED, True),  # the right arm
        (1.5, 2.0, NOTCHED, False),  # in the notch
        (1.9, 2.0, NOTCHED, False),
        (1.0, 1.0, NOTCHED, True),  # the ray passes through the notch's vertex
        (1.0, 3.0, NOTCHED, True),
        (0.0, 0.0, DIAMOND, True),  # the ray passes through the vertex (0, 1)
        (0.0, -2.0, DIAMOND, False),  # ... through both (0, -1) and (0, 1)
        (0.0, 2.0, DIAMOND, False),
        (0.9, 0.9, DIAMOND, False),
        (0.0, 0.0, [], False),
    ],
)
def test_point_in_polygon(lat, lng, polygon, inside):
    assert point_in_polygon(lat, lng, polygon) is inside


# --- capacity and schedule conflicts ---------------------------------------------------------


def test_load_now_counts_jobs_in_hand_and_slots_within_the_lead():
    slots = [
        IN_HAND,
        Slot(2, NOW + 600, 3600, LAT, LNG),  # soon
        Slot(3, NOW - 600, 3600, LAT, LNG),  # started already
        Slot(4, NOW + 3600, 3600, LAT, LNG),  # exactly the lead away
        Slot(5, NOW + 3601, 3600, LAT, LNG),  # later
        Slot(6, NOW + 86400, 3600, LAT, LNG),  # tomorrow
    ]
    assert load_now(slots, NOW, 3600) == 4
    assert load_now(slots, NOW, 0) == 2
    assert load_now((), NOW, 3600) == 0


def test_a_far_future_slot_takes_no_capacity_and_conflicts_with_nothing_now():
    tomorrow = Slot(7, NOW + 86400, 3600, LAT, LNG)
    assert reason_of(cand(capacity=1, slots=(tomorrow,))) is None
    later = Slot(8, NOW + 3 * 3600, 3600, LAT, LNG)  # the immediate job is over by then
    assert reason_of(cand(capacity=1, slots=(later,))) is None


def test_an_immediate_job_conflicts_with_a_slot_starting_soon():
    assert reason_of(cand(capacity=2, slots=(SOON,))) == "schedule_conflict"
    assert reason_of(cand(capacity=1, slots=(SOON,))) == "at_capacity"  # capacity runs first


def test_an_immediate_job_starts_after_the_travel_to_it():
    # 25 km/h: 1 km is 144 s away, 5 km 720 s; the job lasts an hour from arrival.
    slot = Slot(9, NOW + 144 + 3600 + 100, 3600, LAT, LNG)  # at the job's own place
    assert reason_of(cand(distance=1000, capacity=2, slots=(slot,))) is None
    assert reason_of(cand(distance=5000, capacity=2, slots=(slot,))) == "schedule_conflict"


SLOT_LAT = LAT + 0.045  # about 5 km north of the order
GAP = distance_m(SLOT_LAT, LNG, LAT, LNG) / 25 * 3.6  # travel seconds between the two


@pytest.mark.parametrize(
    "slot_start, conflict",
    [
        (-3600 - GAP + 60, True),  # ends too late to travel to the job
        (-3600 - GAP - 60, False),  # ends with time to travel
        (3600 + GAP - 60, True),  # starts before the job's end plus travel
        (3600 + GAP + 60, False),
        (-1800, True),  # plain overlap
        (0, True),
    ],
)
def test_a_scheduled_job_against_a_scheduled_slot_with_travel_between(slot_start, conflict):
    start = NOW + 86400  # tomorrow: neither the job nor the slot takes capacity now
    job = replace(JOB, start=start, duration_s=3600)
    slot = Slot(10, start + slot_start, 3600, SLOT_LAT, LNG)
    assert 700 < GAP < 740
    expected = "schedule_conflict" if conflict else None
    assert reason_of(cand(slots=(slot,)), job=job) == expected


def test_back_to_back_slots_at_the_same_place_do_not_conflict():
    start = NOW + 86400
    job = replace(JOB, start=start, duration_s=3600)
    before, after = Slot(11, start - 3600, 3600, LAT, LNG), Slot(12, start + 3600, 60, LAT, LNG)
    assert reason_of(cand(capacity=2, slots=(before, after)), job=job) is None


# --- strategies ------------------------------------------------------------------------------

NO_WEIGHTS = dict.fromkeys(("distance", "rating", "load", "acceptance", "idle", "previous"), 0)
NEAR = cand(1, 1000, rating=3.0, accepted=0, declined=10)  # near, middling, often says no
STAR = cand(2, 1500, rating=5.0, accepted=20, idle_since=NOW - 3600)  # a bit farther, great


def ids(cands, strategy="weighted", job=JOB, **settings) -> list[int]:
    policy = merged({"strategy": strategy, **settings})
    return [s.provider_id for s in rank(job, cands, policy, NOW)]


def test_every_strategy_is_a_policy_choice():
    assert set(STRATEGIES) == set(STRATEGY_NAMES)


def test_nearest_picks_the_nearest():
    far, near, mid = cand(1, 4000, rating=5.0), cand(2, 800, rating=1.0), cand(3, 2000)
    assert ids([far, near, mid], "nearest") == [2, 3, 1]
    assert ids([STAR, NEAR], "nearest") == [1, 2]
    assert rank(JOB, [near], merged({"strategy": "nearest"}), NOW)[0].parts == {"distance": -0.8}


def test_weighted_prefers_a_slightly_farther_much_better_provider():
    assert ids([NEAR, STAR]) == [2, 1]
    star, near = rank(JOB, [NEAR, STAR], POLICY, NOW)
    assert star.parts == {
        "distance": 0.3536,  # 0.45 × (1 − 1500 / 7000)
        "rating": 0.2,
        "load": 0.1,
        "acceptance": 0.096,  # 0.1 × (20 + 4) / (20 + 5)
        "idle": 0.1,  # a full hour idle
        "previous": 0.0,
    }
    assert near.parts["rating"] == 0.1 and near.parts["idle"] == 0.0
    assert near.parts["acceptance"] == round(0.1 * 4 / 15, 4)
    # ... unless the weights say only distance matters
    assert ids([NEAR, STAR], weights={**NO_WEIGHTS, "distance": 1}) == [1, 2]


def test_weighted_gives_the_customers_previous_provider_the_bonus():
    a, b = cand(3, 2000), cand(4, 2000)
    assert ids([a, b]) == [3, 4]  # equal: the lower id
    job = replace(JOB, previous=frozenset({4}))
    assert ids([a, b], job=job) == [4, 3]
    scored = {s.provider_id: s for s in rank(job, [a, b], POLICY, NOW)}
    assert scored[4].parts["previous"] == 0.05 and scored[3].parts["previous"] == 0.0
    assert scored[4].score == pytest.approx(scored[3].score + 0.05)


def test_weighted_parts_scale_to_their_weights():
    (s,) = rank(JOB, [cand(5, 0, capacity=2, slots=(IN_HAND,), rating=9.0)], POLICY, NOW)
    assert s.parts["distance"] == 0.45 and s.parts["rating"] == 0.2  # clamped at the top
    assert s.parts["load"] == 0.05  # one job of two in hand
    assert s.parts["acceptance"] == 0.08  # a newcomer's prior
    (s,) = rank(JOB, [cand(6, 9000, rating=0.0, idle_since=NOW + 60)], POLICY, NOW)
    assert s.parts["distance"] == 0.0 and s.parts["rating"] == 0.0 and s.parts["idle"] == 0.0
    (s,) = rank(JOB, [cand(7, idle_since=NOW - 1800)], POLICY, NOW)
    assert s.parts["idle"] == 0.05  # half an hour idle: half the part


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_ties_break_nearer_then_lower_id_and_never_depend_on_input_order(strategy):
    cands = [cand(9, 3000), cand(8, 2000), cand(2, 2000), cand(5, 1000)]
    weights = NO_WEIGHTS  # weighted with no weights: every score is 0
    expected = [5, 2, 8, 9]
    for _ in range(5):
        random.Random(_).shuffle(cands)
        assert ids(cands, strategy, weights=weights) == expected


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_parts_sum_to_the_score(strategy):
    cands = [NEAR, STAR, cand(3, 2345.6, capacity=3, slots=(IN_HAND,), idle_since=NOW - 777)]
    job = replace(JOB, previous=frozenset({3}))
    for s in rank(job, cands, merged({"strategy": strategy}), NOW):
        assert s.parts and s.score == pytest.approx(sum(s.parts.values()), abs=1e-9)


def test_acceptance_ratio_has_a_prior_of_four_in_five():
    assert acceptance_ratio(cand()) == 0.8
    assert acceptance_ratio(cand(accepted=6, declined=2, timed_out=2)) == 10 / 15
    assert acceptance_ratio(cand(declined=95)) == 4 / 100
    assert acceptance_ratio(cand(accepted=995)) == 999 / 1000
