"""The in-process H3 provider index (actors/h3_index.py), with no services: its answers are
exactly a brute-force scan's (same ids, same order, same distances) over 2,000 random
providers around Shenzhen at 0.5–15 km, after moves across cells, skill changes and
removals; skills filter, count limits, ties go to the lower id; and the ring count it uses
satisfies the geometric bound it is derived from, here and elsewhere on earth."""

from __future__ import annotations

import math
import random

import h3.api.basic_int as h3
import pytest

from actors.dispatch.filters import distance_m
from actors.h3_index import ProviderIndex, _cell_radius

CENTRE = (22.54, 114.06)
M_PER_DEG = 111_320.0
SERVICES = 5
RADII = (500, 3000, 5000, 7000, 15000)


def offset(lat: float, lng: float, north_m: float, east_m: float) -> tuple[float, float]:
    return lat + north_m / M_PER_DEG, lng + east_m / (M_PER_DEG * math.cos(math.radians(lat)))


def scan(providers: dict, service: int, lat: float, lng: float, radius_m: float, count: int):
    """What the index must answer: every provider looked at."""
    found = sorted(
        (distance_m(lat, lng, plat, plng), pid)
        for pid, (skills, plat, plng) in providers.items()
        if service in skills
    )
    return [(pid, d) for d, pid in found if d <= radius_m][:count]


def city(rng: random.Random, n: int = 2000, half_m: float = 15_000) -> dict:
    return {
        pid: (
            frozenset(rng.sample(range(SERVICES), rng.randint(1, 3))),
            *offset(*CENTRE, rng.uniform(-half_m, half_m), rng.uniform(-half_m, half_m)),
        )
        for pid in range(1, n + 1)
    }


def build(providers: dict, res: int = 8) -> ProviderIndex:
    index = ProviderIndex(res)
    for pid, (skills, lat, lng) in providers.items():
        index.place(pid, skills, lat, lng)
    return index


def check_queries(index, providers, rng, radius_m, queries=100, half_m=18_000) -> int:
    hits = 0
    for _ in range(queries):
        lat, lng = offset(*CENTRE, rng.uniform(-half_m, half_m), rng.uniform(-half_m, half_m))
        service, count = rng.randrange(SERVICES), rng.choice((1, 7, 50, 10_000))
        want = scan(providers, service, lat, lng, radius_m, count)
        assert index.nearest(service, lat, lng, radius_m, count) == want, (lat, lng, radius_m)
        hits += len(want)
    return hits


def check_structure(index: ProviderIndex, providers: dict) -> None:
    """Every provider in exactly the cells of its skills, nothing else, no empty sets."""
    assert len(index) == len(providers)
    seen = {}
    for sid, by_cell in index._cells.items():
        for cell, ids in by_cell.items():
            assert ids
            for pid in ids:
                seen.setdefault(pid, set()).add(sid)
                assert cell == h3.latlng_to_cell(*providers[pid][1:], index.res)
    assert seen == {pid: set(s) for pid, (s, _, _) in providers.items() if s}


@pytest.mark.parametrize("radius_m", RADII)
def test_same_answers_as_a_scan(radius_m):
    rng = random.Random(radius_m)
    providers = city(rng)
    index = build(providers)
    check_structure(index, providers)
    hits = check_queries(index, providers, rng, radius_m)
    assert hits > 0  # the queries did find providers


def test_moves_skill_changes_and_removals():
    rng = random.Random(7)
    providers = city(rng)
    index = build(providers)
    for _ in range(3):
        for pid in list(providers):
            roll = rng.random()
            if roll < 0.05:
                index.remove(pid)
                del providers[pid]
                continue
            skills, lat, lng = providers[pid]
            if roll < 0.15:
                skills = frozenset(rng.sample(range(SERVICES), rng.randint(0, 3)))
            lat, lng = offset(lat, lng, rng.uniform(-900, 900), rng.uniform(-900, 900))
            providers[pid] = (skills, lat, lng)
            index.place(pid, list(skills), lat, lng)
        for pid in range(5000, 5030):  # newcomers
            providers[pid] = (frozenset({rng.randrange(SERVICES)}), *CENTRE)
            index.place(pid, providers[pid][0], *CENTRE)
        check_structure(index, providers)
        for radius_m in (500, 5000, 15000):
            check_queries(index, providers, rng, radius_m, queries=12)
    assert index.positions() == {pid: (lat, lng) for pid, (_, lat, lng) in providers.items()}


