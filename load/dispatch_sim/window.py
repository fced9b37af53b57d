"""The batch matching window: auto orders entering the batches stage are collected for
window_s, then matched to eligible providers together (matching.optimal or matching.greedy
on the pickup distances of the eligible pairs: each order's eligible providers within the
first batch radius, min_radius_m, or within max_radius_m when none is that near); each
matched order's first batch is that one provider, the unmatched go on to ordinary batches.

Every window's matrix is also matched with the other matcher, which does not change the run:
the paired figures compare both on exactly the same orders and providers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from actors.dispatch import matching

if TYPE_CHECKING:
    from load.dispatch_sim.engine import Run, Sim

MATCHERS = {"optimal": matching.optimal, "greedy": matching.greedy}


class Window:
    def __init__(self, sim: Sim, matcher: str):
        self.sim = sim
        self.name = matcher
        self.other = "greedy" if matcher == "optimal" else "optimal"
        self.waiting: list[Run] = []
        self.closing = False
        self.windows: list[dict] = []  # per window with orders: both matchers' results

    def add(self, o: Run) -> None:
        o.windowed = True
        self.waiting.append(o)
        if not self.closing:
            self.closing = True
            self.sim.at(self.sim.now + self.sim.policy.window_s, self._close)

    def _close(self) -> None:
        sim, policy = self.sim, self.sim.policy
        orders = [o for o in self.waiting if not o.done]
        self.waiting, self.closing = [], False
        rows, columns = [], {}
        for o in orders:
            ranked = sim.ranked(o, policy.min_radius_m) or sim.ranked(o, policy.max_radius_m)
            row = {s.provider_id - 1: s for s in ranked}
            rows.append(row)
            for i in row:
                columns.setdefault(i, len(columns))
        if not columns:
            for o in orders:
                sim.batch(o)
            return
        ids = list(columns)
        costs = [[row[i].candidate.distance_m if i in row else None for i in ids] for row in rows]
        live = MATCHERS[self.name](costs)
        shadow = MATCHERS[self.other](costs)
        self.windows.append(
            {
                "t": sim.now,
                "orders": len(orders),
                "providers": len(ids),
                self.name: [len(live), matching.total(costs, live)],
                self.other: [len(shadow), matching.total(costs, shadow)],
            }
        )
        radii = policy.radii()
        for k, o in enumerate(orders):
            if k in live:
                s = rows[k][ids[live[k]]]
                radius = next((r for r in radii if r >= s.candidate.distance_m), radii[-1])
                sim.send(o, [s], radius)
            else:
                sim.batch(o)

    def summary(self) -> dict:
        """Both matchers over the same windows (those after the warm-up): orders matched and
        pickup metres."""
        windows = [w for w in self.windows if w["t"] >= self.sim.world.warmup_s]
        out: dict = {"windows": len(windows), "live": self.name}
        for name in ("optimal", "greedy"):
            matched = sum(w[name][0] for w in windows)
            metres = sum(w[name][1] for w in windows)
            out[name] = {
                "matched": matched,
                "total_km": round(metres / 1000.0, 1),
                "mean_m": round(metres / matched, 1) if matched else None,
            }
        same = [w for w in windows if w["optimal"][0] == w["greedy"][0]]
        out["windows_same_count"] = len(same)
        out["same_count_optimal_km"] = round(sum(w["optimal"][1] for w in same) / 1000.0, 1)
        out["same_count_greedy_km"] = round(sum(w["greedy"][1] for w in same) / 1000.0, 1)
        out["windows_optimal_matched_more"] = sum(
            1 for w in windows if w["optimal"][0] > w["greedy"][0]
        )
        return out
