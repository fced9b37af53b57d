"""Where a host's providers are: an in-process H3 index, per service (docs/geo-index.md).

Why: at 10,000 providers a location fix costs ~1 µs here against ~44 µs of host CPU for a
GEOADD through redis-py, and a 3–5 km query 0.2–0.4 ms against ~0.9 ms for GEOSEARCH (host +
server), so each host keeps this index for the providers it holds (queries fan out to the
hosts) instead of writing every fix to Redis GEO (actors/geo.py, which stays for dedicated
placement).

What a query answers is what `geo.nearest` (GEOSEARCH … ASC COUNT n WITHDIST) answers: the
providers with the skill within the radius, nearest first, ties by lower id, at most `count`,
with their distance. The distance is `distance_m` (haversine, as everywhere else in dispatch);
Redis uses its own earth radius and 52-bit geohashes, so a provider within a metre of the edge
may fall the other side there.

How: per service, H3 cell → provider ids; per provider, its cell, point and skills. A move
within a cell only rewrites the point. A query takes grid_disk(k) around the point's cell with
k the fewest rings that surely hold the whole circle (`_rings`), measures every provider of
the service in those cells and keeps those within the radius.

Pure: no I/O, no clock, no locks (one host's event loop owns it).
"""

from __future__ import annotations

from collections.abc import Iterable

import h3.api.basic_int as h3

from actors.dispatch.filters import distance_m

# How much the grid's geometry may differ between where it is measured (the centre of a
# region, below) and any query in that region: ring distances are shrunk and cell radii grown
# by this much. Checked against the bound computed for the query itself (its own cell's ring
# k+1, each of those cells' own radius) at random places on earth, radii 0.5–40 km: with no
# margin it held with as little as 0.02% of the radius to spare (4,658 queries, res 8); with
# 3% every one of 48,000 (res 7, 8, 9) had at least 2.9% to spare.
MARGIN = 0.03
REGION_UP = 3  # a region is a cell this many resolutions coarser (res 8: res 5, ~250 km²)
CACHE_MAX = 10_000  # (region, radius) entries kept before the cache starts again
FAR_RADII = 100  # past this many cell radii a query looks at every provider with the skill


