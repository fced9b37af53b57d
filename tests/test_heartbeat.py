"""A provider that stops heartbeating goes offline and gets no more offers."""

from __future__ import annotations

import asyncio

import pytest
from conftest import MYSQL_URL, REDIS_URL, World


@pytest.mark.slow
async def test_silent_provider_goes_offline_and_gets_no_offers(hub_factory):
    # Its own database, so its own hosts with a short heartbeat timeout.
    hub = hub_factory(
        MYSQL_URL=MYSQL_URL + "_hb",
        REDIS_URL=REDIS_URL.rsplit("/", 1)[0] + "/11",
        HUB_HEARTBEAT_TIMEOUT_S=4,
    )
    world = World(hub.url)
    try:
        customer = await world.customer()
        alive, silent = await world.provider(), await world.provider()
        busy = await world.provider()
        alive_sock = await world.socket(alive)
        alive_sock.heartbeat_s = 1
        silent_sock, busy_sock = await world.socket(silent), await world.socket(busy)
        for sock in (silent_sock, busy_sock):
            sock._beat.cancel()  # these two go quiet
        for sock in (alive_sock, silent_sock, busy_sock):
            assert (await sock.call("provider.online", {"lat": 20.03, "lng": 110.3}))["ok"]

        first = await world.order(customer)
        await busy_sock.wait_for("order.offer", orderId=first["id"])
        assert (await busy_sock.call("order.grab", {"orderId": first["id"]}))["ok"]
        staff = await world.socket(await world.admin_user())

        await asyncio.sleep(7)
        second = await world.order(customer)
        await alive_sock.wait_for("order.offer", orderId=second["id"])
        await asyncio.sleep(1)
        assert not silent_sock.of("order.offer", orderId=second["id"])
        me = await silent.api.ok("GET", "/api/me")
        assert me["provider"]["workStatus"] == "offline"
        alert = await staff.wait_for("console.update", type="alert", kind="provider_lost")
        assert alert["providerId"] == busy.provider_id and alert["orders"] == [first["id"]]
    finally:
        await world.close()
