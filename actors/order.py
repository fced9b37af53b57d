"""The order actor: one order's state and timers, one message at a time. Its dispatch is in
actors/order_dispatch.py, a scheduled order's times in actors/order_schedule.py, its money in
actors/order_money.py.

What may happen is decided by actors.transitions.decide (the state machine, pure); this
actor carries it out: the change is written to MySQL (orders + order_events with the next
seq) and only then acknowledged, fanned out, and followed by the effect's follow-ups.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from datetime import timedelta

from actors import offers, privacy
from actors.dispatch.plan import State, dumps, offered_to, state_of
from actors.emit import rooms
from actors.env import Env
from actors.mailbox import Mailbox
from actors.order_alerts import OrderAlerts
from actors.order_dispatch import OrderDispatch
from actors.order_money import SYSTEM_ACTOR, OrderMoney
from actors.order_schedule import OrderSchedule
from actors.results import fail, not_found, ok
from actors.transitions import (
    STAFF,
    TERMINAL,
    Decision,
    decide,
)
from adapters import providers as provider_rows
from adapters.orders import Statement, Unchanged, message_json, order_json, status_event_json

log = logging.getLogger("orderhub.order")

_RECENT_CMDS = 64


class OrderActor(OrderDispatch, OrderSchedule, OrderMoney, OrderAlerts):
    def __init__(self, env: Env, row: dict):
        self.env = env
        self.row = row
        self.id: int = row["id"]
        self.mailbox = Mailbox(f"order {self.id}")
        self.crowd: set[int] = set()  # providers a grab offer was broadcast to
        self.recent: OrderedDict[str | tuple, dict] = OrderedDict()  # cmd id → answer
        self.timers: dict[str, asyncio.TimerHandle] = {}

    @property
    def status(self) -> str:
        return self.row["status"]

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self, fresh: bool) -> None:
        """Arm timers and dispatch; `fresh` for a new order, else a reload after a restart."""
        await self.recall_crowd()
        if fresh:
            await self._announce_created()
        if self.status == "pending":
            self._arm_expiry()
            await self._arm_untaken()
            await self._dispatch()
        elif self.status == "accepted":
            await self._watch_slot()

    async def recall_crowd(self) -> None:
        """Who had the grab offer: a loser hears why it lost, even after a restart or once
        the order has ended."""
        self.crowd = await offers.crowd(self.env, self.id)

    def stop(self) -> None:
        for handle in self.timers.values():
            handle.cancel()
        self.timers.clear()

    def _timer(self, name: str, delay: float, handler, *args) -> None:
        self._cancel_timer(name)
        loop = asyncio.get_running_loop()
        self.timers[name] = loop.call_later(delay, self.mailbox.tell, handler, *args)

    def _cancel_timer(self, name: str) -> None:
        if handle := self.timers.pop(name, None):
            handle.cancel()

    def _arm_expiry(self) -> None:
        if (expires_at := self.row["expires_at"]) is not None:
            delay = (expires_at - self.env.clock()).total_seconds()
            self._timer("expire", max(delay, 0.0), self._system, "expire")

    # --- messages (each runs inside the mailbox) -------------------------------------------

    async def command(self, action: str, actor: dict, args: dict, cmd_id: str | None) -> dict:
        if cmd_id and cmd_id in self.recent:
            return self.recent[cmd_id]
        answer = await self._apply(action, actor, args, cmd_id)
        if cmd_id and answer["ok"]:
            self._remember(cmd_id, answer)
        return answer

    def _remember(self, key, answer: dict) -> None:
        self.recent[key] = answer
        while len(self.recent) > _RECENT_CMDS:
            self.recent.popitem(last=False)

    async def chat(self, actor: dict, text: str, client_msg_id: str) -> dict:
        if actor["role"] in STAFF:
            return fail(403, "forbidden", "staff watch the chat; only the parties write")
        if not self._writes_chat(actor):
            return not_found()
        if self.status in ("cancelled", "expired"):
            return fail(409, "order_closed", f"the order is {self.status}")
        key = ("chat", actor["userId"], client_msg_id)
        if key in self.recent:
            return self.recent[key]
        orders = self.env.orders
        if existing := await orders.message_by_client_id(self.id, actor["userId"], client_msg_id):
            return ok(msgId=existing["id"], seq=existing["seq"])
        message = {
            "sender_id": actor["userId"],
            "sender_role": actor["role"],
            "text": text,
            "client_msg_id": client_msg_id,
        }
        if not await self._write({}, None, message):
            return fail(409, "conflict", "the order changed meanwhile; send again")
        await self.env.emitter.emit(
            "chat.message", message_json(self.id, message), self._party_rooms()
        )
        answer = ok(msgId=message["id"], seq=message["seq"])
        self._remember(key, answer)
        return answer

    def _writes_chat(self, actor: dict) -> bool:
        """The order's customer and the provider on it write; nobody else sees it exists."""
        if actor["role"] == "customer":
            return actor["userId"] == self.row["customer_id"]
        pid = actor.get("providerId")
        return actor["role"] == "provider" and pid is not None and pid == self.row["provider_id"]

    async def _system(self, action: str) -> None:
        if self.terminal:
            return
        result = await self._apply(action, SYSTEM_ACTOR, {}, None)
        if not result["ok"]:
            log.info("order %s: system %s refused: %s", self.id, action, result["error"])

    # --- applying a decision ----------------------------------------------------------------

    async def _apply(
        self,
        action: str,
        actor: dict,
        args: dict,
        cmd_id: str | None,
        guard: Statement | None = None,
        extra: tuple[Statement, ...] = (),
    ) -> dict:
        decision = decide(self.row, actor, action, args, self.crowd, self.env.clock())
        if not isinstance(decision, Decision):
            if decision["ok"]:  # already so (transitions._retaken): the order as it stands
                return ok(order=order_json(self.row), unchanged=True)
            return decision  # a refusal
        winner = decision.changes.get("provider_id")
        if winner is not None:
            reserved = await self.env.providers.reserve(winner, self.id, await self._slot())
            if not reserved["ok"]:
                return reserved
        event = {
            "action": action,
            "by_role": actor["role"],
            "by_user_id": actor.get("userId"),
            "detail": decision.detail,
            "cmd_id": cmd_id,
        }
        before = self.row
        if action == "complete":
            extra += await self._release_held()
        try:
            written = await self._write(
                decision.changes, event, None, self._counters(decision) + extra, guard
            )
        except Unchanged:  # already applied (a retried command), or its guard no longer holds
            written = None
        if not written:
            if winner is not None:
                await self.env.providers.release(winner, self.id)
            if written is None:
                return ok(order=order_json(self.row), unchanged=True)
            return fail(409, "conflict", "the order changed meanwhile; look again")
        if privacy.tracking_ends(before["status"], self.status) and before["provider_id"]:
            # before the announce: no position of the provider is sent after the phase ends
            await self.env.providers.release(before["provider_id"], self.id)
        await self._announce(event)
        if self.env.contacts is not None:  # a masked-call number bound or released
            self.env.contacts.moved(before, self.row)
        if self.env.notify is not None and self.status != before["status"]:
            self.env.notify.status_changed(self.id, self.status)  # sent in the background
        # The answer is the order as this action left it: a follow-up may write an event of
        # its own (a refused batch dispatches the next at once), and the caller must read
        # its action's seq in the answer, not the follow-up's.
        acted = order_json(self.row)
        for step in decision.then:
            await FOLLOW_UPS[step](self, before, action)
        return ok(order=acted)

    def _counters(self, decision: Decision) -> tuple:
        """Provider counters that commit with the change."""
        if (winner := decision.changes.get("provider_id")) is not None:
            return (provider_rows.count_assignment(winner),)
        if "final_amount" in decision.changes and self.row["provider_id"]:
            amount = decision.changes["final_amount"]
            return (provider_rows.count_completion(self.row["provider_id"], amount),)
        return ()

    async def _write(
        self, changes: dict, event, message, extra: tuple = (), guard: Statement | None = None
    ) -> bool:
        """Record the change; False (after a reload) when someone else moved the order.
        Raises Unchanged (after a reload) when it was already made or its guard fails."""
        try:
            row = await self.env.orders.record(self.row, changes, event, message, extra, guard)
        except Unchanged:
            await self._reload()
            raise
        if row is None:
            await self._reload()
            return False
        self.row = row
        return True

    async def _reload(self) -> None:
        if (fresh := await self.env.orders.load(self.id)) is not None:
            seen, self.row = self.row["seq"], fresh
            if fresh["seq"] > seen:  # e.g. our own commit whose answer the connection lost
                await self.announce_since(seen)

    async def announce_since(self, after_seq: int) -> None:
        """Push again the events after `after_seq` as MySQL has them. A change is pushed only
        after its commit, so an actor that died (or lost its connection) between the two left
        an event written that no watcher was sent; whoever loads the order next sends it.
        Pushes are at least once: a client drops a `seq` it already holds (CONTRACT §7).
        The `create` (seq 1) is the hub's, which pushes nothing for it."""
        for ev in await self.env.orders.events_after(self.id, max(after_seq, 1)):
            if ev.pop("type") == "chat":
                await self.env.emitter.emit("chat.message", ev, self._party_rooms())
            else:
                await self._push_status(ev)

    def _party_rooms(self) -> list[str]:
        return rooms(order=self.id, user=self.row["customer_id"], provider=self.row["provider_id"])

    async def _announce(self, event: dict) -> None:
        await self._push_status(status_event_json(self.id, event))

    async def _push_status(self, payload: dict) -> None:
        await self.env.emitter.emit("order.status", payload, self._party_rooms())
        await self.env.emitter.emit(
            "console.update",
            {"type": "order", "order": order_json(self.row), "event": payload},
            "staff",
        )

    async def _announce_created(self) -> None:
        """Staff see a new order at once: the hub writes its `create` event (seq 1) and sends
        nothing, and a direct order has no dispatch step to carry it to the console."""
        row = self.row
        created = {
            "seq": 1,
            "status": "pending",
            "created_at": row["created_at"],
            "by_role": "customer",
            "action": "create",
            "detail": {"dispatchMode": row["dispatch_mode"]},
        }
        await self.env.emitter.emit(
            "console.update",
            {
                "type": "order",
                "order": order_json(row),
                "event": status_event_json(self.id, created),
            },
            "staff",
        )

    # --- follow-ups, named in actors.transitions.EFFECTS ------------------------------------

    async def _then_stop_dispatch(self, before: dict, action: str) -> None:
        self.stop()  # every dispatch timer (offers, batches, stages, reveals, expiry)

    async def _then_withdraw_taken(self, before: dict, action: str) -> None:
        await self._withdraw_all("taken", before)

    async def _then_watch_slot(self, before: dict, action: str) -> None:
        await self._watch_slot()

    async def _then_withdraw_declined(self, before: dict, action: str) -> None:
        if before["offered_provider_id"] and not self.row["offered_provider_id"]:
            self._cancel_timer("offer")
        refused = offered_to(before) - offered_to(self.row)
        await offers.withdraw(self.env, self.id, sorted(refused), "declined")

    async def _then_dispatch_next(self, before: dict, action: str) -> None:
        await self._after_refusal(before, action)

    async def _then_release_provider(self, before: dict, action: str) -> None:
        if before["provider_id"]:
            await self.env.providers.release(before["provider_id"], self.id)

    async def _then_dispatch_again(self, before: dict, action: str) -> None:
        """A handed-back (or no-show) order goes back to dispatch from the chain's start,
        without that provider."""
        gone = before["provider_id"]
        self.stop()
        self.crowd.discard(gone)
        if action != "no_show":
            await self.env.emitter.alert("order_handed_back", orderId=self.id, providerId=gone)
        again = State(tried=(*state_of(self.row).tried, gone))
        await self._expire_later({"dispatch": dumps(again)})
        await self._dispatch()

    async def _expire_later(self, changes: dict) -> None:
        """The expiry clock starts again (back in dispatch), with `changes` in the same write."""
        expires_at = self.env.clock() + timedelta(seconds=self.env.settings.order_expiry_s)
        if self.row["scheduled_at"] is not None:
            expires_at = max(expires_at, self.row["scheduled_at"])
        if await self._write({"expires_at": expires_at, **changes}, None, None):
            self._arm_expiry()
            await self._arm_untaken()

    async def _then_redispatch(self, before: dict, action: str) -> None:
        """Staff start the chain again: every offer out now is withdrawn, the chain starts
        from its first stage with nobody left out."""
        self.stop()
        await self._withdraw_all("withdrawn", before)
        await self._expire_later({})
        await self._dispatch()

    async def _then_reassigned(self, before: dict, action: str) -> None:
        """Staff moved the order to another provider: the one on it hears it is gone
        (`order.taken`, reason `reassigned`); the new one gets a personal offer."""
        gone = before["provider_id"]
        self.stop()  # the slot's reminder and no-show timers were the old provider's
        self.crowd.discard(gone)
        await offers.withdraw(self.env, self.id, [gone], "reassigned")
        await self._expire_later({})
        await self._offer_to(self.row["offered_provider_id"])

    async def _then_offer_assigned(self, before: dict, action: str) -> None:
        """Staff chose the provider: the chain pauses; its batch offers are withdrawn."""
        for name in ("batch", "stage", "lead"):
            self._cancel_timer(name)
        self._cancel_reveals()
        batch = offered_to(before) - {self.row["offered_provider_id"]}
        await offers.withdraw(self.env, self.id, sorted(batch), "withdrawn")
        await self._offer_to(self.row["offered_provider_id"])

    async def _then_end(self, before: dict, action: str) -> None:
        self.stop()
        if before["status"] == "pending":
            await self._withdraw_all(self.status, before)
        if before["provider_id"]:
            await self.env.providers.release(before["provider_id"], self.id)
        self.env.retire_order(self.id)


FOLLOW_UPS = {
    "stop_dispatch": OrderActor._then_stop_dispatch,
    "withdraw_taken": OrderActor._then_withdraw_taken,
    "withdraw_declined": OrderActor._then_withdraw_declined,
    "dispatch_next": OrderActor._then_dispatch_next,
    "release_provider": OrderActor._then_release_provider,
    "dispatch_again": OrderActor._then_dispatch_again,
    "offer_assigned": OrderActor._then_offer_assigned,
    "redispatch": OrderActor._then_redispatch,
    "reassigned": OrderActor._then_reassigned,
    "watch_slot": OrderActor._then_watch_slot,
    "refund_deposit": OrderActor._then_refund_deposit,
    "end": OrderActor._then_end,
}
