"""An order's dispatch: who is offered the order, how, and again when nobody takes it.

Part of the order actor (actors/order.py), split out by concept: these methods run inside the
order's mailbox and use its state (row, crowd, tried, timers).
"""

from __future__ import annotations

from actors import geo, offers


class OrderDispatch:
    async def _offer_timeout(self, provider_id: int) -> None:
        if self.status == "pending" and self.row["offered_provider_id"] == provider_id:
            await self._system("offer_timeout")

    async def _offer_round_msg(self) -> None:
        if self.status == "pending":
            await self._offer_round()

    # --- dispatch -------------------------------------------------------------------------------

    async def _dispatch(self) -> None:
        mode = self.row["dispatch_mode"]
        if mode == "grab":
            await self._offer_round()
        elif self.row["offered_provider_id"]:
            await self._offer_to(self.row["offered_provider_id"])
        elif mode == "auto":
            await self._offer_next()

    async def _nearby(self, count: int) -> list[tuple[int, float]]:
        """Eligible providers (online, approved, with the skill and room) nearest first."""
        row, s = self.row, self.env.settings
        return await geo.nearest(
            self.env.redis,
            self.env.keys,
            row["service_id"],
            row["lat"],
            row["lng"],
            s.grab_radius_m,
            count,
        )

    async def _offer_round(self) -> None:
        """Grab mode: offer to every eligible provider nearby, again every offer TTL."""
        s = self.env.settings
        hits = [h for h in await self._nearby(s.max_offers) if h[0] not in self.tried]
        self.crowd.update(pid for pid, _ in hits)
        if hits:
            await offers.send(self.env, self.row, hits, s.offer_ttl_s)
        elif not self.crowd:
            await self.env.emitter.alert("no_provider_nearby", orderId=self.id)
        self._timer("round", s.offer_ttl_s, self._offer_round_msg)

    async def _offer_to(self, provider_id: int) -> None:
        """Direct, auto and staff-assigned offers: one provider, who accepts or declines."""
        s = self.env.settings
        dist = 0.0
        location = await self.env.providers.where(provider_id)
        if location.get("lat") is not None:
            dist = geo.distance_m(
                self.row["lat"], self.row["lng"], location["lat"], location["lng"]
            )
        await offers.send(self.env, self.row, [(provider_id, dist)], s.offer_ttl_s)
        self._timer("offer", s.offer_ttl_s, self._offer_timeout, provider_id)

    async def _offer_next(self) -> None:
        """Auto mode: the nearest eligible provider not tried yet gets the offer."""
        s = self.env.settings
        hits = await self._nearby(len(self.tried) + 10)
        for pid, _dist in hits:
            if pid in self.tried:
                continue
            self.tried.add(pid)
            if await self._write({"offered_provider_id": pid}, None, None):
                await self._offer_to(pid)
            return
        self.tried.clear()
        await self.env.emitter.alert("no_provider_available", orderId=self.id)
        self._timer("round", s.offer_ttl_s, self._auto_retry)

    async def _auto_retry(self) -> None:
        if self.status == "pending" and not self.row["offered_provider_id"]:
            await self._offer_next()

    async def _withdraw_all(self, reason: str, before: dict) -> None:
        """Every open offer of this order is withdrawn: the grab crowd's and the one
        provider's that held a direct, auto or assigned offer before this change."""
        targets = set(self.crowd)
        if before["offered_provider_id"]:
            targets.add(before["offered_provider_id"])
        await offers.withdraw(self.env, self.id, sorted(targets), reason)


# The follow-ups actors.transitions.EFFECTS names, and nothing else.
