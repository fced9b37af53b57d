"""What a coupon may do to a payment, and the statements that move it (pure).

- `refusal`: why a held coupon cannot pay for a payment (a distinct code each, CONTRACT §12),
  or None; `discount`: the fen it takes off.
- The payment's moves carry the coupon along in the same transaction as the order's event
  (actors/order_coupons.py): `used` on paid, `released` on closed/failed, `returned` on a
  full refund when the template says so. Each is a conditional update on the status it leaves.
- Who pays: the platform. The payment posts the cash (adapters/ledger.py); the discount is a
  posting of its own (`discount_entries`): platform_coupons −discount, and the fee and the
  provider's earnings topped up to what they are on the price before the discount. A full
  refund reverses it (`reversal_entries`). Both sum to 0, so the ledger still does.
"""

from __future__ import annotations

from datetime import datetime

import orjson

from adapters import ledger

Statement = tuple[str, tuple]

# Payments a coupon may pay: the price after the service. A deposit is asked before the
# price is known, so a threshold could not be judged.
KINDS = ("full", "balance")


def as_list(value) -> list | None:
    """A JSON column (MariaDB hands it back as text)."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def refusal(coupon: dict, order: dict, kind: str, price: int, now: datetime) -> tuple | None:
    """(code, message) when `coupon` (a user_coupons row joined with its template's columns
    as t_*) cannot pay the `kind` payment of `order` whose whole price is `price`."""
    if coupon["status"] != "usable":
        return "coupon_in_use", f"this coupon is {coupon['status']}"
    if coupon["t_status"] == "ended" or coupon["valid_to"] <= now:
        return "coupon_expired", "this coupon has expired"
    if coupon["t_status"] == "paused":
        return "coupon_paused", "this coupon's campaign is paused"
    if coupon["valid_from"] > now:
        return "coupon_not_applicable", "this coupon is not valid yet"
    if kind not in KINDS:
        return "coupon_not_applicable", "a coupon pays for the service's price, not a deposit"
    services = as_list(coupon["t_service_ids"])
    if services and order["service_id"] not in services:
        return "coupon_not_applicable", "this coupon is not for this service"
    areas = as_list(coupon["t_area_ids"])
    if areas and order["area_id"] not in areas:
        return "coupon_not_applicable", "this coupon is not for this area"
    if price < coupon["t_threshold"]:
        return "below_threshold", f"the price must reach {coupon['t_threshold']} fen"
    return None


def discount(coupon: dict, price: int, amount: int) -> int:
    """Fen off a payment of `amount` (of an order priced `price`); at least 1 fen is left to
    pay, since WeChat Pay takes no payment of 0."""
    if coupon["t_kind"] == "threshold":
        off = coupon["t_amount_off"] or 0
    else:
        off = price * (coupon["t_percent_off"] or 0) // 100
        if coupon["t_max_off"]:
            off = min(off, coupon["t_max_off"])
    return max(0, min(off, amount - 1))


# --- the coupon's moves with its payment's -------------------------------------------------------


def locked(coupon_id: int, user_id: int, payment_id: int, order_id: int, off: int) -> Statement:
    """Usable → locked to an open payment, only from usable and only while valid: of two
    prepays racing with one coupon, exactly one changes the row. The template's status was
    judged just before (`refusal`); it is not joined here, so the lock touches this row alone
    and cannot deadlock with a claim, which holds the template's row."""
    return (
        "UPDATE user_coupons SET status = 'locked', payment_id = %s, order_id = %s,"
        " discount = %s, locked_at = UTC_TIMESTAMP(3)"
        " WHERE id = %s AND user_id = %s AND status = 'usable'"
        " AND valid_from <= UTC_TIMESTAMP(3) AND valid_to > UTC_TIMESTAMP(3)",
        (payment_id, order_id, off, coupon_id, user_id),
    )


def used(payment_id: int) -> Statement:
    return (
        "UPDATE user_coupons SET status = 'used', used_at = UTC_TIMESTAMP(3)"
        " WHERE payment_id = %s AND status = 'locked'",
        (payment_id,),
    )


def released(payment_id: int) -> Statement:
    """Locked → usable again: its payment closed or failed (or never reached WeChat)."""
    return (
        "UPDATE user_coupons SET status = 'usable', payment_id = NULL, order_id = NULL,"
        " discount = NULL, locked_at = NULL WHERE payment_id = %s AND status = 'locked'",
        (payment_id,),
    )


def returned(payment_id: int) -> Statement:
    """Used → usable on a full refund (the caller asks only when its template gives coupons
    back)."""
    return (
        "UPDATE user_coupons SET status = 'usable', payment_id = NULL, order_id = NULL,"
        " discount = NULL, locked_at = NULL, used_at = NULL"
        " WHERE payment_id = %s AND status = 'used'",
        (payment_id,),
    )


# --- the discount in the ledger ------------------------------------------------------------------


def discount_legs(amount: int, off: int, provider_id: int, fee_rate_bp: int, available_at):
    """The discount's legs for a payment of `amount` paid with `off` fen off: the fee and
    the earnings become those of `amount + off`."""
    fee = ledger.fee_share(amount + off, fee_rate_bp) - ledger.fee_share(amount, fee_rate_bp)
    return [
        ledger.Leg("platform_coupons", -off),
        ledger.Leg("platform_fee", fee),
        ledger.Leg("provider", off - fee, provider_id, available_at),
    ]


def discount_entries(
    payment: dict, off: int, provider_id: int | None, fee_rate_bp: int, now: datetime, hold
) -> tuple[Statement, ...]:
    """The `coupon` posting of a paid payment (a payments row) that had `off` fen off. A
    coupon pays only for the price after the service (KINDS), so a provider is on the order;
    without one there is nobody to top up and nothing is posted."""
    if off <= 0 or provider_id is None:
        return ()
    available = (payment.get("paid_at") or now) + hold
    legs = discount_legs(payment["amount"], off, provider_id, fee_rate_bp, available)
    refs = {
        "fee_rate_bp": fee_rate_bp,
        "order_id": payment["order_id"],
        "payment_id": payment["id"],
    }
    return (ledger.insert("coupon", payment["id"], legs, refs, now),)


def reversal_entries(posted: list[dict], now: datetime) -> tuple[Statement, ...]:
    """The `coupon` posting's legs (ledger rows) given back when its payment is refunded in
    full; the provider's leg counts from its own available_at, or now if later."""
    if not posted:
        return ()
    legs = [
        ledger.Leg(
            r["account"],
            -int(r["amount"]),
            r["provider_id"],
            max(r["available_at"], now) if r["available_at"] else None,
        )
        for r in posted
    ]
    first = posted[0]
    refs = {"fee_rate_bp": first["fee_rate_bp"], "order_id": first["order_id"]}
    refs["payment_id"] = first["payment_id"]
    return (ledger.insert("coupon_reversal", first["payment_id"], legs, refs, now),)