class ProviderIndex:
    """The online providers a host holds, by skill and H3 cell, for nearest-provider queries."""

    def __init__(self, res: int = 8):
        self.res = res
        self._cells: dict[int, dict[int, set[int]]] = {}  # service → cell → provider ids
        self._home: dict[int, tuple[int, frozenset[int]]] = {}  # id → (cell, skills)
        self._at: dict[int, tuple[float, float]] = {}  # id → (lat, lng), apart: queries read it
        self._ring_cache: dict[tuple[int, float], tuple[int, list] | None] = {}
        self._pentagons = [h3.cell_to_latlng(p) for p in h3.get_pentagons(res)]

    def __len__(self) -> int:
        return len(self._at)

    def __contains__(self, provider_id: object) -> bool:
        return provider_id in self._at

    def position(self, provider_id: int) -> tuple[float, float] | None:
        """The provider's last (lat, lng), or None if it is not held."""
        return self._at.get(provider_id)

    def positions(self) -> dict[int, tuple[float, float]]:
        """Every held provider's (lat, lng): a copy."""
        return dict(self._at)

    def place(self, provider_id: int, skills: Iterable[int], lat: float, lng: float) -> None:
        """Add the provider or move it (pass the same frozenset each time to spare a copy).
        With no skills it is held but never found."""
        cell, skills = h3.latlng_to_cell(lat, lng, self.res), frozenset(skills)
        home = self._home.get(provider_id)
        if home is None or home[0] != cell or home[1] != skills:
            if home is not None:
                self._unlink(provider_id, *home)
            for sid in skills:
                self._cells.setdefault(sid, {}).setdefault(cell, set()).add(provider_id)
            self._home[provider_id] = (cell, skills)
        self._at[provider_id] = (lat, lng)

    def remove(self, provider_id: int) -> None:
        """Forget the provider (nothing happens if it is not held)."""
        home = self._home.pop(provider_id, None)
        if home is not None:
            del self._at[provider_id]
            self._unlink(provider_id, *home)

    def _unlink(self, provider_id: int, cell: int, skills: frozenset[int]) -> None:
        for sid in skills:  # empty sets and services go, so the index stays the size it holds
            by_cell = self._cells[sid]
            ids = by_cell[cell]
            ids.discard(provider_id)
            if not ids:
                del by_cell[cell]
                if not by_cell:
                    del self._cells[sid]

    def nearest(
        self, service_id: int, lat: float, lng: float, radius_m: float, count: int
    ) -> list[tuple[int, float]]:
        """[(provider_id, metres)] of the providers with the skill within radius_m, nearest
        first, ties by lower id, at most `count`: what `geo.nearest` gives from Redis."""
        by_cell = self._cells.get(service_id)
        if not by_cell or count <= 0 or radius_m < 0:
            return []
        origin = h3.latlng_to_cell(lat, lng, self.res)
        k = self._rings(origin, lat, lng, radius_m)
        if k is None:  # a pentagon nearby or a huge radius: look at everyone with the skill
            groups: Iterable[set[int]] = by_cell.values()
        else:
            groups = [by_cell[c] for c in h3.grid_disk(origin, k) if c in by_cell]
        at, found = self._at, []
        for ids in groups:
            for pid in ids:
                plat, plng = at[pid]
                d = distance_m(lat, lng, plat, plng)
                if d <= radius_m:
                    found.append((d, pid))
        found.sort()
        return [(pid, d) for d, pid in found[:count]]

    def rings(self, lat: float, lng: float, radius_m: float) -> int | None:
        """The k of grid_disk a query here uses (None: it looks at every provider)."""
        return self._rings(h3.latlng_to_cell(lat, lng, self.res), lat, lng, radius_m)

    def _rings(self, origin: int, lat: float, lng: float, radius_m: float) -> int | None:
        """The fewest rings k for which grid_disk(origin, k) surely holds every point within
        radius_m of (lat, lng); None near a pentagon or past FAR_RADII (a query then looks at
        every provider with the skill).

        Why this k: the cells within k steps form one connected patch, so if the circle (also
        connected, and centred in the origin cell) reached beyond it, it would reach a cell
        exactly k+1 steps away. No point of a cell is farther than its radius R (centre to
        farthest vertex) from its centre, so every point of a cell k+1 steps away is at least
        D(k+1) − R − off from the query point, where D(k+1) is the least distance from the
        origin's centre to the centre of a cell k+1 steps away and off is the query point's
        distance from the origin's centre (at most R): k is safe once that exceeds the
        radius. On a regular grid of edge e, R = e and D(n) = 1.5·n·e, so for any point in
        the cell k = ⌊(r + 2e) / 1.5e⌋, fewer when the point is near its cell's centre.
        H3's hexagons differ in size and shape over the globe, so D and R are measured at the
        centre cell of the origin's region — R over it and its neighbours, D on its actual
        rings — and shrunk / grown by MARGIN for the rest of the region (`_plan`)."""
        plan = self._plan(origin, radius_m)
        if plan is None:
            return None
        k, closer = plan
        if closer:  # fewer rings will do if the point is close enough to its cell's centre
            off = h3.great_circle_distance((lat, lng), h3.cell_to_latlng(origin), "m")
            for fewer, within in closer:
                if off < within:
                    return fewer
        return k

    def _plan(self, origin: int, radius_m: float) -> tuple[int, list[tuple[int, float]]] | None:
        """For the origin's region and this radius, cached: the k that is safe anywhere in a
        cell, and the fewer [(k, off below which it is safe)]; None: scan."""
        region = h3.cell_to_parent(origin, max(0, self.res - REGION_UP))
        key = (region, radius_m)
        if key in self._ring_cache:
            return self._ring_cache[key]
        if len(self._ring_cache) >= CACHE_MAX:
            self._ring_cache.clear()
        centre = h3.cell_to_center_child(region, self.res)
        at = h3.cell_to_latlng(centre)
        big_r = (1 + MARGIN) * max(_cell_radius(c) for c in h3.grid_disk(centre, 1))
        if radius_m > FAR_RADII * big_r:  # k ≳ 70, 15,000 cells: a scan is cheaper
            self._ring_cache[key] = None
            return None
        # D(n) ≤ n·2R (n steps between neighbours), so fewer rings than this cannot be enough
        k, closer = max(0, int((radius_m - big_r) / (2 * big_r))), []
        while True:
            within = (1 - MARGIN) * _ring_gap(centre, at, k + 1) - big_r - radius_m
            if within > big_r:  # safe wherever the point is in its cell
                break
            if within > 0:
                closer.append((k, within))
            k += 1
        # Pentagons (12 per resolution, all at sea) break the hexagonal pattern: if one may be
        # within k+1 steps of a cell of the region, there is no k. Those cells' centres are
        # within (k+1)·2R of the cell's centre, which is within twice the region's radius of
        # `at` (children may overhang their parent a little).
        reach = 2 * _cell_radius(region) + (k + 2) * 2 * big_r
        near = any(h3.great_circle_distance(at, p, "m") <= reach for p in self._pentagons)
        self._ring_cache[key] = plan = None if near else (k, closer)
        return plan


def _cell_radius(cell: int) -> float:
    """Metres from the cell's centre to its farthest vertex: no point of the cell is farther
    (the edges are great-circle arcs, as H3 cells are straight in the gnomonic projection)."""
    at = h3.cell_to_latlng(cell)
    return max(h3.great_circle_distance(at, v, "m") for v in h3.cell_to_boundary(cell))


def _ring_gap(cell: int, at: tuple[float, float], n: int) -> float:
    """Metres from the cell's centre `at` to the nearest centre of a cell exactly n steps away."""
    return min(
        h3.great_circle_distance(at, h3.cell_to_latlng(c), "m") for c in h3.grid_ring(cell, n)
    )
