"""location.update's fast check (hub/realtime.py location_fix) takes exactly what LocationIn
takes and gives the same fix; anything else gets LocationIn's own refusal."""

from __future__ import annotations

import pytest

from hub.errors import Invalid
from hub.realtime import LocationIn, _parse, location_fix

GOOD = [
    {"lat": 20.04, "lng": 110.2, "heading": 90.5, "speed": 12.0, "at": "2026-11-29T10:00:00.123Z"},
    {"lat": 20, "lng": 110},
    {"lat": -90, "lng": 180, "heading": 0, "speed": 100, "extra": {"ignored": 1}},
    {"lat": 1.5, "lng": 2.5, "at": "  t  "},
    {"lat": "20.1", "lng": "110.2"},  # pydantic's lax mode: left to it, same answer
    {"lat": True, "lng": 110},  # the same
]
BAD = [
    None,
    {},
    {"lat": 91, "lng": 110},
    {"lat": 20, "lng": -181},
    {"lat": 20, "lng": 110, "heading": 361},
    {"lat": 20, "lng": 110, "speed": -1},
    {"lat": 20, "lng": 110, "at": ""},
    {"lat": 20, "lng": 110, "at": "   "},
    {"lat": 20, "lng": 110, "at": "x" * 41},
    {"lat": 20, "lng": 110, "at": 5},
    {"lat": "north", "lng": None},
]


def _pydantic(data) -> dict:
    fix = _parse(LocationIn, data)
    return {"lat": fix.lat, "lng": fix.lng, "at": fix.at}


@pytest.mark.parametrize("data", GOOD)
def test_a_good_fix_is_what_pydantic_makes_of_it(data):
    fix, slow = location_fix(data), _pydantic(data)
    assert fix["lat"] == slow["lat"] and type(fix["lat"]) is float
    assert fix["lng"] == slow["lng"] and type(fix["lng"]) is float
    assert fix["at"] == (slow["at"] or fix["at"])  # a missing `at` is the hub's time
    assert fix["at"]


@pytest.mark.parametrize("data", BAD)
def test_a_bad_fix_gets_pydantics_refusal(data):
    with pytest.raises(Invalid) as fast:
        location_fix(data)
    with pytest.raises(Invalid) as slow:
        _pydantic(data)
    assert fast.value.body() == slow.value.body()
