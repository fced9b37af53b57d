"""The payment actor: one open WeChat Pay payment, its timers, and what WeChat says of it.

It never trusts one channel: a notification (verified by the hub), a query on a schedule
while the payment is open, and its expiry (closed at WeChat first, then locally) all lead to
the same moves, which the order's actor writes once together with the order's event
(OrderActor.payment_event). A restarted host reloads every open payment and its timers.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from actors.env import Env
from actors.mailbox import Mailbox
from actors.results import fail, ok
from adapters import payments as moves
from adapters.payments import payment_json
from adapters.wechat_pay import PayRefused, PayUnavailable

log = logging.getLogger("orderhub.payment")

# trade_state → (order action, payment status after it); the rest leave the payment open.
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
        self._retire = retire  # the host lets go of an ended payment
        self.id: int = row["id"]
        self.mailbox = Mailbox(f"payment {self.id}")
        self.timers: dict[str, asyncio.TimerHandle] = {}

    @property
    def open(self) -> bool:
        return self.row["status"] == "open"

    async def start(self) -> None:
        """Make sure the order knows the payment is open, then watch it until it ends."""
        await self._move("payment_opened", None, {"kind": self.row["kind"]})
        if self.open:
            self._every_query()
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
        """WeChat's notification, already verified and decrypted by the hub."""
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

    async def _scheduled_query(self) -> None:
        if self.open:
            await self._query("schedule")
        if self.open:
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
        await self._move(
            "payment_closed",
            moves.ended(self.id, "closed", "CLOSED", "expired unpaid"),
            {"why": "expired"},
        )

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
        action = ENDINGS.get(state)
        if action is None or not self.open:
            return
        if action == "paid":
            move = moves.paid(self.id, trade["transaction_id"], _paid_at(trade), trade)
            detail = {"transactionId": trade["transaction_id"], "amount": self.row["amount"]}
        else:
            status = "failed" if action == "payment_failed" else "closed"
            why = trade.get("trade_state_desc") or state
            move, detail = moves.ended(self.id, status, state, why), {"why": why}
        await self._move(action, move, {**detail, "via": via})

    async def _move(self, action: str, move, detail: dict) -> None:
        answer = await self.env.order_messages.payment_event(
            self.row["order_id"], action, self.id, move, {"kind": self.row["kind"], **detail}
        )
        if not answer["ok"]:
            log.warning("payment %s: %s not recorded: %s", self.id, action, answer["error"])
        if (row := await self.env.payments.load(self.id)) is not None:
            self.row = row
        if not self.open:
            self.stop()
            self._retire(self.id)


# The messages a payment actor takes, and nothing else.
MESSAGES = {"notified": PaymentActor.notified, "refresh": PaymentActor.refresh}


class HeldPayments:
    """The open payments a host holds: loaded once each, retired when they end."""

    def __init__(self, env: Env, pay):
        self.env = env
        self.pay = pay
        self.held: dict[int, PaymentActor] = {}
        self._loading: dict[int, asyncio.Future] = {}

    async def get(self, payment_id: int) -> PaymentActor | None:
        """The payment's actor; an ended payment gets a short-lived one that only answers."""
        if (actor := self.held.get(payment_id)) is not None:
            return actor
        if (pending := self._loading.get(payment_id)) is not None:
            return await pending
        future = asyncio.get_running_loop().create_future()
        self._loading[payment_id] = future
        try:
            row = await self.env.payments.load(payment_id)
            actor = None if row is None else PaymentActor(self.env, self.pay, row, self.retire)
            if actor is not None and actor.open:
                self.held[payment_id] = actor
                await actor.mailbox.ask(actor.start)
            future.set_result(actor)
            return actor
        except BaseException as exc:
            future.set_exception(exc)
            raise
        finally:
            self._loading.pop(payment_id, None)

    async def message(self, payment_id: int, message: str, *args) -> dict:
        handler = MESSAGES.get(message)
        if handler is None:
            return fail(400, "unknown_message", f"a payment takes no {message!r}")
        actor = await self.get(payment_id)
        if actor is None:
            return fail(404, "not_found", "no such payment")
        return await actor.mailbox.ask(handler, actor, *args)

    def retire(self, payment_id: int) -> None:
        self.held.pop(payment_id, None)
