"""The order actor: one order's state machine, timers and dispatch, one message at a time.

Every change is checked against actors.transitions.TABLE, written to MySQL (orders +
order_events with the next seq) and only then acknowledged and fanned out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from datetime import timedelta

import orjson

from actors import geo
from actors.emit import rooms
from actors.mailbox import Mailbox
from actors.results import fail, not_found, ok
from actors.transitions import STAFF, may_ever, rule_for
from adapters import orders as store
from adapters.clock import iso, utcnow

log = logging.getLogger("orderhub.order")

_RECENT_CMDS = 64


class OrderActor:
    def __init__(self, env, row: dict):
        self.env = env
        self.row = row
        self.id: int = row["id"]
        self.mailbox = Mailbox(f"order {self.id}")
        self.offered: set[int] = set()  # providers that got the offer (grab mode)
        self.tried: set[int] = set()  # providers an auto offer already went to
        self.recent: OrderedDict[str, dict] = OrderedDict()  # cmd_id → answer (retries)
        self.timers: dict[str, asyncio.TimerHandle] = {}

    @property
    def status(self) -> str:
        return self.row["status"]

    @property
    def terminal(self) -> bool:
        return self.status in store.TERMINAL

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self, fresh: bool) -> None:
        """Arm timers and dispatch; `fresh` for a new order, else a reload after a restart."""
        # Who had the offer: losers of a grab get `already_taken`, even after a restart.
        offered = await self.env.redis.smembers(self.env.keys.offered(self.id))
        self.offered = {int(p) for p in offered}
        if self.status != "pending":
            return
        expires_at = self.row["expires_at"]
        if expires_at is not None:
            delay = (expires_at - utcnow()).total_seconds()
            self._timer("expire", max(delay, 0.0), self._system, "expire")
        mode = self.row["dispatch_mode"]
        if mode == "grab":
            await self._offer_round()
        elif self.row["offered_provider_id"]:
            await self._offer_to(self.row["offered_provider_id"])
        elif mode == "auto":
            await self._offer_next()

    def stop(self) -> None:
        for handle in self.timers.values():
            handle.cancel()
        self.timers.clear()

    def _timer(self, name: str, delay: float, handler, *args) -> None:
        if old := self.timers.pop(name, None):
            old.cancel()
        loop = asyncio.get_running_loop()
        self.timers[name] = loop.call_later(delay, self.mailbox.tell, handler, *args)

    def _cancel_timer(self, name: str) -> None:
        if handle := self.timers.pop(name, None):
            handle.cancel()

    # --- messages (each runs inside the mailbox) -------------------------------------------

    async def command(self, action: str, actor: dict, args: dict, cmd_id: str | None) -> dict:
        if cmd_id and cmd_id in self.recent:
            return self.recent[cmd_id]
        answer = await self._decide(action, actor, args, cmd_id)
        if cmd_id and answer["ok"]:
            self.recent[cmd_id] = answer
            while len(self.recent) > _RECENT_CMDS:
                self.recent.popitem(last=False)
        return answer

    async def chat(self, actor: dict, text: str, client_msg_id: str) -> dict:
        if not self._is_party(actor, "chat") or actor["role"] in STAFF:
            if actor["role"] in STAFF:
                return fail(403, "forbidden", "staff watch the chat; only the parties write")
            return not_found()
        if self.row["status"] in ("cancelled", "expired"):
            return fail(409, "order_closed", f"the order is {self.status}")
        key = ("chat", actor["userId"], client_msg_id)
        if key in self.recent:
            return self.recent[key]
        existing = await self.env.db.fetch_one(
            "SELECT id, seq FROM messages WHERE order_id = %s AND sender_id = %s"
            " AND client_msg_id = %s",
            (self.id, actor["userId"], client_msg_id),
        )
        if existing:
            return ok(msgId=existing["id"], seq=existing["seq"])
        message = {
            "sender_id": actor["userId"],
            "sender_role": actor["role"],
            "text": text,
            "client_msg_id": client_msg_id,
        }
        row = await store.record(self.env.db, self.row, {}, None, message)
        if row is None:
            await self._reload()
            return fail(409, "conflict", "the order changed meanwhile; send again")
        self.row = row
        payload = store.message_json(self.id, message)
        await self.env.emit("chat.message", payload, self._party_rooms())
        answer = ok(msgId=message["id"], seq=message["seq"])
        self.recent[key] = answer
        return answer

    async def _system(self, action: str) -> None:
        if self.terminal:
            return
        result = await self._decide(action, {"role": "system", "userId": None}, {}, None)
        if not result["ok"]:
            log.info("order %s: system %s refused: %s", self.id, action, result["error"])

    async def _offer_timeout(self, provider_id: int) -> None:
        if self.status == "pending" and self.row["offered_provider_id"] == provider_id:
            await self._system("offer_timeout")

    async def _offer_round_msg(self) -> None:
        if self.status == "pending":
            await self._offer_round()

    # --- deciding ---------------------------------------------------------------------------

    def _is_party(self, actor: dict, action: str) -> bool:
        role = actor["role"]
        if role in STAFF or role == "system":
            return True
        if role == "customer":
            return actor["userId"] == self.row["customer_id"]
        pid = actor.get("providerId")
        if role != "provider" or pid is None:
            return False
        if pid == self.row["provider_id"]:
            return True
        if action == "grab":
            return pid in self.offered
        if action in ("accept", "decline"):
            return pid == self.row["offered_provider_id"]
        return False

    def _guard(self, guard: str | None, actor: dict) -> dict | None:
        row = self.row
        if guard == "open_to_grab" and row["dispatch_mode"] != "grab":
            return fail(409, "not_grabbable", "this order is dispatched, not open to grab")
        if guard == "has_quote" and row["quoted_amount"] is None:
            return fail(409, "no_quote", "there is no quote to confirm yet")
        if guard == "no_open_quote" and row["quoted_amount"] is not None:
            return fail(409, "quote_pending", "the customer must confirm the quote first")
        return None

    async def _decide(self, action: str, actor: dict, args: dict, cmd_id: str | None) -> dict:
        role = actor["role"]
        if not may_ever(role, action):
            return fail(403, "forbidden", f"a {role} cannot {action} an order")
        if not self._is_party(actor, action):
            return not_found()
        rule = rule_for(self.status, action, role)
        if rule is None:
            if action == "grab":
                return fail(409, "already_taken", "another provider took this order")
            return fail(
                409, "invalid_transition", f"cannot {action} an order that is {self.status}"
            )
        if problem := self._guard(rule.guard, actor):
            return problem

        now = utcnow()
        changes, detail = self._effects(action, rule.to, actor, args, now)
        winner = changes.get("provider_id")
        if winner is not None:
            reserved = await self.env.provider_call(winner, "reserve", self.id)
            if not reserved["ok"]:
                return reserved
        extra = []
        if action == "complete" and self.row["provider_id"]:
            extra.append(
                (
                    "UPDATE providers SET completed_orders = completed_orders + 1,"
                    " total_earnings = total_earnings + %s WHERE id = %s",
                    (changes["final_amount"], self.row["provider_id"]),
                )
            )
        if winner is not None:
            extra.append(
                ("UPDATE providers SET total_orders = total_orders + 1 WHERE id = %s", (winner,))
            )
        event = {
            "action": action,
            "by_role": role,
            "by_user_id": actor.get("userId"),
            "detail": detail,
            "cmd_id": cmd_id,
        }
        before = self.row
        row = await store.record(self.env.db, before, changes, event, extra=extra)
        if row is None:
            if winner is not None:
                await self.env.provider_call(winner, "release", self.id)
            await self._reload()
            return fail(409, "conflict", "the order changed meanwhile; look again")
        self.row = row
        await self._announce(event)
        await self._after(action, before, actor)
        return ok(order=store.order_json(self.row))

    def _effects(self, action: str, to: str, actor: dict, args: dict, now) -> tuple[dict, dict]:
        changes: dict = {"status": to} if to != self.status else {}
        detail: dict = {}
        pid = actor.get("providerId")
        if action in ("grab", "accept"):
            changes.update(provider_id=pid, accepted_at=now, offered_provider_id=None)
            detail["providerId"] = pid
        elif action in ("decline", "offer_timeout"):
            detail["providerId"] = self.row["offered_provider_id"]
            changes["offered_provider_id"] = None
        elif action == "assign":
            changes["offered_provider_id"] = args["providerId"]
            detail["providerId"] = args["providerId"]
        elif action == "depart":
            changes["departed_at"] = now
        elif action == "arrive":
            changes["arrived_at"] = now
        elif action == "quote":
            changes.update(quoted_amount=args["amount"], quoted_at=now)
            detail["amount"] = args["amount"]
        elif action in ("confirm-quote", "start"):
            changes["started_at"] = now
            if self.row["quoted_amount"] is not None:
                detail["amount"] = self.row["quoted_amount"]
        elif action == "complete":
            final = self.row["quoted_amount"] or self.row["estimated_amount"]
            changes.update(completed_at=now, final_amount=final)
            detail["finalAmount"] = final
        elif action == "cancel":
            by = "staff" if actor["role"] in STAFF else actor["role"]
            changes.update(cancelled_at=now, cancel_reason=args.get("reason", ""), cancel_by=by)
            detail["reason"] = args.get("reason", "")
        return changes, detail

    # --- after a change is written ------------------------------------------------------------

    def _party_rooms(self) -> list[str]:
        return rooms(order=self.id, user=self.row["customer_id"], provider=self.row["provider_id"])

    async def _announce(self, event: dict) -> None:
        payload = store.status_event_json(self.id, event)
        await self.env.emit("order.status", payload, self._party_rooms())
        await self.env.emit(
            "console.update",
            {"type": "order", "order": store.order_json(self.row), "event": payload},
            "staff",
        )

    async def _after(self, action: str, before: dict, actor: dict) -> None:
        if action in ("grab", "accept"):
            self._cancel_timer("offer")
            self._cancel_timer("expire")
            self._cancel_timer("round")
            await self._withdraw("taken", before)
        elif action in ("decline", "offer_timeout"):
            self._cancel_timer("offer")
            declined = before["offered_provider_id"]
            if declined:
                await self._withdraw_from([declined], "declined")
            if self.row["dispatch_mode"] == "auto":
                await self._offer_next()
            else:
                await self.env.alert(
                    "offer_unanswered", orderId=self.id, providerId=declined, why=action
                )
        elif action == "assign":
            await self._offer_to(self.row["offered_provider_id"])
        if self.terminal:
            self.stop()
            if before["status"] == "pending":
                await self._withdraw(self.status, before)
            if before["provider_id"]:
                await self.env.provider_call(before["provider_id"], "release", self.id)
            self.env.retire_order(self.id)

    async def _reload(self) -> None:
        row = await store.load(self.env.db, self.id)
        if row is not None:
            self.row = row

    # --- dispatch -------------------------------------------------------------------------------

    def _offer_payload(self, distance_m: float, ttl: float) -> dict:
        expires = time.time() + ttl
        return {
            "orderId": self.id,
            "serviceId": self.row["service_id"],
            "distanceM": round(distance_m),
            "price": self.row["estimated_amount"],
            "address": self.row["district"],
            "urgency": self.row["urgency"],
            "dispatchMode": self.row["dispatch_mode"],
            "expiresAt": iso(utcnow() + timedelta(seconds=ttl)),
            "expiresAtTs": expires,
        }

    async def _send_offers(self, targets: list[tuple[int, float]], ttl: float) -> None:
        keys, keep = self.env.keys, int(self.env.settings.order_expiry_s) + 3600
        pipe = self.env.redis.pipeline(transaction=False)
        emits = []
        for pid, dist in targets:
            payload = self._offer_payload(dist, ttl)
            pipe.hset(keys.offers(pid), str(self.id), orjson.dumps(payload))
            pipe.expire(keys.offers(pid), keep)
            public = {k: v for k, v in payload.items() if k != "expiresAtTs"}
            emits.append(("order.offer", public, f"provider:{pid}"))
        if self.row["dispatch_mode"] == "grab":
            pipe.sadd(keys.offered(self.id), *[pid for pid, _ in targets])
            pipe.expire(keys.offered(self.id), keep)
        self.env.emitter.add_to(pipe, emits)
        await pipe.execute()

    async def _nearby(self, count: int) -> list[tuple[int, float]]:
        """Eligible providers (online, approved, with the skill and room) nearest first."""
        row = self.row
        return await geo.nearest(
            self.env.redis,
            self.env.keys,
            row["service_id"],
            row["lat"],
            row["lng"],
            self.env.settings.grab_radius_m,
            count,
        )

    async def _offer_round(self) -> None:
        """Grab mode: offer to every eligible provider nearby, again every offer TTL."""
        s = self.env.settings
        hits = await self._nearby(s.max_offers)
        self.offered.update(pid for pid, _ in hits)
        if hits:
            await self._send_offers(hits, s.offer_ttl_s)
        elif not self.offered:
            await self.env.alert("no_provider_nearby", orderId=self.id)
        self._timer("round", s.offer_ttl_s, self._offer_round_msg)

    async def _offer_to(self, provider_id: int) -> None:
        """Direct, auto and staff-assigned offers: one provider, who accepts or declines."""
        s = self.env.settings
        dist = 0.0
        location = await self.env.provider_call(provider_id, "where")
        if location.get("lat") is not None:
            dist = geo_distance(self.row["lat"], self.row["lng"], location["lat"], location["lng"])
        await self._send_offers([(provider_id, dist)], s.offer_ttl_s)
        self._timer("offer", s.offer_ttl_s, self._offer_timeout, provider_id)

    async def _offer_next(self) -> None:
        """Auto mode: the nearest eligible provider not tried yet gets the offer."""
        s = self.env.settings
        hits = await self._nearby(len(self.tried) + 10)
        for pid, _dist in hits:
            if pid in self.tried:
                continue
            self.tried.add(pid)
            row = await store.record(self.env.db, self.row, {"offered_provider_id": pid}, None)
            if row is None:
                await self._reload()
                return
            self.row = row
            await self._offer_to(pid)
            return
        self.tried.clear()
        await self.env.alert("no_provider_available", orderId=self.id)
        self._timer("round", s.offer_ttl_s, self._auto_retry)

    async def _auto_retry(self) -> None:
        if self.status == "pending" and not self.row["offered_provider_id"]:
            await self._offer_next()

    async def _withdraw(self, reason: str, before: dict) -> None:
        """Every open offer of this order is withdrawn: the grab crowd's and the one
        provider's that held a direct, auto or assigned offer before this change."""
        targets = set(self.offered)
        if before["offered_provider_id"]:
            targets.add(before["offered_provider_id"])
        await self._withdraw_from(sorted(targets), reason)

    async def _withdraw_from(self, providers: list[int], reason: str) -> None:
        if not providers:
            return
        pipe = self.env.redis.pipeline(transaction=False)
        for pid in providers:
            pipe.hdel(self.env.keys.offers(pid), str(self.id))
        await pipe.execute()
        await self.env.emit(
            "order.taken",
            {"orderId": self.id, "reason": reason},
            [f"provider:{p}" for p in providers],
        )


def geo_distance(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Metres between two WGS-84 points (haversine; plenty for a city)."""
    from math import asin, cos, radians, sin, sqrt

    dlat, dlng = radians(lat2 - lat1), radians(lng2 - lng1)
    a = sin(dlat / 2) ** 2 + cos(radians(lat1)) * cos(radians(lat2)) * sin(dlng / 2) ** 2
    return 2 * 6_371_000 * asin(sqrt(a))
