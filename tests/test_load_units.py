"""Small pieces of the load simulator: parsing, histograms, movement, the seq bookkeeping."""

from __future__ import annotations

import argparse
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


# --- payments -----------------------------------------------------------------------------


def test_pay_flags():
    from load.pay_checks import parse_pay_faults
    from load.run_args import add_run_args, config_from

    assert parse_pay_faults("") == {}
    assert parse_pay_faults("lost=0.1, duplicate=0.1:copies=2,late=0.05:delay_s=70") == {
        "lost": {"rate": 0.1},
        "duplicate": {"rate": 0.1, "copies": 2},
        "late": {"rate": 0.05, "delay_s": 70},
    }
    assert parse_pay_faults("late=0.5:delay_s=2.5")["late"]["delay_s"] == 2.5
    for bad in ("lost", "lost=2", "=0.1", "late=0.1:delay_s", "lost=x"):
        with pytest.raises(ValueError):
            parse_pay_faults(bad)
    outcomes = ("success", "cancel", "fail")
    assert parse_mix("success=8,cancel=1,fail=1", outcomes) == pytest.approx(
        {"success": 0.8, "cancel": 0.1, "fail": 0.1}
    )
    with pytest.raises(ValueError, match="cashier outcome"):
        parse_mix("success=8,refund=2", outcomes, "cashier outcome")
    ap = argparse.ArgumentParser()
    add_run_args(ap)
    cfg = config_from(
        ap.parse_args(
            ["--pay-mix", "success=1", "--pay-faults", "lost=0.2", "--sandbox", "http://sb:1"]
        )
    )
    assert cfg.pay_mix == {"success": 1.0}
    assert cfg.pay_faults == {"lost": {"rate": 0.2}}
    assert cfg.sandbox == "http://sb:1"
    default = config_from(ap.parse_args([]))
    assert default.pay_mix == pytest.approx({"success": 0.9, "cancel": 0.06, "fail": 0.04})
    assert default.pay_faults == {}


def test_paid_events_and_notifications_are_counted():
    from load.pay_checks import notification_figures, paid_events, query_fallbacks

    rows = [
        (1, '{"paymentId": 10, "via": "notification"}'),
        (2, b'{"paymentId": 11, "via": "query (schedule)"}'),
        (3, {"paymentId": 12, "via": "query (refresh)"}),
        (3, {"paymentId": 12, "via": "notification"}),
    ]
    per_payment, via = paid_events(rows)
    assert per_payment == {10: 1, 11: 1, 12: 2}
    assert via == {"notification": 2, "query (schedule)": 1, "query (refresh)": 1}
    assert query_fallbacks(via) == 2
    sent = [
        {"out_trade_no": "A", "status": 200, "duplicate": False, "faults": []},
        {"out_trade_no": "A", "status": 200, "duplicate": True, "faults": ["duplicate"]},
        {"out_trade_no": "B", "status": None, "duplicate": False, "faults": ["lost"]},
        {"out_trade_no": "C", "status": 500, "duplicate": False, "faults": []},
        {"out_trade_no": "C", "status": 204, "duplicate": False, "faults": []},
        {"out_trade_no": "OTHER", "status": 200, "duplicate": False, "faults": []},
    ]
    assert notification_figures(sent, {"A", "B", "C"}) == {
        "received": 2,
        "duplicates received": 1,
        "lost (never sent)": 1,
        "refused or failed": 1,
        "trades notified": 2,
    }


async def test_payment_checks_merge_and_report():
    from load.checks import CHECKS, PAY_CHECKS, merge_finals, run_checks
    from load.ledger import Ledger
    from load.pay_checks import payment_figures, run_pay_checks
    from load.summary import payment_line

    a, b = Ledger(Metrics()), Ledger(Metrics())
    a.paid_event({"detail": {"action": "paid", "paymentId": 5, "via": "notification"}})
    b.paid_event({"detail": {"action": "paid", "paymentId": 5, "via": "query (schedule)"}})
    b.paid_event({"detail": {"action": "paid", "paymentId": 6, "via": "notification"}})
    a.payments.append((5, 1, "full", 100, "OH1F"))
    merged = merge_finals([a.record(), b.record()])
    assert merged["paid_seen"] == {5: 2, 6: 1}
    assert merged["payments"] == [(5, 1, "full", 100, "OH1F")]

    checks = await run_checks(merged, None)
    assert set(checks["counts"]) == set(CHECKS) and checks["ok"]
    pays = await run_pay_checks(merged, None, "", 0)
    pays.merge_into(checks)
    assert not checks["ok"]
    assert checks["counts"]["double credits"] == 1
    assert all(checks["counts"][c] == 0 for c in PAY_CHECKS if c != "double credits")
    assert checks["examples"]["double credits"][0]["paymentId"] == 5

    counters = {
        "payments prepaid": 4,
        "payments paid": 3,
        "payments failed at the cashier": 1,
        "payments cancelled at the cashier": 2,
        "paid via query (refresh)": 1,
        "paid via notification": 2,
    }
    fig = payment_figures(counters, checks)  # no MySQL: the customers' counts
    assert (fig["prepaid"], fig["paid"], fig["failed"], fig["cancelled"]) == (4, 3, 1, 2)
    assert fig["query fall-backs"] == 1 and fig["notifications received"] is None
    checks["payments"] = {
        "hub payments by status": {"paid": 2, "refunded": 1, "open": 1},
        "notifications": {"received": 7},
        "query fall-backs": 2,
    }
    fig = payment_figures(counters, checks)  # settled, from MySQL and the sandbox
    assert (fig["paid"], fig["notifications received"], fig["query fall-backs"]) == (3, 7, 2)
    assert payment_line(fig) == (
        "payments: prepaid 4, paid 3, failed 1, cancelled 2, notifications received 7,"
        " query fall-backs 2"
    )


def test_a_customer_sees_its_payment_end():
    import asyncio

    from load.ledger import Ledger
    from load.pay_sim import Wallet

    class Host:
        def __init__(self):
            self.metrics = Metrics()
            self.ledger = Ledger(self.metrics)

    class Customer:
        w = Host()

    async def go():
        wallet = Wallet(Customer())
        fut = wallet.waiting[9] = asyncio.get_running_loop().create_future()
        other = wallet.waiting[8] = asyncio.get_running_loop().create_future()
        wallet.on_event({"detail": {"action": "payment_opened", "paymentId": 9}})
        assert not fut.done()
        wallet.on_event({"detail": {"action": "paid", "paymentId": 9, "via": "notification"}})
        wallet.on_event({"detail": {"action": "payment_failed", "paymentId": 8}})
        assert (fut.result(), other.result()) == ("paid", "failed")
        return wallet

    wallet = asyncio.run(go())
    assert wallet.c.w.ledger.paid_seen == {9: 1}
    assert wallet.c.w.metrics.cnt == {"paid via notification": 1}
