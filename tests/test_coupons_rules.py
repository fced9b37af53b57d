"""What a coupon takes off and when it is refused (adapters/coupon_moves.py, pure), and its
ledger postings: with the payment's, the provider earns on the price before the discount,
the platform's fee is on that price too, and every posting sums to 0."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

import pytest

from adapters import coupon_moves, coupons, ledger

NOW = datetime(2026, 11, 29, 10, 0)


def coupon(**over) -> dict:
    """A held coupon (a user_coupons row joined with its template, as adapters.coupons reads)."""
    row = {
        "status": "usable",
        "valid_from": NOW - timedelta(days=1),
        "valid_to": NOW + timedelta(days=1),
        "t_status": "active",
        "t_kind": "threshold",
        "t_amount_off": 1000,
        "t_threshold": 5000,
        "t_percent_off": None,
        "t_max_off": None,
        "t_service_ids": None,
        "t_area_ids": None,
    }
    return row | over


ORDER = {"service_id": 3, "area_id": 7}


@pytest.mark.parametrize(
    "over, kind, price, code",
    [
        ({}, "full", 5000, None),
        ({}, "balance", 5000, None),
        ({"status": "locked"}, "full", 5000, "coupon_in_use"),
        ({"status": "used"}, "full", 5000, "coupon_in_use"),
        ({"valid_to": NOW}, "full", 5000, "coupon_expired"),
        ({"t_status": "ended"}, "full", 5000, "coupon_expired"),
        ({"t_status": "paused"}, "full", 5000, "coupon_paused"),
        ({"valid_from": NOW + timedelta(hours=1)}, "full", 5000, "coupon_not_applicable"),
        ({}, "deposit", 5000, "coupon_not_applicable"),
        ({"t_service_ids": "[1, 2]"}, "full", 5000, "coupon_not_applicable"),
        ({"t_service_ids": [3]}, "full", 5000, None),
        ({"t_area_ids": [8]}, "full", 5000, "coupon_not_applicable"),
        ({}, "full", 4999, "below_threshold"),
    ],
)
def test_each_refusal_has_its_own_code(over, kind, price, code):
    why = coupon_moves.refusal(coupon(**over), ORDER, kind, price, NOW)
    assert (why[0] if why else None) == code


def test_what_a_coupon_takes_off():
    assert coupon_moves.discount(coupon(), 12000, 12000) == 1000
    assert coupon_moves.discount(coupon(t_amount_off=20000), 12000, 12000) == 11999  # 1 fen left
    assert coupon_moves.discount(coupon(), 12000, 700) == 699  # a small balance
    pct = coupon(t_kind="discount", t_percent_off=20, t_amount_off=None)
    assert coupon_moves.discount(pct, 12000, 12000) == 2400
    assert coupon_moves.discount(pct | {"t_max_off": 2000}, 12000, 12000) == 2000
    assert coupon_moves.discount(pct, 12345, 12345) == 2469  # rounded down: the customer pays


def posted(statements) -> list[dict]:
    """The legs of posting statements, as ledger rows."""
    rows = []
    for _sql, args in statements:
        n = len(ledger.COLUMNS)
        for i in range(0, len(args), n):
            rows.append(dict(zip(ledger.COLUMNS, args[i : i + n], strict=True)))
    return rows


def test_the_provider_earns_on_the_price_before_the_discount():
    rng = random.Random(14)
    hold = timedelta(days=7)
    for _ in range(500):
        price, rate = rng.randint(2, 500_000), rng.choice([0, 1, 1500, 2000, 3333, 10_000])
        off = rng.randint(1, price - 1)
        payment = {"id": 9, "order_id": 4, "amount": price - off, "paid_at": NOW}
        cash = posted(ledger.payment_entries(payment, 5, rate, hold_s=0))
        extra = posted(coupon_moves.discount_entries(payment, off, 5, rate, NOW, hold))
        by = Counter()
        for row in cash + extra:
            by[row["account"]] += row["amount"]
        fee = ledger.fee_share(price, rate)
        assert sum(r["amount"] for r in extra) == 0
        assert by["provider"] == price - fee and by["platform_fee"] == fee
        assert by["platform_coupons"] == -off and by["wechat_clearing"] == -(price - off)
        undone = posted(coupon_moves.reversal_entries(extra, NOW))
        assert sum(r["amount"] for r in undone) == 0
        assert Counter({r["account"]: r["amount"] for r in undone}) == Counter(
            {r["account"]: -r["amount"] for r in extra}
        )
        assert all(r["kind"] == "coupon_reversal" for r in undone)


def test_no_discount_no_posting():
    payment = {"id": 9, "order_id": 4, "amount": 5000, "paid_at": NOW}
    assert coupon_moves.discount_entries(payment, 0, 5, 2000, NOW, timedelta(0)) == ()
    assert coupon_moves.reversal_entries([], NOW) == ()


def test_a_coupon_is_valid_n_days_after_claiming_within_the_window():
    day = timedelta(days=1)
    fixed = {"valid_from": NOW - day, "valid_to": NOW + 3 * day, "valid_days": None}
    assert coupons.validity(fixed, NOW) == (NOW - day, NOW + 3 * day)
    rolling = {"valid_from": None, "valid_to": None, "valid_days": 7}
    assert coupons.validity(rolling, NOW) == (NOW, NOW + 7 * day)
    capped = {"valid_from": NOW + day, "valid_to": NOW + 5 * day, "valid_days": 7}
    assert coupons.validity(capped, NOW) == (NOW + day, NOW + 5 * day)
