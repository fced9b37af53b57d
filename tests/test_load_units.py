"""Small pieces of the load simulator: parsing, histograms, movement, the seq bookkeeping."""

from __future__ import annotations

import math
import random

import pytest

from load.city import City, Mover, iso_now, parse_duration, parse_iso, parse_mix, parse_rate
from load.metrics import Aggregator, Metrics, percentiles
from load.sim_user import names_user


def test_parsing():
    assert parse_rate("10/s") == 10
    assert parse_rate("600/m") == 10
    assert parse_rate("2") == 2
    assert parse_duration("5m") == 300
    assert parse_duration("1m30s") == 90
    assert parse_duration("45") == 45
    with pytest.raises(ValueError):
        parse_duration("5 minutes")
    mix = parse_mix("grab=60,auto=30,direct=10")
    assert mix == pytest.approx({"grab": 0.6, "auto": 0.3, "direct": 0.1})
    assert abs(parse_iso(iso_now(1_700_000_000.123)) - 1_700_000_000.123) < 0.001


def test_histogram_percentiles_are_within_a_bucket():
    rng = random.Random(3)
    vals = [rng.expovariate(1 / 20) for _ in range(20000)]
    m = Metrics()
    for v in vals:
        m.observe("x", v)
    snap = m.snapshot()
    vals.sort()
    for q, got in zip((0.5, 0.95, 0.99), percentiles(snap["lat"]["x"]), strict=True):
        exact = vals[int(q * len(vals))]
        assert abs(got - exact) / exact < 0.05


def test_join_marks_pair_across_workers():
    agg = Aggregator()
    a, b = Metrics(), Metrics()
    a.start("order created → first offer", 7, 100.0)
    b.end("order created → first offer", 7, 100.050)
    b.end("order created → first offer", 7, 100.200)  # a later provider: not the first
    agg.add(0, a.snapshot())
    agg.add(1, b.snapshot())
    agg.resolve_joins()
    p50, _, _ = percentiles(agg.tot_lat["order created → first offer"])
    assert 48 < p50 < 52
    assert sum(agg.tot_lat["order created → first offer"].values()) == 1


def test_movement_stays_on_the_grid_at_plausible_speed():
    city = City(radius_m=4000)
    rng = random.Random(1)
    m = Mover(city, rng, 0.0, 0.0, now=0.0)
    arrive = m.plan(0.0, 1000.0, 500.0, speed=10.0)
    assert arrive == pytest.approx(150.0)
    x, y, heading, speed = m.position(50.0)
    assert (x, y) == pytest.approx((500.0, 0.0)) and heading == pytest.approx(90.0)
    assert speed == 10.0
    x, y, heading, _ = m.position(125.0)
    assert (x, y) == pytest.approx((1000.0, 250.0)) and heading == pytest.approx(0.0)
    assert m.position(1000.0)[:2] == pytest.approx((1000.0, 500.0))
    for _ in range(200):  # idle wandering never leaves the city's disc by much
        t = m.wander(m.arrival())
        for k in range(10):
            px, py, _, s = m.position(m.t0 + (t - m.t0) * k / 10)
            assert math.hypot(px, py) <= 4000 * 1.01
            assert 20 / 3.6 - 1e-9 <= s <= 40 / 3.6 + 1e-9 or s == 0


def test_who_sent_it():
    assert names_user("customer", "customer", (5,))
    assert not names_user("provider", "customer", (5,))
    assert names_user("provider:12", "provider", (12, 3))
    assert not names_user("provider:13", "provider", (12, 3))
    assert names_user({"role": "customer", "id": 5}, "customer", (5,))


def test_the_load_follows_the_hubs_state_machine():
    from actors.transitions import ASSIGNED, TABLE
    from load.order_flow import provider_walk
    from load.relay_state import FLOW

    # a provider's leftover order walks to completed by rules the provider may use
    for status in ASSIGNED:
        for action in provider_walk(status):
            rule = TABLE[(status, action)]
            assert "provider" in rule.roles, (status, action)
            status = rule.to
        assert status == "completed"
    # the relay moves an order as the hub would, for every move the load clients make
    assert all(TABLE[key].to == to for key, to in FLOW.items())
    for action in ("grab", "accept", "decline", "cancel"):
        assert ("pending", action) in FLOW
    for key in (("arrived", "quote"), ("arrived", "confirm-quote"), ("in_progress", "complete")):
        assert key in FLOW
