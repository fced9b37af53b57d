"""The grab hall under contention: exactly one of 200 simultaneous grabs wins, every time,
through one hub or two."""

from __future__ import annotations

import asyncio
import functools

import pymysql
import pytest
from conftest import MYSQL_URL, World
from waiting import until

from adapters.mysql import MysqlDsn

PROVIDERS = 200
ORDERS = 20


async def _providers(world: World, n: int, hubs: list[str]):
    sem = asyncio.Semaphore(20)

    async def one(i: int):
        async with sem:
            user = await world.provider()
            sock = await world.socket(user, hubs[i % len(hubs)])
            # A generous timeout: one of 200 go-onlines was once seen taking over 30 s on a
            # loaded machine (not understood yet; see the stop note), and this test is about
            # the grabs that follow.
            where = {"lat": 20.03 + i * 1e-5, "lng": 110.3}
            ack = await sock.call("provider.online", where, timeout=90)
            assert ack["ok"], ack
            return user, sock

    return await asyncio.gather(*(one(i) for i in range(n)))


def _grab_rows(order_id: int) -> list[tuple]:
    conn = pymysql.connect(**MysqlDsn.parse(MYSQL_URL).connect_kwargs(db_key="database"))
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT by_user_id FROM order_events WHERE order_id = %s AND action = 'grab'",
                (order_id,),
            )
            events = cur.fetchall()
            cur.execute("SELECT provider_id, status FROM orders WHERE id = %s", (order_id,))
            return [events, cur.fetchone()]
    finally:
        conn.close()


async def _available(provider) -> bool:
    me = await provider.api.ok("GET", "/api/me")
    return me["provider"]["workStatus"] == "online"


async def _storm(world: World, hubs: list[str]) -> None:
    crowd = await _providers(world, PROVIDERS, hubs)
    customer = await world.customer()
    for _ in range(ORDERS):
        order = await world.order(customer)
        oid = order["id"]
        offers = await asyncio.gather(
            *(sock.wait_for("order.offer", orderId=oid) for _, sock in crowd)
        )
        assert {o["respond"] for o in offers} == {"grab"}
        acks = await asyncio.gather(
            *(sock.call("order.grab", {"orderId": oid}) for _, sock in crowd)
        )
        winners = [i for i, ack in enumerate(acks) if ack["ok"]]
        assert len(winners) == 1, [a for a in acks if a["ok"]]
        losers = [ack["error"]["code"] for ack in acks if not ack["ok"]]
        assert losers == ["already_taken"] * (PROVIDERS - 1)
        await asyncio.gather(*(sock.wait_for("order.taken", orderId=oid) for _, sock in crowd))
        events, (provider_id, status) = _grab_rows(oid)
        winner = crowd[winners[0]][0]
        assert len(events) == 1 and events[0][0] == winner.user_id
        assert provider_id == winner.provider_id and status == "accepted"
        # Free the winner so all 200 are eligible for the next order.
        await customer.api.ok("POST", f"/api/orders/{oid}/cancel", {"reason": "next round"})
        freed = f"provider {winner.provider_id} available again after the cancel"
        await until(functools.partial(_available, winner), freed)
    for _, sock in crowd:
        await sock.call("provider.offline")


@pytest.mark.slow
async def test_200_providers_one_winner_each_of_20_orders(world):
    await _storm(world, [world.base])


@pytest.mark.slow
async def test_same_with_two_hub_processes(hub, hub_factory):
    second = hub_factory()
    world = World(hub.url)
    try:
        await _storm(world, [hub.url, second.url])
    finally:
        await world.close()
