"""A payment's coupon moves with it (CONTRACT §12), in the transaction that records the
payment's move as an order event (actors/order_money.py `payment_event`):

- paid: the coupon is used, and the discount is posted as its own ledger posting, so the
  provider earns on the price before the discount and the platform pays for it;
- closed or failed: the coupon is usable again;
- refunded in full: the discount posting is reversed, and the coupon given back when its
  template says so (a partial refund keeps both).

A payment without a coupon gets nothing here.
"""

from __future__ import annotations

from actors.env import Env
from adapters import coupon_moves, coupons, ledger
from adapters.clock import utcnow
from adapters.payments import PaymentMove


async def coupon_statements(env: Env, order: dict, move: PaymentMove) -> tuple:
    coupon = await coupons.of_payment(env.db, move.payment_id)
    if coupon is None:
        return ()
    if move.action == "paid":
        payment = await env.payments.load(move.payment_id)
        fee = await ledger.fee_rate_for_order(env.db, order["id"])
        hold = ledger.hold(env.settings.earnings_hold_s)
        postings = coupon_moves.discount_entries(
            payment, coupon["discount"] or 0, order["provider_id"], fee, utcnow(), hold
        )
        return (coupon_moves.used(move.payment_id), *postings)
    if move.action in ("payment_closed", "payment_failed"):
        return (coupon_moves.released(move.payment_id),)
    if move.action == "refunded" and move.becomes == "refunded":
        posted = await coupons.discount_posting(env.db, move.payment_id)
        reversal = coupon_moves.reversal_entries(posted, utcnow())
        back = (coupon_moves.returned(move.payment_id),) if coupon["t_return_on_refund"] else ()
        return (*reversal, *back)
    return ()
