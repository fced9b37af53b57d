"""A 30-second load scenario against a real hub: every correctness check must be 0.

Uses the session's hub and WeChat sandbox (tests/conftest.py). Small on purpose (the machine
has 2 cores shared with the hub): 40 providers, 12 customers, 1 order/s, every dispatch mode,
chat, quotes, cancellations, one reconnect storm in the middle; completed orders are paid at
the sandbox's cashier (some cancelled or failed there first, some notifications lost or sent
twice), some partly refunded, and reviewed. Timings are not asserted: they belong in the
bench output.
"""

from __future__ import annotations

import uuid

from conftest import ADMIN_PASSWORD, MYSQL_URL

from load.checks import CHECKS
from load.config import RunConfig
from load.runner import run_load


async def test_small_scenario_has_no_correctness_failures(hub, sandbox, world, tmp_path):
    await world.ensure_catalog()  # services and an area, when the database is empty
    cfg = RunConfig(
        hub=hub.url,
        scenario="reconnect-storm",
        providers=40,
        customers=12,
        rate=1.0,
        duration=30.0,
        procs=1,
        cadence=2.0,
        time_scale=300.0,
        reaction=0.5,
        quote=0.4,
        chat=0.6,
        cancel=0.05,
        reconnect_at=[15.0],
        drain=4.0,
        sandbox=sandbox,
        pay_mix={"success": 0.7, "cancel": 0.15, "fail": 0.15},
        pay_faults={"lost": {"rate": 0.3}, "duplicate": {"rate": 0.3}},
        pay_check=2.0,
        pay_settle=20.0,  # the session's hub asks WeChat about open payments every 3 s
        refund=0.3,
        admin_user="admin",
        admin_password=ADMIN_PASSWORD,
        mysql_url=MYSQL_URL,
        report_dir=str(tmp_path),
        name_prefix=f"smoke{uuid.uuid4().hex[:6]}",
        quiet=True,
    )
    report = await run_load(cfg)

    counts = report["checks"]["counts"]
    assert report["checks"]["mysql"], report["checks"]["info"]
    assert counts == dict.fromkeys(CHECKS, 0), report["checks"]["examples"]
    assert report["ok"]
    # the scenario really ran: orders went through every stage and events reached watchers
    c = report["counters"]
    assert report["meta"]["providers_online_at_start"] == 40
    assert sum(v for k, v in c.items() if k.startswith("orders created")) >= 15
    assert c.get("orders won", 0) >= 5
    assert c.get("orders completed", 0) >= 1
    assert c.get("reconnects", 0) >= 40
    s = report["summary"]
    for series in (
        "grab ack",
        "status change → watcher",
        "location → watcher",
        "order created → first offer",
    ):
        assert s.get(series, {}).get("count", 0) > 0, series
    # completed orders were paid, through notifications and the hub's own queries
    p = report["payments"]
    assert c.get("payments paid", 0) >= 1 and s["prepay → paid"]["count"] >= 1, p
    assert p["paid"] >= c["payments paid"] and p["prepaid"] >= p["paid"], p
    assert p["notifications received"] is not None, p
    assert report["features"].get("payments", True), report["features"]
    assert (tmp_path / f"{report['files']['html'].rsplit('/', 1)[-1]}").exists()
