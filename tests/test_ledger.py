"""The ledger's postings, pure (no services): every posting sums to 0 for any amount and rate,
the fee rounds to the nearest fen with halves up, refunds reverse in the payment's ratio and
a payment refunded in full leaves every account at 0, whatever the refunds' sizes."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

import pytest

from adapters import ledger
from adapters.clock import utcnow

RATES = (0, 1, 333, 1999, 2000, 2500, 3333, 5000, 6667, 9999, 10_000)
AMOUNTS = (*range(0, 40), 99, 100, 101, 1234, 9999, 10_001, 123_457, 9_999_999)
PROVIDER = 7


def legs(statements) -> list[dict]:
    """The rows the statements insert, as column → value."""
    n = len(ledger.COLUMNS)
    rows = []
    for sql, args in statements:
        assert sql.startswith("INSERT INTO ledger_entries") and len(args) % n == 0
        assert sql.count("(%s") == len(args) // n
        rows += [
            dict(zip(ledger.COLUMNS, args[i : i + n], strict=True)) for i in range(0, len(args), n)
        ]
    return rows


def by_account(rows: list[dict]) -> Counter:
    out: Counter = Counter()
    for r in rows:
        out[(r["account"], r["provider_id"])] += r["amount"]
    return out


def payment(amount: int, pid: int = 1, paid_at: datetime | None = None) -> dict:
    return {"id": pid, "order_id": 99, "amount": amount, "paid_at": paid_at or utcnow()}


@pytest.mark.parametrize(
    ("amount", "rate", "fee"),
    [(1, 2000, 0), (2, 2000, 0), (3, 2000, 1), (5, 1000, 1), (15, 1000, 2), (25, 1000, 3),
     (100, 2000, 20), (101, 2000, 20), (103, 2000, 21), (7, 10_000, 7), (7, 0, 0), (1, 5000, 1)],
)  # fmt: skip
def test_the_fee_rounds_to_the_nearest_fen_halves_up(amount, rate, fee):
    assert ledger.fee_share(amount, rate) == fee
    rows = legs(ledger.payment_entries(payment(amount), PROVIDER, rate))
    accounts = by_account(rows)
    assert accounts[("platform_fee", None)] == fee
    assert accounts[("provider", PROVIDER)] == amount - fee
    assert accounts[("wechat_clearing", None)] == -amount


def test_payments_sum_to_zero_for_every_amount_and_rate():
    for rate in RATES:
        for amount in AMOUNTS:
            rows = legs(ledger.payment_entries(payment(amount), PROVIDER, rate))
            assert sum(r["amount"] for r in rows) == 0, (amount, rate)
            assert all(r["kind"] == "payment" and r["source_id"] == 1 for r in rows)
            if amount:
                assert {r["payment_id"] for r in rows} == {1}
                assert {r["order_id"] for r in rows} == {99}
                assert {r["fee_rate_bp"] for r in rows} == {rate}
                earned = by_account(rows)[("provider", PROVIDER)]
                assert 0 <= earned <= amount


def test_a_payment_of_nothing_posts_nothing():
    assert ledger.payment_entries(payment(0), PROVIDER, 2000) == ()


def test_earnings_become_available_after_the_hold(monkeypatch):
    monkeypatch.setenv("HUB_EARNINGS_HOLD_S", "3600")
    paid = datetime(2025, 1, 31, 8, 0, 0)
    rows = legs(ledger.payment_entries(payment(500, paid_at=paid), PROVIDER, 2000))
    earned = next(r for r in rows if r["account"] == "provider")
    assert earned["available_at"] == paid + timedelta(hours=1)
    assert all(r["available_at"] is None for r in rows if r["account"] != "provider")
    rows = legs(ledger.payment_entries(payment(500, paid_at=paid), PROVIDER, 2000, hold_s=0))
    assert next(r for r in rows if r["account"] == "provider")["available_at"] == paid
    monkeypatch.delenv("HUB_EARNINGS_HOLD_S")
    assert ledger.hold() == timedelta(days=7)
    monkeypatch.setenv("HUB_EARNINGS_HOLD_S", "a week")
    with pytest.raises(ValueError, match="HUB_EARNINGS_HOLD_S"):
        ledger.hold()


def test_without_a_provider_the_payment_is_held_whole():
    rows = legs(ledger.payment_entries(payment(1001), None, 2000))
    assert by_account(rows) == {("wechat_clearing", None): -1001, ("order_held", None): 1001}


def refund(rid: int, amount: int) -> dict:
    return {"id": rid, "amount": amount}


def refund_in_parts(amount: int, rate: int, parts: list[int], provider=PROVIDER) -> Counter:
    """Pay `amount`, refund it in `parts` (each with what was refunded before); the accounts."""
    paid = payment(amount)
    rows = legs(ledger.payment_entries(paid, provider, rate))
    before = 0
    for i, part in enumerate(parts):
        posting = legs(
            ledger.refund_entries(refund(i + 1, part), paid, provider, rate, refunded_before=before)
        )
        assert sum(r["amount"] for r in posting) == 0
        assert all(r["kind"] == "refund" and r["refund_id"] == i + 1 for r in posting)
        rows += posting
        before += part
    return by_account(rows)


def cuts(amount: int, rng: random.Random) -> list[int]:
    points = sorted(rng.sample(range(1, amount), min(amount - 1, rng.randint(1, 6))))
    return [b - a for a, b in zip([0, *points], [*points, amount], strict=True)]


def test_refunds_in_parts_reverse_the_payment_exactly():
    rng = random.Random(20250131)
    for rate in RATES:
        for amount in (2, 3, 7, 10, 99, 101, 1234, 99_999):
            for _ in range(5):
                parts = cuts(amount, rng)
                accounts = refund_in_parts(amount, rate, parts)
                assert set(accounts.values()) == {0}, (amount, rate, parts, accounts)


def test_a_partial_refund_reverses_its_share():
    accounts = refund_in_parts(10_000, 2000, [2500])
    assert accounts[("wechat_clearing", None)] == -7500
    assert accounts[("platform_fee", None)] == 1500
    assert accounts[("provider", PROVIDER)] == 6000


def test_a_refund_split_on_its_own_still_balances():
    paid = payment(3)
    for part in (1, 2, 3):
        rows = legs(ledger.refund_entries(refund(1, part), paid, PROVIDER, 3333))
        assert sum(r["amount"] for r in rows) == 0


def test_a_refund_of_held_earnings_stays_held():
    paid = payment(1000, paid_at=utcnow() - timedelta(days=1))
    rows = legs(ledger.refund_entries(refund(1, 400), paid, PROVIDER, 2000))
    leg = next(r for r in rows if r["account"] == "provider")
    assert leg["amount"] == -320
    assert leg["available_at"] == paid["paid_at"] + ledger.hold()  # reverses pending earnings
    old = payment(1000, paid_at=utcnow() - timedelta(days=30))
    rows = legs(ledger.refund_entries(refund(2, 400), old, PROVIDER, 2000))
    leg = next(r for r in rows if r["account"] == "provider")
    assert leg["available_at"] >= utcnow() - timedelta(seconds=5)  # no later than now


def test_a_held_deposit_is_released_then_refunded_to_zero():
    for rate in RATES:
        for amount, refunded_while_held, later in ((1000, 0, [1000]), (999, 333, [1, 665])):
            paid = payment(amount)
            rows = legs(ledger.payment_entries(paid, None, rate))
            if refunded_while_held:
                rows += legs(
                    ledger.refund_entries(refund(1, refunded_while_held), paid, None, rate)
                )
            held = by_account(rows)[("order_held", None)]
            assert held == amount - refunded_while_held
            release = legs(ledger.release_entries(paid, held, PROVIDER, rate))
            assert sum(r["amount"] for r in release) == 0
            assert all(r["kind"] == "release" for r in release)
            rows += release
            before = refunded_while_held
            for i, part in enumerate(later):
                rows += legs(
                    ledger.refund_entries(
                        refund(10 + i, part), paid, PROVIDER, rate, refunded_before=before
                    )
                )
                before += part
            assert set(by_account(rows).values()) == {0}, (rate, amount)


def test_impossible_postings_are_refused():
    paid = payment(100)
    with pytest.raises(ValueError):
        ledger.refund_entries(refund(1, 101), paid, PROVIDER, 2000)
    with pytest.raises(ValueError):
        ledger.refund_entries(refund(1, 50), paid, PROVIDER, 2000, refunded_before=60)
    with pytest.raises(ValueError):
        ledger.payment_entries(paid, PROVIDER, 10_001)
    with pytest.raises(ValueError):
        ledger.payment_entries(paid, PROVIDER, -1)
    with pytest.raises(ValueError):
        ledger.release_entries(paid, 101, PROVIDER, 2000)
    with pytest.raises(ValueError, match="unbalanced"):
        ledger.insert("payment", 1, [ledger.Leg("platform_fee", 1)], {}, utcnow())


def test_withdrawal_transfers_balance():
    at = utcnow()
    moved = ledger.transfer_legs(500, PROVIDER, "provider", "withdrawal_pending", at)
    rows = legs([ledger.insert("withdrawal", 3, moved, {"withdrawal_id": 3}, at)])
    assert by_account(rows) == {("provider", PROVIDER): -500, ("withdrawal_pending", PROVIDER): 500}
    assert {r["withdrawal_id"] for r in rows} == {3}
