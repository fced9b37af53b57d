"""The payment actor: one open WeChat Pay payment, its timers, and what WeChat says of it.

It never trusts one channel: a notification (verified by the hub), a query on a schedule
while the payment is open, and its expiry (closed at WeChat first, then locally) all lead to
the same moves, which the order's actor writes once together with the order's event
(OrderActor.payment_event). Refunds go the same way: requested, then ended by WeChat's
answer, its notification or a query. A restarted host reloads every payment it watches.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from actors.env import Env
from actors.loading import LoadOnce
from actors.mailbox import Mailbox
from actors.results import fail, ok
from adapters import payments as moves
from adapters.payments import PaymentMove, payment_json
from adapters.wechat_pay import PayRefused, PayUnavailable

log = logging.getLogger("orderhub.payment")

# trade_state → the order's payment event; the other states leave the payment open.
ENDINGS = {"SUCCESS": "paid", "PAYERROR": "payment_failed", "CLOSED": "payment_closed"}


def mismatch(row: dict, trade: dict, appid: str, mchid: str) -> str | None:
    """Why WeChat's account of this trade cannot be ours, or None when it agrees."""
    if trade.get("out_trade_no") != row["out_trade_no"]:
        return "out_trade_no differs"
    if trade.get("appid") != appid:
        return "appid differs"
    if trade.get("mchid") != mchid:
        return "mchid differs"
    if (trade.get("amount") or {}).get("total") != row["amount"]:
        return "amount differs"
    return None


def _paid_at(trade: dict) -> datetime:
    """WeChat's success_time (RFC 3339, +08:00) as the naive UTC the database keeps."""
    at = datetime.fromisoformat(trade["success_time"])
    return (at.astimezone(UTC) if at.tzinfo else at).replace(tzinfo=None)


