"""An order's dispatch: the fallback chain of CONTRACT §10 carried out in the order's mailbox.

Part of the order actor (actors/order.py), split out by concept. The engine (actors/dispatch/)
decides who and in what order; this module feeds it live snapshots (actors/candidates.py) and
the area's policy, writes each step as an order event with its state and explanation
(orders.dispatch, dispatch_decisions), sends and withdraws the offers, and keeps the timers.
A restarted host resumes from the state on the row (`_resume`).

    grab window ─▶ batches over a growing radius ─▶ assignment ─▶ staff alert (order pinned)

A grab order starts at the grab window; an auto order at the first stage after it; a direct
order (and a staff assignment) is one personal offer outside the chain.
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from datetime import timedelta

from actors import geo, offers
from actors.dispatch import plan
from actors.dispatch.filters import Job, screen
from actors.dispatch.plan import State, dumps, offered_to, state_of
from actors.dispatch.policy import Policy
from actors.dispatch.scoring import rank
from actors.order_money import SYSTEM_ACTOR
from actors.results import ok
from adapters.clock import epoch, iso

REVEAL_WAVES = 4  # a grab offer reaches the crowd in this many waves over the reveal delay
BATCH_POOL = 50  # candidates a batch or an assignment weighs, nearest first (each one costs a
# card from its host and an open-offer count: docs/benchmarks.md "Order created → first offer")
WINDOW_HITS = 20  # the best providers an order brings to its batch matching window
WINDOW_GRACE_S = 5.0  # a window that has not answered by then is given up


class OrderDispatch:
    _previous: frozenset[int] | None = None  # the customer's past providers, read once

    # --- what the engine is fed ----------------------------------------------------------------

    async def _policy(self) -> Policy:
        return await self.env.policies.policy(self.row["area_id"], self.row["service_id"])

    async def _timing(self) -> tuple[float, float]:
        """(duration, lead) of the order's service, in seconds."""
        t = await self.env.policies.timing(self.row["service_id"])
        return t["duration_min"] * 60.0, t["dispatch_lead_min"] * 60.0

    async def _slot(self) -> dict:
        """What a provider reserving this order books: when, how long, where."""
        duration, lead = await self._timing()
        row = self.row
        return {
            "start": epoch(row["scheduled_at"]),
            "durationS": duration,
            "lat": row["lat"],
            "lng": row["lng"],
            "leadS": lead,
        }

    async def _weigh(self, policy: Policy, st: State, radius: float, count: int):
        """(ranked eligible, excluded with reasons) among the providers within `radius`."""
        row = self.row
        if self._previous is None:
            past = await self.env.dispatch.previous_providers(row["customer_id"])
            self._previous = frozenset(past)
        duration, lead = await self._timing()
        job = Job(
            order_id=self.id,
            service_id=row["service_id"],
            lat=row["lat"],
            lng=row["lng"],
            duration_s=duration,
            start=epoch(row["scheduled_at"]),
            lead_s=lead,
            areas=await self.env.policies.areas(),
            excluded=frozenset(st.tried),
            previous=self._previous,
        )
        found = await self.env.locator.around(
            row["service_id"], row["lat"], row["lng"], radius, count
        )
        now = time.time()
        screened = screen(job, found, policy, now)
        return rank(job, screened.eligible, policy, now), screened.excluded

    async def _step(self, new: State, detail: dict, why: dict | None) -> bool:
        """One step of the chain: the state, an order event, and the decision explained."""
        extra = (self.env.dispatch.decision(self.id, new.stage, why),) if why else ()
        args = {"state": dumps(new), "detail": {"stage": new.stage, **detail}}
        answer = await self._apply("dispatch", SYSTEM_ACTOR, args, None, extra=extra)
        return answer["ok"] and not answer.get("unchanged")

    # --- starting and resuming -------------------------------------------------------------------

    async def _dispatch(self) -> None:
        """Start (or, after a restart or a hand-back, go on with) this order's dispatch."""
        row, st = self.row, state_of(self.row)
        if row["offered_provider_id"]:  # direct, or a staff assignment: one personal offer
            await self._offer_to(row["offered_provider_id"])
            return
        if row["dispatch_mode"] == "direct":
            return  # the chosen provider said no: staff were told (offer_unanswered)
        policy = await self._policy()
        if (wait := await self._until_lead()) > 0:
            if st.stage != "scheduled":
                starts = iso(self.env.clock() + timedelta(seconds=wait))
                await self._step(replace(st, stage="scheduled"), {"startsAt": starts}, None)
            self._timer("lead", wait, self._lead_reached)
            return
        if st.stage in ("", "scheduled"):
            await self._enter(plan.first_stage(row["dispatch_mode"], policy), st, policy)
        else:
            await self._resume(st, policy)

    async def _resume(self, st: State, policy: Policy) -> None:
        now = time.time()
        if st.stage == "grab":
            if now < st.until:
                await self._grab_round()
                self._timer("stage", st.until - now, self._stage_over, "grab")
            else:
                await self._stage_over("grab")
        elif st.stage == "batches":
            if st.offered and now < st.until:  # the batch's offers are still out
                self._timer("batch", st.until - now, self._batch_over, st.batch)
            else:
                await self._next_batch(policy)
        elif st.stage == "window":  # the window may have gone with a crashed host: again
            if now < st.until:
                await self._join_window(replace(st, stage=""), policy)
            else:
                await self._enter("batches", st, policy)
        elif st.stage == "assign":
            await self._enter("assign", st, policy)
        # "alert": the order is pinned for staff; it waits for them (or expires)

    async def _enter(self, stage: str | None, st: State, policy: Policy) -> None:
        """Begin a stage of the chain (None: the chain ran out — staff hear of it)."""
        if stage == "grab":
            new = State(stage="grab", tried=st.tried, until=time.time() + policy.grab_window_s)
            if await self._step(new, {"windowS": policy.grab_window_s}, None):
                await self._grab_round()
                self._timer("stage", policy.grab_window_s, self._stage_over, "grab")
        elif stage == "batches" and policy.window_s > 0 and st.stage != "window":
            await self._join_window(st, policy)
        elif stage == "batches":
            fresh = State(stage="batches", radius_m=policy.min_radius_m, tried=st.tried)
            await self._next_batch(policy, fresh)
        elif stage == "assign":
            await self._assign_best(st, policy)
        else:
            pinned = State(stage="alert", tried=st.tried, pinned=True)
            if await self._step(pinned, {"pinned": True}, None):
                await self.env.emitter.alert("dispatch_exhausted", orderId=self.id, pinned=True)

    async def _stage_over(self, stage: str) -> None:
        st = state_of(self.row)
        if self.status != "pending" or st.stage != stage:
            return
        policy = await self._policy()
        if stage == "grab":
            self._cancel_reveals()
            await offers.withdraw(self.env, self.id, sorted(self.crowd), "withdrawn")
        if stage == "window":  # no answer from the window: on to the batches
            await self._enter("batches", st, policy)
            return
        await self._enter(plan.next_stage(self.row["dispatch_mode"], stage, policy), st, policy)

    # --- the grab window -----------------------------------------------------------------------

    async def _offer_round_msg(self) -> None:
        if self.status == "pending":
            await self._grab_round()

    async def _grab_round(self) -> None:
        """Offer to every eligible provider within the grab radius, again every offer TTL; the
        crowd hears it in waves over a random reveal delay (the fastest link does not always
        win)."""
        st, policy, s = state_of(self.row), await self._policy(), self.env.settings
        if st.stage not in ("", "grab"):
            return
        ranked, _ = await self._weigh(policy, st, policy.grab_radius_m, s.max_offers)
        hits = [(x.provider_id, x.candidate.distance_m) for x in ranked]
        if not hits and not self.crowd:
            await self.env.emitter.alert("no_provider_nearby", orderId=self.id)
        waves: list[list] = [[] for _ in range(REVEAL_WAVES)]
        for hit in hits:  # a renewal goes to those who have it at once; newcomers wait
            late = policy.reveal_ms > 0 and hit[0] not in self.crowd
            waves[random.randrange(REVEAL_WAVES) if late else 0].append(hit)
        await self._reveal(waves[0])
        for i, wave in enumerate(waves[1:], 1):
            if wave:
                delay = policy.reveal_ms / 1000.0 * i / (REVEAL_WAVES - 1)
                self._timer(f"reveal{i}", delay, self._reveal, wave)
        self._timer("round", s.offer_ttl_s, self._offer_round_msg)

    async def _reveal(self, hits: list[tuple[int, float]]) -> None:
        if hits and self.status == "pending" and state_of(self.row).stage in ("", "grab"):
            self.crowd.update(pid for pid, _ in hits)
            await offers.send(self.env, self.row, hits, self.env.settings.offer_ttl_s, "grab")

    def _cancel_reveals(self) -> None:
        for i in range(1, REVEAL_WAVES):
            self._cancel_timer(f"reveal{i}")
        self._cancel_timer("round")

    # --- batches over a growing radius ---------------------------------------------------------

    async def _next_batch(self, policy: Policy, st: State | None = None) -> None:
        st = st or state_of(self.row)
        still = list(st.offered)
        if st.batch >= policy.max_batches:
            await offers.withdraw(self.env, self.id, still, "withdrawn")
            stage = plan.next_stage(self.row["dispatch_mode"], "batches", policy)
            await self._enter(stage, st, policy)
            return
        ranked, excluded = await self._weigh(policy, st, policy.max_radius_m, BATCH_POOL)
        radius, chosen = plan.plan_batch(ranked, st, policy)
        ids = [x.provider_id for x in chosen]
        why = plan.explain(
            "batches", ranked, excluded, ids, policy, batch=st.batch + 1, radiusM=radius
        )
        new = State(
            stage="batches",
            batch=st.batch + 1,
            radius_m=radius,
            offered=tuple(ids),
            tried=st.tried + tuple(ids),
            until=time.time() + policy.batch_s,
        )
        detail = {"batch": new.batch, "radiusM": radius, "offered": len(ids)}
        if not await self._step(new, detail, why):
            return
        await offers.withdraw(self.env, self.id, still, "withdrawn")
        if not chosen:  # nobody left within the largest radius: the next stage
            stage = plan.next_stage(self.row["dispatch_mode"], "batches", policy)
            await self._enter(stage, new, policy)
            return
        targets = [(x.provider_id, x.candidate.distance_m) for x in chosen]
        await offers.send(self.env, self.row, targets, policy.batch_s)
        self._timer("batch", policy.batch_s, self._batch_over, new.batch)

    async def _batch_over(self, batch: int) -> None:
        """A batch's time is up: who did not answer timed out; the next batch goes."""
        st = state_of(self.row)
        if self.status != "pending" or st.stage != "batches" or st.batch != batch:
            return
        policy = await self._policy()
        for pid in st.offered:
            await self._missed(pid, "timeout", policy)
        await self._next_batch(policy)

    async def _missed(self, provider_id: int, why: str, policy: Policy) -> None:
        await self.env.providers.missed(
            provider_id, self.id, why, policy.cooldown_after, policy.cooldown_s
        )

    # --- the batch matching window -------------------------------------------------------------

    async def _join_window(self, st: State, policy: Policy) -> None:
        """Wait up to window_s with the area's other new orders, matched together."""
        ranked, excluded = await self._weigh(policy, st, policy.max_radius_m, BATCH_POOL)
        hits = [(x.provider_id, x.candidate.distance_m) for x in ranked[:WINDOW_HITS]]
        why = plan.explain("window", ranked, excluded, [], policy)
        until = time.time() + policy.window_s + WINDOW_GRACE_S
        new = State(stage="window", tried=st.tried, until=until)
        if not await self._step(new, {"windowS": policy.window_s}, why):
            return
        area = self.row["area_id"] or 0
        joined = await self.env.windows.join(area, self.id, hits, policy.window_s)
        if joined["ok"]:
            self._timer("stage", until - time.time(), self._stage_over, "window")
        else:  # no window to join (its host is away): batches right away
            await self._enter("batches", new, policy)

    async def window_matched(self, provider_id: int | None, facts: dict) -> dict:
        """The window closed: this order's provider (offered first, as batch 1), or none."""
        st = state_of(self.row)
        if self.status != "pending" or st.stage != "window":
            return ok(unchanged=True)
        self._cancel_timer("stage")
        policy = await self._policy()
        if provider_id is None or provider_id in st.tried:
            await self._enter("batches", st, policy)
            return ok()
        ranked, excluded = await self._weigh(policy, st, policy.max_radius_m, BATCH_POOL)
        mine = [x for x in ranked if x.provider_id == provider_id]
        if not mine:  # taken or gone meanwhile
            await self._enter("batches", st, policy)
            return ok()
        why = plan.explain("window", ranked, excluded, [provider_id], policy, **facts)
        new = State(
            stage="batches",
            batch=1,
            radius_m=policy.min_radius_m,
            offered=(provider_id,),
            tried=(*st.tried, provider_id),
            until=time.time() + policy.batch_s,
        )
        detail = {"batch": 1, "matched": True, "offered": 1}
        if await self._step(new, detail, why):
            target = [(provider_id, mine[0].candidate.distance_m)]
            await offers.send(self.env, self.row, target, policy.batch_s)
            self._timer("batch", policy.batch_s, self._batch_over, 1)
        return ok()

    # --- assignment ----------------------------------------------------------------------------

    async def _assign_best(self, st: State, policy: Policy) -> None:
        """The best eligible provider gets the order (the first whose reservation holds)."""
        ranked, excluded = await self._weigh(policy, st, policy.max_radius_m, BATCH_POOL)
        for best in ranked[:5]:
            pid = best.provider_id
            why = plan.explain("assign", ranked, excluded, [pid], policy)
            extra = (self.env.dispatch.decision(self.id, "assign", why),)
            args = {"providerId": pid}
            await self._apply("auto_assign", SYSTEM_ACTOR, args, None, extra=extra)
            if self.status != "pending":
                return
        stage = plan.next_stage(self.row["dispatch_mode"], "assign", policy)
        await self._enter(stage, replace(st, stage="assign"), policy)

    # --- personal offers outside the chain (direct, staff assignment) --------------------------

    async def _offer_timeout(self, provider_id: int) -> None:
        if self.status == "pending" and self.row["offered_provider_id"] == provider_id:
            await self._system("offer_timeout")

    async def _offer_to(self, provider_id: int) -> None:
        """Direct and staff-assigned offers: one provider, who accepts or declines."""
        s = self.env.settings
        dist = 0.0
        location = await self.env.providers.where(provider_id)
        if location.get("lat") is not None:
            dist = geo.distance_m(
                self.row["lat"], self.row["lng"], location["lat"], location["lng"]
            )
        await offers.send(self.env, self.row, [(provider_id, dist)], s.offer_ttl_s)
        self._timer("offer", s.offer_ttl_s, self._offer_timeout, provider_id)

    async def _after_refusal(self, before: dict, action: str) -> None:
        """A personal offer was declined or timed out: the provider's record hears it; the
        chain goes on (a batch when its last member said no); a direct order's staff hear."""
        policy = await self._policy()
        refused = offered_to(before) - offered_to(self.row)
        for pid in refused:
            await self._missed(pid, "declined" if action == "decline" else "timeout", policy)
        st = state_of(self.row)
        if before["offered_provider_id"] in refused:
            if self.row["dispatch_mode"] != "direct" and st.stage not in ("", "alert"):
                await self._resume(st, policy)
            else:
                await self.env.emitter.alert(
                    "offer_unanswered",
                    orderId=self.id,
                    providerId=before["offered_provider_id"],
                    why=action,
                )
        elif st.stage == "batches" and not st.offered:
            self._cancel_timer("batch")
            await self._next_batch(policy)

    async def _withdraw_all(self, reason: str, before: dict) -> None:
        """Every open offer of this order is withdrawn: the grab crowd's and every personal
        offer (batch, direct, assigned) held before this change."""
        await offers.withdraw(self.env, self.id, sorted(self.crowd | offered_to(before)), reason)
