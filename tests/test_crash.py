"""Crash safety: SIGKILL the hub, then the Ray hosts, in the middle of an order's life.
Every acknowledged transition is in MySQL afterwards and the order carries on."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import httpx
import pytest
from conftest import World

from actors.transitions import LIVE

# What an app retries on while the hub or its hosts restart; any other answer is final.
OUTAGE_STATUSES = (502, 503)


async def _until_ok(api, path, body=None, timeout=90) -> dict:
    """POST as the apps do through an outage: retry on a refused or dropped connection and
    on 502/503 only, then the answer must be a 200."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            r = await api.call("POST", path, body)
        except httpx.TransportError as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if r.status_code not in OUTAGE_STATUSES:
                assert r.status_code == 200, f"POST {path} → {r.status_code} {r.text}"
                return r.json()
            last = f"{r.status_code} {r.text[:200]}"
        if time.monotonic() > deadline:
            raise AssertionError(f"POST {path} still failing after {timeout} s: {last}")
        await asyncio.sleep(0.5)


async def _grabbed_order(world: World) -> tuple:
    """An online provider who grabbed a new order: (provider, customer, the order created)."""
    provider = await world.provider()
    psock = await world.socket(provider)
    assert (await psock.call("provider.online", {"lat": 20.031, "lng": 110.301}))["ok"]
    customer = await world.customer()
    created = await world.order(customer)
    await psock.wait_for("order.offer", orderId=created["id"])
    assert (await psock.call("order.grab", {"orderId": created["id"]}))["ok"]
    return provider, customer, created


@pytest.mark.slow
async def test_sigkill_hub_and_ray_hosts_mid_lifecycle(hub):
    world = World(hub.url)
    try:
        provider, customer, created = await _grabbed_order(world)
        oid = created["id"]
        acked = [
            created["seq"],
            (await provider.api.ok("POST", f"/api/orders/{oid}/depart"))["seq"],
        ]
        await world.close()

        hub.kill()  # SIGKILL: no goodbye
        hub.restart()
        world = World(hub.url)
        order = await customer.api.ok("GET", f"/api/orders/{oid}")
        assert order["status"] == "departed"
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
        # Every live status once, in the state machine's order, then completed (the grab
        # window's dispatch step is an event of its own, in pending).
        moves = [i["status"] for i in timeline if i["detail"]["action"] != "dispatch"]
        assert moves == [*LIVE, "completed"]
        # Each acknowledged change is in MySQL at the seq it was acknowledged with.
        status_at = {i["seq"]: i["status"] for i in timeline}
        expected = ["pending", "departed", "arrived", "in_progress", "completed"]
        assert [status_at[seq] for seq in acked] == expected
    finally:
        await world.close()
        await customer.api.close()
        await provider.api.close()


@pytest.mark.slow
async def test_an_open_payment_survives_sigkilled_hosts(hub, sandbox):
    """The payment's timers live in its actor: after every Ray host is SIGKILLed, the
    reloaded actor still finds (by query) a payment whose notification was lost."""
    from test_payments import cashier, completed_order
    from waiting import until

    world = World(hub.url)
    try:
        customer, _, order = await completed_order(world)
        prepay = await customer.api.ok(
            "POST", "/api/payments", {"orderId": order["id"]}, status=201
        )
        async with httpx.AsyncClient(base_url=sandbox, timeout=30) as http:
            faults = {"trades": {prepay["outTradeNo"]: {"lost": True}}}
            assert (await http.post("/sandbox/pay/faults", json=faults)).status_code == 200
        admin = await world.admin()
        hosts = (await admin.ok("GET", "/api/admin/hosts"))["items"]
        for h in hosts:
            os.kill(h["pid"], signal.SIGKILL)
        await cashier(sandbox, prepay["paymentParams"])  # paid at WeChat, never notified

        async def paid() -> bool:  # the order, not the payment: reading it asks nobody
            got = await customer.api.ok("GET", f"/api/orders/{order['id']}")
            return got["paymentStatus"] == "paid"

        await until(paid, timeout=90, what="the payment found paid by the restarted host")
    finally:
        await world.close()


def _committed_not_pushed(oid: int, seq: int, status: str, action: str, by: str, uid: int):
    """What a host that died between the commit and the push leaves: the change in MySQL."""
    from db import rows

    rows("UPDATE orders SET status = %s, seq = %s WHERE id = %s", (status, seq, oid))
    rows(
        "INSERT INTO order_events (order_id, seq, status, action, by_role, by_user_id, detail,"
        " created_at) VALUES (%s, %s, %s, %s, %s, %s, '{}', NOW(3))",
        (oid, seq, status, action, by, uid),
    )


@pytest.mark.slow
async def test_an_event_written_but_never_pushed_reaches_a_connected_watcher(hub):
    """A host that dies between an order's commit and its push leaves an event in MySQL that
    no watcher was sent. The restarted host pushes it again, for a live order and for one that
    just ended: a customer whose socket stayed up gets it without asking (CONTRACT §7: a
    client drops a seq it already holds)."""
    world = World(hub.url)
    try:
        provider, customer, created = await _grabbed_order(world)
        taken = created["id"]
        left = (await world.order(customer))["id"]
        csock = await world.socket(customer)
        due = {}
        for oid in (taken, left):
            watched = await csock.call("order.watch", {"orderId": oid, "afterSeq": 0})
            due[oid] = watched["order"]["seq"] + 1
        _committed_not_pushed(taken, due[taken], "departed", "depart", "provider", provider.user_id)
        _committed_not_pushed(left, due[left], "cancelled", "cancel", "customer", customer.user_id)
        admin = await world.admin()
        for h in (await admin.ok("GET", "/api/admin/hosts"))["items"]:
            os.kill(h["pid"], signal.SIGKILL)
        for oid, status in ((taken, "departed"), (left, "cancelled")):
            pushed = await csock.wait_for("order.status", timeout=90, orderId=oid, seq=due[oid])
            assert pushed["status"] == status
    finally:
        await world.close()