class PaymentActor:
    def __init__(self, env: Env, pay, row: dict, retire=lambda payment_id: None):
        self.env = env
        self.pay = pay  # adapters.wechat_pay.PayGateway
        self.row = row
        self.id: int = row["id"]
        self._retire = retire  # the host lets go of a payment it no longer watches
        self.mailbox = Mailbox(f"payment {self.id}")
        self.timers: dict[str, asyncio.TimerHandle] = {}

    @property
    def open(self) -> bool:
        return self.row["status"] == "open"

    @property
    def watching(self) -> bool:
        """Open, or a refund is under way: WeChat still has something to tell."""
        return self.row["status"] in ("open", "refunding")

    async def start(self) -> None:
        """Make sure the order knows the payment is open, then watch it until it ends."""
        if self.open:
            await self._move("payment_opened", "open", None, {})
        if self.watching:
            self._every_query()
        if self.open:
            delay = (self.row["expires_at"] - self.env.clock()).total_seconds()
            self._timer("expire", max(delay, 0.0), self._expire)

    def stop(self) -> None:
        for handle in self.timers.values():
            handle.cancel()
        self.timers.clear()

    def _timer(self, name: str, delay: float, handler) -> None:
        if old := self.timers.pop(name, None):
            old.cancel()
        loop = asyncio.get_running_loop()
        self.timers[name] = loop.call_later(delay, self.mailbox.tell, handler)

    def _every_query(self) -> None:
        self._timer("query", self.env.settings.pay_query_s, self._scheduled_query)

    # --- messages --------------------------------------------------------------------------

    async def notified(self, trade: dict) -> dict:
        """WeChat's payment notification, already verified and decrypted by the hub."""
        if why := mismatch(self.row, trade, self.pay.appid, self.pay.mchid):
            log.warning("payment %s: notification refused: %s", self.id, why)
            return fail(400, "mismatch", why)
        await self._apply(trade, "notification")
        return ok(payment=payment_json(self.row))

    async def refresh(self) -> dict:
        """Ask WeChat now (GET /api/payments/{id} while open): a lost notification never
        leaves a paid payment open."""
        if self.open:
            await self._query("refresh")
        return ok(payment=payment_json(self.row))

    async def refund(self, out_refund_no: str, amount: int, reason: str, by: int | None) -> dict:
        """Give `amount` back: counted against the payment first (never above what was paid),
        then asked of WeChat; its answer, notification or a later query ends the refund."""
        move = self._moved(
            "refund_requested",
            "refunding",
            moves.refund_reserved(self.id, amount),
            {"amount": amount, "reason": reason, "outRefundNo": out_refund_no},
            extra=(moves.refund_row(self.row, out_refund_no, amount, reason, by),),
            key=out_refund_no,
        )
        answer = await self._record(move)
        if not answer["ok"] or answer.get("unchanged"):
            return fail(409, "not_refundable", "that is more than is left to refund")
        self._every_query()
        await self._ask_refund(out_refund_no)
        return ok(refund=await self.env.payments.refund(out_refund_no))

    async def refund_notified(self, result: dict) -> dict:
        """WeChat's refund notification (verified and decrypted by the hub)."""
        if result.get("mchid") not in (None, self.pay.mchid):
            return fail(400, "mismatch", "mchid differs")
        await self._refund_result(result, "notification")
        return ok(payment=payment_json(self.row))

    async def _scheduled_query(self) -> None:
        if self.open:
            await self._query("schedule")
        for refund in await self.env.payments.refunds_of(self.id):
            if refund["status"] == "processing":
                await self._ask_refund(refund["out_refund_no"], query=True)
        if self.watching:
            self._every_query()

    async def _expire(self) -> None:
        """Close at WeChat first: if it was paid there meanwhile, it is paid here too."""
        if not self.open:
            return
        try:
            closed = await self.pay.close_trade(self.row["out_trade_no"])
        except (PayUnavailable, PayRefused) as exc:
            log.warning("payment %s: close failed (%s), trying again", self.id, exc)
            self._timer("expire", self.env.settings.pay_query_s, self._expire)
            return
        if not closed:
            await self._query("close refused: paid")
            return
        guard = moves.ended(self.id, "closed", "CLOSED", "expired unpaid")
        await self._move("payment_closed", "closed", guard, {"why": "expired"})

    # --- applying what WeChat says -----------------------------------------------------------

    async def _query(self, why: str) -> None:
        try:
            trade = await self.pay.query(self.row["out_trade_no"])
        except (PayUnavailable, PayRefused) as exc:
            log.info("payment %s: query (%s) failed: %s", self.id, why, exc)
            return
        if trade is None:
            return
        if problem := mismatch(self.row, trade, self.pay.appid, self.pay.mchid):
            log.error("payment %s: WeChat's record disagrees: %s", self.id, problem)
            await self.env.emitter.alert("payment_mismatch", paymentId=self.id, why=problem)
            return
        await self._apply(trade, f"query ({why})")

    async def _apply(self, trade: dict, via: str) -> None:
        state = trade.get("trade_state")
        if not self.open or state not in ENDINGS:
            return
        if state == "SUCCESS":
            guard = moves.paid(self.id, trade["transaction_id"], _paid_at(trade), trade)
            detail = {"transactionId": trade["transaction_id"], "amount": self.row["amount"]}
            await self._move("paid", "paid", guard, {**detail, "via": via})
            return
        status = "failed" if state == "PAYERROR" else "closed"
        why = trade.get("trade_state_desc") or state
        guard = moves.ended(self.id, status, state, why)
        answer = await self._record(
            self._moved(ENDINGS[state], status, guard, {"why": why, "via": via})
        )
        if status == "failed":
            await self._alert_once(answer, "payment_failed", why=why)

    async def _ask_refund(self, out_refund_no: str, query: bool = False) -> None:
        """Ask WeChat for the refund (the same number again is the same refund) or about it."""
        refund = await self.env.payments.refund(out_refund_no)
        try:
            if query:
                result = await self.pay.query_refund(out_refund_no)
            else:
                result = await self.pay.refund(
                    out_trade_no=self.row["out_trade_no"],
                    out_refund_no=out_refund_no,
                    amount=refund["amount"],
                    total=self.row["amount"],
                    reason=refund["reason"],
                )
        except PayUnavailable as exc:
            log.info("payment %s: refund %s: WeChat unavailable: %s", self.id, out_refund_no, exc)
            return  # the query schedule asks again
        except PayRefused as exc:
            if query and exc.code == "RESOURCE_NOT_EXISTS":
                return await self._ask_refund(out_refund_no)  # never reached WeChat: ask now
            result = {"out_refund_no": out_refund_no, "status": "ABNORMAL", "why": exc.message}
        await self._refund_result(result, "query" if query else "request")

    async def _refund_result(self, result: dict, via: str) -> None:
        number = result.get("out_refund_no")
        refund = await self.env.payments.refund(number) if number else None
        if refund is None or refund["payment_id"] != self.id or refund["status"] != "processing":
            return
        state = result.get("refund_status") or result.get("status")
        refund_id = result.get("refund_id")
        if refund_id and not refund["refund_id"]:
            await self.env.payments.set_refund_id(number, refund_id)
        if state == "SUCCESS":
            extra = (moves.refunds_settled(self.id),)
            guard = moves.refund_ended(number, "success", refund_id)
            action = "refunded"
        elif state in ("ABNORMAL", "CLOSED"):
            extra = (
                moves.refund_given_back(self.id, refund["amount"]),
                moves.refunds_settled(self.id),
            )
            guard = moves.refund_ended(number, "failed", refund_id)
            action = "refund_failed"
        else:
            return  # PROCESSING: the notification or a later query ends it
        detail = {"amount": refund["amount"], "outRefundNo": number, "via": via}
        becomes = await self._status_after_refund(refund, succeeded=action == "refunded")
        answer = await self._record(self._moved(action, becomes, guard, detail, extra, key=number))
        if action == "refund_failed":
            await self._alert_once(answer, "refund_failed", amount=refund["amount"])

    async def _status_after_refund(self, refund: dict, succeeded: bool) -> str:
        others = [
            r
            for r in await self.env.payments.refunds_of(self.id)
            if r["status"] == "processing" and r["id"] != refund["id"]
        ]
        left = (
            self.row["amount"] - self.row["refund_amount"] + (0 if succeeded else refund["amount"])
        )
        if others:
            return "refunding"
        return "refunded" if left <= 0 else "paid"

    async def _alert_once(self, answer: dict, kind: str, **detail) -> None:
        """Staff hear of a failed payment or refund (issue #11), once: only the move that
        recorded it raises the alert (a repeated notification changes nothing)."""
        if answer["ok"] and not answer.get("unchanged"):
            await self.env.emitter.alert(
                kind,
                orderId=self.row["order_id"],
                paymentId=self.id,
                paymentKind=self.row["kind"],
                **detail,
            )

    # --- recording a move with the order ------------------------------------------------------

    def _moved(self, action, becomes, guard, detail, extra=(), key="") -> PaymentMove:
        detail = {"kind": self.row["kind"], **detail}
        return PaymentMove(action, self.id, becomes, guard, detail, tuple(extra), key)

    async def _move(self, action: str, becomes: str, guard, detail: dict) -> None:
        await self._record(self._moved(action, becomes, guard, detail))

    async def _record(self, move: PaymentMove) -> dict:
        answer = await self.env.order_messages.payment_event(self.row["order_id"], move)
        if not answer["ok"]:
            log.warning("payment %s: %s not recorded: %s", self.id, move.action, answer["error"])
        if (row := await self.env.payments.load(self.id)) is not None:
            self.row = row
        if not self.watching:
            self.stop()
            self._retire(self.id)
        return answer


