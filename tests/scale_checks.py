"""Checks shared by the multi-process and cluster tests: a grab storm and an order's whole
life, each compared with what MySQL holds (an acknowledged change is a row)."""

from __future__ import annotations

import asyncio
import functools

import pymysql
from conftest import World
from waiting import until

from adapters.mysql import MysqlDsn


def rows(mysql_url: str, sql: str, *args) -> list[tuple]:
    conn = pymysql.connect(**MysqlDsn.parse(mysql_url).connect_kwargs(db_key="database"))
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())
    finally:
        conn.close()


async def online_crowd(world: World, n: int, hub_url: str, lat: float = 20.03):
    async def one(i: int):
        user = await world.provider()
        sock = await world.socket(user, hub_url)
        ack = await sock.call("provider.online", {"lat": lat + i * 1e-5, "lng": 110.3}, 90)
        assert ack["ok"], ack
        return user, sock

    sem = asyncio.Semaphore(10)

    async def bounded(i: int):
        async with sem:
            return await one(i)

    return await asyncio.gather(*(bounded(i) for i in range(n)))


async def _available(provider) -> bool:
    me = await provider.api.ok("GET", "/api/me")
    return me["provider"]["workStatus"] == "online"


async def grab_storm(world: World, crowd, orders: int, mysql_url: str, lat: float = 20.03):
    """Every provider of `crowd` grabs each of `orders` orders at once: one winner each,
    the rest told already_taken and order.taken; MySQL has exactly the winner's grab."""
    customer = await world.customer()
    for _ in range(orders):
        order = await world.order(customer, lat=lat)
        oid = order["id"]
        await asyncio.gather(*(sock.wait_for("order.offer", 30, orderId=oid) for _, sock in crowd))
        acks = await asyncio.gather(
            *(sock.call("order.grab", {"orderId": oid}) for _, sock in crowd)
        )
        winners = [i for i, ack in enumerate(acks) if ack["ok"]]
        assert len(winners) == 1, [a for a in acks if a["ok"]]
        assert [a["error"]["code"] for a in acks if not a["ok"]] == ["already_taken"] * (
            len(crowd) - 1
        )
        await asyncio.gather(*(s.wait_for("order.taken", 30, orderId=oid) for _, s in crowd))
        winner = crowd[winners[0]][0]
        grabs = rows(
            mysql_url,
            "SELECT by_user_id FROM order_events WHERE order_id = %s AND action = 'grab'",
            oid,
        )
        assert grabs == [(winner.user_id,)]
        (held,) = rows(mysql_url, "SELECT provider_id, status FROM orders WHERE id = %s", oid)
        assert held == (winner.provider_id, "accepted")
        await customer.api.ok("POST", f"/api/orders/{oid}/cancel", {"reason": "next round"})
        await until(functools.partial(_available, winner), "the winner free again")


async def lifecycle(world: World, provider, psock, watcher_url: str, lat: float = 20.031) -> dict:
    """Create → grab → depart → arrive → start → complete, watched from a socket on
    `watcher_url`; the watcher hears every status in seq order and a location fix, and every
    acknowledged seq is in MySQL's timeline. Returns the order."""
    customer = await world.customer()
    order = await world.order(customer, lat=lat)
    oid = order["id"]
    watcher = await world.socket(customer, watcher_url)
    assert (await watcher.call("order.watch", {"orderId": oid}))["ok"]
    await psock.wait_for("order.offer", 30, orderId=oid)
    assert (await psock.call("order.grab", {"orderId": oid}))["ok"]
    acked = [order["seq"]]
    for action in ("depart", "arrive", "start", "complete"):
        acked.append((await provider.api.ok("POST", f"/api/orders/{oid}/{action}"))["seq"])
        if action == "depart":
            await psock.call("location.update", {"lat": lat, "lng": 110.3, "at": "t-move"})
            await watcher.wait_for("provider.location", 30, orderId=oid, at="t-move")
    last = await watcher.wait_for("order.status", 30, orderId=oid, status="completed")
    seqs = [d["seq"] for d in watcher.of("order.status", orderId=oid)]
    assert seqs == sorted(set(seqs)) and seqs[-1] == last["seq"] == acked[-1], seqs
    timeline = (await customer.api.ok("GET", f"/api/orders/{oid}/timeline"))["items"]
    assert [i["seq"] for i in timeline] == list(range(1, acked[-1] + 1))
    await customer.api.close()
    return order
