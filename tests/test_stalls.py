"""The hub's stalls as figures (hub/loop_stats.py, load/hub_stalls.py): every hub process
times its cyclic-GC pauses per generation and its event-loop lag on /metrics, and the load
simulator turns two reads of them into what happened in between."""

from __future__ import annotations

import httpx
from waiting import until

from load import hub_stalls

SAMPLE = """\
# TYPE orderhub_gc_pause_seconds histogram
orderhub_gc_pause_seconds_bucket{generation="2",le="0.1"} 1.0
orderhub_gc_pause_seconds_bucket{generation="2",le="0.5"} 3.0
orderhub_gc_pause_seconds_bucket{generation="2",le="1.0"} 3.0
orderhub_gc_pause_seconds_bucket{generation="2",le="+Inf"} 3.0
orderhub_gc_pause_seconds_count{generation="2"} 3.0
orderhub_gc_pause_seconds_sum{generation="2"} 0.9
# TYPE orderhub_loop_lag_seconds histogram
orderhub_loop_lag_seconds_bucket{le="0.001"} 90.0
orderhub_loop_lag_seconds_bucket{le="0.25"} 99.0
orderhub_loop_lag_seconds_bucket{le="0.5"} 100.0
orderhub_loop_lag_seconds_bucket{le="+Inf"} 100.0
orderhub_loop_lag_seconds_count 100.0
orderhub_loop_lag_seconds_sum 0.6
"""


def test_between_two_reads():
    after = hub_stalls.parse(SAMPLE)
    gc_only = SAMPLE.split("# TYPE orderhub_loop_lag_seconds")[0]
    before = hub_stalls.parse(gc_only.replace(" 3.0", " 1.0").replace("} 0.9", "} 0.05"))
    got = hub_stalls.between(before, after)
    assert got["gc"]["2"] == {"count": 2, "total_ms": 850.0, "longest_ms_at_most": 500.0}
    assert got["loop_lag"]["p50_ms_at_most"] == 1.0
    assert got["loop_lag"]["p99_ms_at_most"] == 250.0
    assert got["loop_lag"]["max_ms_at_most"] == 500.0
    assert "gen2 2×" in hub_stalls.line(got)
    assert hub_stalls.between(None, None) is None
    assert "not measured" in hub_stalls.line(None)


async def test_a_hub_reports_gc_pauses_and_loop_lag(hub):
    async def stalls():
        got = hub_stalls.between(None, await hub_stalls.read(hub.url))
        if got and got.get("loop_lag", {}).get("samples", 0) > 10:
            return got
        return None

    got = await until(stalls, "loop-lag samples on /metrics", timeout=30)
    assert set(got["gc"]) <= {"0", "1", "2"}
    assert got["loop_lag"]["p50_ms_at_most"] is not None
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{hub.url}/metrics")).text
    assert "orderhub_gc_pause_seconds_bucket" in text or "orderhub_gc_pause_seconds" in text


def test_the_ray_hosts_stalls_are_read_beside_the_hubs():
    hosts = SAMPLE.replace("orderhub_gc_pause", "orderhub_host_gc_pause").replace(
        "orderhub_loop_lag", "orderhub_host_loop_lag"
    )
    got = hub_stalls.between(None, hub_stalls.parse(SAMPLE + hosts))
    assert got["hosts"]["gc"]["2"] == {"count": 3, "total_ms": 900.0, "longest_ms_at_most": 500.0}
    assert got["hosts"]["loop_lag"]["p99_ms_at_most"] == 250.0
    assert "| Ray hosts: gen2 3×" in hub_stalls.line(got)
    assert "hosts" not in hub_stalls.between(None, hub_stalls.parse(SAMPLE))


async def test_the_ray_hosts_report_gc_pauses_and_loop_lag(hub):
    """Each host times its own collections and loop lag and pushes them through Redis every
    10 s; the hub's /metrics shows them (the hosts together)."""

    async def host_stalls():
        got = hub_stalls.between(None, await hub_stalls.read(hub.url))
        lag = ((got or {}).get("hosts") or {}).get("loop_lag") or {}
        return got if lag.get("samples", 0) > 10 else None

    got = await until(host_stalls, "the hosts' loop-lag samples on /metrics", timeout=60)
    assert set(got["hosts"]["gc"]) <= {"0", "1", "2"}
    assert got["hosts"]["loop_lag"]["p50_ms_at_most"] is not None