# The messages a payment actor takes, and nothing else.
MESSAGES = {
    "notified": PaymentActor.notified,
    "refresh": PaymentActor.refresh,
    "refund": PaymentActor.refund,
    "refund_notified": PaymentActor.refund_notified,
}


class HeldPayments:
    """The payments a host watches (open, or refunding): loaded once each, retired when
    WeChat has nothing more to tell of them."""

    def __init__(self, env: Env, pay):
        self.env = env
        self.pay = pay
        self.held: dict[int, PaymentActor] = {}
        self._load_once = LoadOnce()

    async def get(self, payment_id: int) -> PaymentActor | None:
        """The payment's actor; an ended payment gets a short-lived one that only answers."""
        if (actor := self.held.get(payment_id)) is not None:
            return actor

        async def load() -> PaymentActor | None:
            row = await self.env.payments.load(payment_id)
            actor = None if row is None else PaymentActor(self.env, self.pay, row, self.retire)
            if actor is not None and actor.watching:
                self.held[payment_id] = actor
                await actor.mailbox.ask(actor.start)
            return actor

        return await self._load_once(payment_id, load)

    async def message(self, payment_id: int, message: str, *args) -> dict:
        handler = MESSAGES.get(message)
        if handler is None:
            return fail(400, "unknown_message", f"a payment takes no {message!r}")
        actor = await self.get(payment_id)
        if actor is None:
            return fail(404, "not_found", "no such payment")
        answer = await actor.mailbox.ask(handler, actor, *args)
        if actor.watching and payment_id not in self.held:  # a refund began: watch it
            self.held[payment_id] = actor
        return answer

    def retire(self, payment_id: int) -> None:
        self.held.pop(payment_id, None)
