"""Crash safety: SIGKILL the hub, then the Ray hosts, in the middle of an order's life.
Every acknowledged transition is in MySQL afterwards and the order carries on."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
from conftest import World


async def _until_ok(api, path, body=None, timeout=90):
    """A client retrying through an outage, as the apps do (503 while hosts restart)."""
    deadline = time.time() + timeout
    while True:
        try:
            r = await api.call("POST", path, body)
            if r.status_code == 200:
                return r.json()
            assert r.status_code in (502, 503), r.text
        except Exception:
            if time.time() > deadline:
                raise
        if time.time() > deadline:
            raise TimeoutError(f"{path} still failing")
        await asyncio.sleep(0.5)


@pytest.mark.slow
async def test_sigkill_hub_and_ray_hosts_mid_lifecycle(hub):
    world = World(hub.url)
    try:
        customer = await world.customer()
        provider = await world.provider()
        psock = await world.socket(provider)
        await psock.call("provider.online", {"lat": 20.031, "lng": 110.301})
        oid = (await world.order(customer))["id"]
        await psock.wait_for("order.offer", orderId=oid)
        assert (await psock.call("order.grab", {"orderId": oid}))["ok"]
        acked = [1, (await provider.api.ok("POST", f"/api/orders/{oid}/depart"))["seq"]]
        await world.close()

        hub.kill()  # SIGKILL: no goodbye
        hub.restart()
        world = World(hub.url)
        order = await customer.api.http.get(f"{hub.url}/api/orders/{oid}")
        assert order.json()["status"] == "departed"
        acked.append((await _until_ok(provider.api, f"/api/orders/{oid}/arrive"))["seq"])

        admin = await world.admin()
        hosts = (await admin.ok("GET", "/api/admin/hosts"))["items"]
        assert hosts and all(h["pid"] for h in hosts)
        for h in hosts:
            os.kill(h["pid"], signal.SIGKILL)
        acked.append((await _until_ok(provider.api, f"/api/orders/{oid}/start"))["seq"])
        restarted = (await admin.ok("GET", "/api/admin/hosts"))["items"]
        assert {h["pid"] for h in restarted}.isdisjoint({h["pid"] for h in hosts})
        acked.append((await _until_ok(provider.api, f"/api/orders/{oid}/complete"))["seq"])

        timeline = (await customer.api.ok("GET", f"/api/orders/{oid}/timeline"))["items"]
        assert [i["seq"] for i in timeline] == list(range(1, acked[-1] + 1))
        assert set(acked) <= {i["seq"] for i in timeline}
        assert [i["status"] for i in timeline] == [
            "pending",
            "accepted",
            "departed",
            "arrived",
            "in_progress",
            "completed",
        ]
    finally:
        await world.close()
        await customer.api.close()
        await provider.api.close()
