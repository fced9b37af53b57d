"""The same order and provider code under `dedicated` placement (one Ray actor per entity)."""

from __future__ import annotations

import pytest
from conftest import MYSQL_URL, REDIS_URL, World


@pytest.mark.slow
async def test_dedicated_placement_runs_a_whole_order(hub_factory):
    hub = hub_factory(
        MYSQL_URL=MYSQL_URL + "_dedicated",
        REDIS_URL=REDIS_URL.rsplit("/", 1)[0] + "/9",
        HUB_PLACEMENT="dedicated",
    )
    world = World(hub.url)
    try:
        customer = await world.customer()
        provider, rival = await world.provider(), await world.provider()
        psock, rsock = await world.socket(provider), await world.socket(rival)
        for sock in (psock, rsock):
            assert (await sock.call("provider.online", {"lat": 20.03, "lng": 110.3}))["ok"]
        order = await world.order(customer)
        oid = order["id"]
        watcher = await world.socket(customer)
        await watcher.call("order.watch", {"orderId": oid})
        await psock.wait_for("order.offer", orderId=oid)
        await rsock.wait_for("order.offer", orderId=oid)
        assert (await psock.call("order.grab", {"orderId": oid}))["ok"]
        assert (await rsock.call("order.grab", {"orderId": oid}))["error"][
            "code"
        ] == "already_taken"
        await psock.call("location.update", {"lat": 20.031, "lng": 110.3, "at": "t1"})
        await watcher.wait_for("provider.location", orderId=oid, at="t1")
        for action in ("depart", "arrive", "start", "complete"):
            await provider.api.ok("POST", f"/api/orders/{oid}/{action}")
        done = await watcher.wait_for("order.status", orderId=oid, status="completed")
        assert done["seq"] == 7  # create, the grab window, grab, depart … complete
    finally:
        await world.close()
