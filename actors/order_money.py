"""An order's money: its payments' moves recorded as order events, with the settlement
ledger's entries in the same transaction, and the deposit given back on a cancel.

Part of the order actor (actors/order.py), split out by concept: these methods run inside the
order's mailbox and use its state (row, env).
"""

from __future__ import annotations

import asyncio

from actors.order_coupons import coupon_statements
from actors.transitions import payment_status
from adapters import ledger
from adapters.payments import PaymentMove, payment_json

SYSTEM_ACTOR = {"role": "system", "userId": None}


class OrderMoney:
    async def payment_event(self, move: PaymentMove) -> dict:
        """One of this order's payments moved. The payment's conditional update and the order
        event commit together, and once (the command id is the payment's and the move's)."""
        payments = await self.env.payments.of_order(self.id)
        now = [{**p, "status": move.becomes} if p["id"] == move.payment_id else p for p in payments]
        args = {
            "paymentStatus": payment_status(now),
            "detail": {"paymentId": move.payment_id, **move.detail},
        }
        extra = move.extra + await self._postings(move)
        extra += await coupon_statements(self.env, self.row, move)  # its coupon, if any
        answer = await self._apply(
            move.action, SYSTEM_ACTOR, args, move.cmd_id, guard=move.guard, extra=extra
        )
        if answer["ok"] and not answer.get("unchanged"):
            row = await self.env.payments.load(move.payment_id)
            await self.env.emitter.emit(
                "console.update",
                {"type": "payment", "orderId": self.id, "payment": payment_json(row)},
                "staff",
            )
        return answer

    async def _postings(self, move: PaymentMove) -> tuple:
        """The settlement ledger's entries that commit with a payment's move (CONTRACT §9):
        a payment splits into the fee and the provider's earnings; a refund reverses them."""
        db, hold = self.env.db, self.env.settings.earnings_hold_s
        if move.action == "paid":
            payment = await self.env.payments.load(move.payment_id)
            fee = await ledger.fee_rate_for_order(db, self.id)
            return ledger.payment_entries(payment, self.row["provider_id"], fee, hold_s=hold)
        if move.action == "refunded":
            posting = await ledger.posting_of(db, move.payment_id)
            if posting is None:  # never posted: nothing to reverse
                return ()
            refund = await self.env.payments.refund(move.key)
            payment = await self.env.payments.load(move.payment_id)
            return ledger.refund_entries(refund, payment, **posting, hold_s=hold)
        return ()

    async def _release_held(self) -> tuple:
        """A deposit paid before anyone took the order was held; at completion it goes to the
        provider who did the work, less the fee."""
        held = await ledger.held_of_order(self.env.db, self.id)
        if not held:
            return ()
        fee = await ledger.fee_rate_for_order(self.env.db, self.id)
        entries: tuple = ()
        for payment_id, amount in held.items():
            payment = await self.env.payments.load(payment_id)
            entries += ledger.release_entries(
                payment,
                amount,
                self.row["provider_id"],
                fee,
                hold_s=self.env.settings.earnings_hold_s,
            )
        return entries

    async def _then_refund_deposit(self, before: dict, action: str) -> None:
        """The area's rule: a paid deposit goes back in full when the order is cancelled
        before the provider set off; later, it pays for the trip (staff may still refund)."""
        if before["status"] not in ("pending", "accepted"):
            return
        for payment in await self.env.payments.of_order(self.id):
            left = payment["amount"] - payment["refund_amount"]
            if payment["kind"] == "deposit" and payment["status"] == "paid" and left > 0:
                # Not awaited: the refund's moves come back to this mailbox. The number is
                # fixed, so asking again (a retried cancel) is the same refund.
                asyncio.get_running_loop().create_task(
                    self.env.payment_messages.refund(
                        payment["id"], f"RF{payment['id']}DEPOSIT", left, "订单取消，退还定金"
                    )
                )
