"""Redis is derived from MySQL (actors/rebuild.py): a hub starting on a database whose Redis
holds another database's keys leaves no ghost provider there, and a hub starting after its
Redis was flushed loses no open offer. One hub of its own, under dedicated placement (the
one that dispatches from Redis GEO sets and cards), restarted twice."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest
import redis.asyncio as aioredis
from conftest import MYSQL_URL, REDIS_URL, World

from adapters.mysql import MysqlDsn

LAT, LNG = 21.52, 111.54  # an area of this module's own
GHOSTS = range(1, 31)  # the old database's 30 providers; ids the new one gives out again


@pytest.fixture(scope="module")
async def rebuilt(hub_factory):
    mysql_url = MYSQL_URL + "_rebuild"
    hub = hub_factory(
        MYSQL_URL=mysql_url,
        REDIS_URL=REDIS_URL.rsplit("/", 1)[0] + "/12",
        HUB_PLACEMENT="dedicated",
        HUB_HEARTBEAT_TIMEOUT_S=180,  # providers stay online across the hub's restarts
        HUB_OFFER_TTL_S=300,
    )
    redis = aioredis.from_url(hub.env["REDIS_URL"], decode_responses=True)
    world = World(hub.url)
    area = await world.area(LAT, LNG)
    await world.policy(area["id"], batch_size=1, batch_s=300, window_s=0)
    yield hub, world, redis, MysqlDsn.parse(mysql_url).database
    await world.close()
    await redis.aclose()


async def _geo_members(redis, ns: str) -> dict[str, set[int]]:
    out = {}
    async for key in redis.scan_iter(match=f"{ns}:geo:svc:*"):
        out[key] = {int(m) for m in await redis.zrange(key, 0, -1)}
    return out


async def _restart(hub) -> None:
    await asyncio.to_thread(hub.restart)


async def test_a_recreated_database_leaves_no_ghost_providers(rebuilt):
    hub, world, redis, ns = rebuilt
    services = await world.ensure_catalog()
    fix, other = services[0]["id"], services[1]["id"]
    # The new database: one provider online with every skill, one approved but offline
    # whose id the old database also had.
    online = await world.provider()
    offline = await world.provider()
    assert offline.provider_id in GHOSTS
    psock = await world.socket(online)
    assert (await psock.call("provider.online", {"lat": LAT, "lng": LNG}))["ok"]
    # Redis as the old database left it: 30 providers online right here, with the skill.
    pipe = redis.pipeline()
    pipe.set(f"{ns}:origin", "an older database")
    for pid in GHOSTS:
        pipe.geoadd(f"{ns}:geo:svc:{fix}", (LNG, LAT, pid))
        pipe.geoadd(f"{ns}:geo:svc:{other}", (LNG, LAT, pid))
        card = {"online": True, "verified": True, "skills": [fix, other], "areas": []}
        card.update(capacity=3, rating=5.0, slots=[], accepted=99, declined=0, timedOut=0)
        pipe.hset(f"{ns}:cards", str(pid), orjson.dumps(card))
        pipe.hset(f"{ns}:fixes", str(pid), time.time())
    await pipe.execute()

    await _restart(hub)
    await psock.close()
    psock = await world.socket(online)  # a provider reconnects after a drop

    for key, members in (await _geo_members(redis, ns)).items():
        assert members <= {online.provider_id}, f"ghosts in {key}: {sorted(members)}"
    cards = {int(k): orjson.loads(v) for k, v in (await redis.hgetall(f"{ns}:cards")).items()}
    assert cards[online.provider_id]["online"] is True
    assert cards[online.provider_id]["accepted"] == 0, "the old database's record leaked"
    ghosts = {pid: c for pid, c in cards.items() if c["online"] and pid != online.provider_id}
    assert not ghosts, f"cards of providers MySQL has not online: {sorted(ghosts)}"
    assert {int(p) for p in await redis.hkeys(f"{ns}:fixes")} <= {online.provider_id}

    # An automatic order goes to the provider who is online, never to a ghost.
    osock = await world.socket(offline)
    customer = await world.customer()
    order = await world.order(customer, lat=LAT, lng=LNG, dispatchMode="auto")
    await psock.wait_for("order.offer", orderId=order["id"], timeout=30)
    assert not await redis.hlen(f"{ns}:offers:{offline.provider_id}")
    assert not osock.of("order.offer")
    await online.api.ok("POST", f"/api/orders/{order['id']}/accept")


async def test_a_flushed_redis_loses_no_open_offer(rebuilt):
    hub, world, redis, ns = rebuilt
    first, second = await world.provider(), await world.provider()
    socks = {p.provider_id: await world.socket(p) for p in (first, second)}
    for p in (first, second):
        assert (await socks[p.provider_id].call("provider.online", {"lat": LAT, "lng": LNG}))["ok"]
    customer = await world.customer()
    grab = await world.order(customer, lat=LAT, lng=LNG)
    direct = await world.order(
        customer, lat=LAT, lng=LNG, dispatchMode="direct", providerId=first.provider_id
    )
    for p in (first, second):
        await socks[p.provider_id].wait_for("order.offer", orderId=grab["id"], timeout=30)
    await socks[first.provider_id].wait_for("order.offer", orderId=direct["id"], timeout=30)

    async def halls() -> dict[int, set[int]]:
        out = {}
        for pid, sock in socks.items():
            ack = await sock.call("hall.snapshot")
            out[pid] = {o["orderId"] for o in ack["offers"]}
        return out

    before = await halls()
    assert grab["id"] in before[first.provider_id] and grab["id"] in before[second.provider_id]
    assert direct["id"] in before[first.provider_id]

    # Redis loses everything of this deployment (as after FLUSHDB), then the hub restarts.
    keys = [k async for k in redis.scan_iter(match=f"{ns}:*")]
    await redis.delete(*keys)
    assert not any((await halls()).values())
    await _restart(hub)
    for sock in socks.values():
        await sock.close()
    socks = {p.provider_id: await world.socket(p) for p in (first, second)}

    after = await halls()
    for pid, orders in before.items():
        assert orders <= after[pid], f"provider {pid} lost offers: {orders - after[pid]}"
    crowd = {int(p) for p in await redis.smembers(f"{ns}:offered:{grab['id']}")}
    assert crowd == {first.provider_id, second.provider_id}
    # The providers are listed again: a new order reaches both.
    fresh = await world.order(customer, lat=LAT, lng=LNG)
    for sock in socks.values():
        await sock.wait_for("order.offer", orderId=fresh["id"], timeout=30)
    # And the restored offers are live ones: the direct order is accepted, the grab grabbed.
    assert (await socks[second.provider_id].call("order.grab", {"orderId": grab["id"]}))["ok"]
    await first.api.ok("POST", f"/api/orders/{direct['id']}/accept")