def test_a_move_within_the_cell_only_updates_the_point():
    index = ProviderIndex()
    index.place(1, [3], *CENTRE)
    cells = index._cells[3]
    ids = next(iter(cells.values()))
    lat, lng = offset(*CENTRE, 1.0, 1.0)
    assert h3.latlng_to_cell(lat, lng, 8) == h3.latlng_to_cell(*CENTRE, 8)
    index.place(1, [3], lat, lng)
    assert index._cells[3] is cells and next(iter(cells.values())) is ids and ids == {1}
    assert index.position(1) == (lat, lng)
    assert index.nearest(3, lat, lng, 10, 5) == [(1, 0.0)]


def test_skills_remove_count_and_ties():
    index = ProviderIndex()
    assert len(index) == 0 and index.nearest(1, *CENTRE, 5000, 10) == []
    index.remove(42)  # absent: nothing happens
    for pid in (9, 4, 6):  # three at the same point: ties go to the lower id
        index.place(pid, [1, 2], *CENTRE)
    index.place(3, [2], *offset(*CENTRE, 100, 0))
    index.place(5, [], *CENTRE)  # held, never found
    index.place(8, frozenset({1}), *offset(*CENTRE, 0, 6000))  # outside 5 km
    assert len(index) == 6 and 5 in index and index.position(7) is None
    assert [p for p, _ in index.nearest(1, *CENTRE, 5000, 10)] == [4, 6, 9]
    assert [p for p, _ in index.nearest(2, *CENTRE, 5000, 10)] == [4, 6, 9, 3]
    assert [p for p, _ in index.nearest(2, *CENTRE, 5000, 2)] == [4, 6]
    assert [p for p, _ in index.nearest(1, *CENTRE, 7000, 10)] == [4, 6, 9, 8]
    assert index.nearest(2, *CENTRE, 5000, 0) == [] and index.nearest(7, *CENTRE, 5000, 5) == []
    (pid, d), *_ = index.nearest(2, *offset(*CENTRE, 100, 0), 50, 5)
    assert pid == 3 and d == 0.0
    for pid in (4, 6, 9):
        index.remove(pid)
    assert [p for p, _ in index.nearest(1, *CENTRE, 7000, 10)] == [8]
    for pid in (3, 5, 8):
        index.remove(pid)
    assert len(index) == 0 and index._cells == {} and index.nearest(2, *CENTRE, 1e6, 9) == []


@pytest.mark.parametrize(
    "place", [CENTRE, (59.33, 18.07), (-33.87, 151.21), (64.0, -150.0), (0.5, -50.3)]
)
def test_rings_satisfy_their_bound(place):
    """For each query point tried: every cell exactly k+1 steps from its cell is farther than
    the radius from it (centre distance minus that cell's radius), so grid_disk(k) holds the
    circle; and points near their cell's centre get by with fewer rings."""
    rng = random.Random(str(place))
    for res in (7, 8):
        index, ks = ProviderIndex(res), set()
        for _ in range(8):
            lat, lng = offset(*place, rng.uniform(-9e3, 9e3), rng.uniform(-9e3, 9e3))
            origin = h3.latlng_to_cell(lat, lng, res)
            for radius_m in RADII:
                k = index.rings(lat, lng, radius_m)
                gap = min(
                    h3.great_circle_distance((lat, lng), h3.cell_to_latlng(c), "m")
                    - _cell_radius(c)
                    for c in h3.grid_ring(origin, k + 1)
                )
                assert gap > radius_m, (place, res, radius_m, k)
                ks.add((radius_m, k))
        assert len(ks) > len(RADII)  # some radius got different k at different points


def test_near_a_pentagon_every_provider_is_looked_at():
    pentagon = h3.get_pentagons(8)[0]
    at = h3.cell_to_latlng(pentagon)
    rng = random.Random(3)
    providers = {
        pid: (frozenset({0}), *offset(*at, rng.uniform(-6e3, 6e3), rng.uniform(-6e3, 6e3)))
        for pid in range(1, 301)
    }
    index = build(providers)
    assert index.rings(*at, 5000) is None
    for _ in range(20):
        lat, lng = offset(*at, rng.uniform(-3e3, 3e3), rng.uniform(-3e3, 3e3))
        assert index.nearest(0, lat, lng, 2500, 20) == scan(providers, 0, lat, lng, 2500, 20)


def test_a_huge_radius_looks_at_everyone():
    rng = random.Random(4)
    providers = city(rng, n=300)
    index = build(providers)
    assert index.rings(*CENTRE, 80_000) is None and index.rings(*CENTRE, 40_000) is not None
    for radius_m in (20_000, 80_000):
        got = index.nearest(1, *CENTRE, radius_m, 1000)
        assert got == scan(providers, 1, *CENTRE, radius_m, 1000) and got
