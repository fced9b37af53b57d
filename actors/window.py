"""The batch matching window of one area (CONTRACT §10, policy `window_s`).

Auto orders that arrive within a few seconds of each other are matched to free providers
together, so the total pickup distance is the smallest (actors/dispatch/matching.py), rather
than each taking its nearest in turn. Each order brings its own ranked, eligible providers
(its filters already ran); the window only solves the assignment and tells every order which
provider it got (or none: the order goes on to its batches).

Hosted like orders and providers (kind "window", id = the area's id). It keeps nothing worth
saving: an order waiting in a window that a crash took away joins again when it is reloaded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from actors.dispatch import matching
from actors.results import ok

log = logging.getLogger("orderhub.window")

Tell = Callable[[int, int | None, dict], Awaitable[dict]]  # (order, provider | None, facts)


class MatchWindow:
    def __init__(self, area_id: int, tell: Tell):
        self.area_id = area_id
        self.tell = tell
        self.waiting: dict[int, list[tuple[int, float]]] = {}  # order → [(provider, metres)]
        self.closing: asyncio.TimerHandle | None = None

    def join(self, order_id: int, hits: list[tuple[int, float]], window_s: float) -> dict:
        """The order waits for the window to close (the first order opens it). No await
        between reading and writing `waiting`: joins and the close never interleave."""
        self.waiting[order_id] = [(int(p), float(d)) for p, d in hits]
        if self.closing is None:
            loop = asyncio.get_running_loop()
            self.closing = loop.call_later(window_s, lambda: loop.create_task(self.close()))
        return ok(waiting=len(self.waiting))

    async def close(self) -> None:
        waiting, self.waiting, self.closing = self.waiting, {}, None
        orders = sorted(waiting)
        providers = sorted({p for hits in waiting.values() for p, _ in hits})
        reach = [dict(waiting[o]) for o in orders]
        costs = [[r.get(p) for p in providers] for r in reach]
        best, greedy = matching.optimal(costs), matching.greedy(costs)
        facts = {
            "areaId": self.area_id,
            "orders": len(orders),
            "providers": len(providers),
            "totalM": round(matching.total(costs, best)),
            "greedyTotalM": round(matching.total(costs, greedy)),
        }
        for i, order_id in enumerate(orders):
            pid = providers[best[i]] if i in best else None
            try:
                await self.tell(order_id, pid, facts)
            except Exception:  # one order's host being away must not keep the others waiting
                log.exception("window %s: telling order %s failed", self.area_id, order_id)
