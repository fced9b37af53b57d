"""The hub on a two-node Ray cluster (RAY_ADDRESS): the standing hosts spread over both nodes
(actors/placement.py), two hub processes share the port, a grab storm and an order's whole
life are correct; then one node dies (SIGKILL to all its processes): its hosts restart on the
other node, its orders and providers carry on, and every acknowledged change is in MySQL."""

from __future__ import annotations

import concurrent.futures
import contextlib
from pathlib import Path

import pytest
import redis as redis_sync
from conftest import ADMIN_PASSWORD, MYSQL_URL, REDIS_URL, World
from scale_checks import grab_storm, lifecycle, online_crowd, rows
from test_crash import _until_ok

from load.cluster import start_ray_cluster
from load.processes import HubProcess, Stores, free_port, hub_env, seed_hub
from load.stores import drop_database

CLUSTER_DB = MYSQL_URL + "_cluster"
LAT, LNG = 20.5, 110.3  # an area of this test's own


def _clear_namespace(redis_url: str, ns: str) -> None:
    """This deployment's Redis keys only (they all start with its database name): the Redis
    db is shared with the session's hubs, so no FLUSHDB."""
    r = redis_sync.from_url(redis_url)
    try:
        for key in r.scan_iter(match=f"{ns}:*", count=1000):
            r.delete(key)
    finally:
        r.close()


def _seeded_env(sandbox: str, workdir: Path) -> dict[str, str]:
    """The hub's environment (RAY_ADDRESS still to come), its database migrated and seeded."""
    drop_database(CLUSTER_DB)
    _clear_namespace(REDIS_URL, CLUSTER_DB.rsplit("/", 1)[1])
    port = free_port()
    stores = Stores(CLUSTER_DB, REDIS_URL, workdir / "state")
    env = hub_env(
        port,
        stores,
        sandbox,
        ADMIN_PASSWORD,
        None,
        HUB_LOGIN_PER_MIN=100000,
        HUB_ORDERS_PER_MIN=1000,
        HUB_WORKERS=2,
        HUB_HOSTS=2,
    )
    env.pop("RAY_ADDRESS", None)
    seed_hub(env, workdir / f"hub-cluster-{port}.log")
    return env


@pytest.fixture(scope="module")
def cluster_and_env(sandbox, workdir):
    """The two-node cluster, started while the database is seeded."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        starting = pool.submit(start_ray_cluster, workdir / "cluster", 2, 120)
        try:
            env = _seeded_env(sandbox, workdir)
        finally:
            started = starting.result()
    yield started, {**env, "RAY_ADDRESS": started.address}
    started.stop()


@pytest.fixture(scope="module")
def cluster(cluster_and_env):
    return cluster_and_env[0]


@pytest.fixture(scope="module")
def cluster_hub(cluster_and_env, workdir):
    env = cluster_and_env[1]
    hub = HubProcess.start(env, workdir / f"hub-cluster-{env['HUB_PORT']}.log")
    yield hub
    hub.stop()


def _ancestors(pid: int) -> set[int]:
    out = set()
    while pid > 1:
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        out.add(pid)
    return out


async def _hosts(world: World) -> list[dict]:
    return (await (await world.admin()).ok("GET", "/api/admin/hosts"))["items"]


@pytest.mark.slow
async def test_hosts_on_two_nodes_survive_one_node_dying(cluster, cluster_hub):
    hub = cluster_hub
    node = cluster.nodes[0]  # the node that will die (the head holds the GCS: it stays)
    world = World(hub.url)
    try:
        hosts = await _hosts(world)
        assert len(hosts) == 2 and len({h["node"] for h in hosts}) == 2, hosts
        doomed = [h for h in hosts if node.proc.pid in _ancestors(h["pid"])]
        assert len(doomed) == 1, hosts  # one host on each node
        shard = int(doomed[0]["host"].rsplit("-", 1)[1])  # entity id % 2 == shard lives there

        await world.area(LAT, LNG)
        crowd = await online_crowd(world, 12, hub.url, lat=LAT)
        assert {p.provider_id % 2 for p, _ in crowd} == {0, 1}  # providers on both nodes
        await grab_storm(world, crowd, 2, CLUSTER_DB, lat=LAT)
        await lifecycle(world, *crowd[0], hub.url, lat=LAT)

        # An order of the doomed shard, accepted and on its way when the node dies.
        customer = await world.customer()
        for _ in range(4):
            order = await world.order(customer, lat=LAT)
            if order["id"] % 2 == shard:
                break
            await customer.api.ok("POST", f"/api/orders/{order['id']}/cancel", {"reason": "x"})
        oid = order["id"]
        assert oid % 2 == shard
        provider, psock = next((p, s) for p, s in crowd if p.provider_id % 2 == shard)
        await psock.wait_for("order.offer", 30, orderId=oid)
        grabbed = await psock.call("order.grab", {"orderId": oid})
        assert grabbed["ok"], grabbed
        acked = [order["seq"], grabbed["order"]["seq"]]
        acked.append((await provider.api.ok("POST", f"/api/orders/{oid}/depart"))["seq"])

        node.crash()

        # The order's host comes back on the head and the order carries on.
        acked.append((await _until_ok(provider.api, f"/api/orders/{oid}/arrive"))["seq"])
        for action in ("start", "complete"):
            acked.append((await _until_ok(provider.api, f"/api/orders/{oid}/{action}"))["seq"])
        after = await _hosts(world)
        assert len({h["node"] for h in after}) == 1, after  # both on the surviving node
        moved = next(h for h in after if h["host"] == doomed[0]["host"])
        assert moved["pid"] != doomed[0]["pid"]

        # Its providers are still online there: a new order reaches one and it takes it.
        other = next((p, s) for p, s in crowd if p.provider_id % 2 == shard and p is not provider)
        fresh = await world.order(customer, lat=LAT)
        await other[1].wait_for("order.offer", 60, orderId=fresh["id"])
        assert (await other[1].call("order.grab", {"orderId": fresh["id"]}))["ok"]

        # Nothing acknowledged is lost: each acknowledged seq is in MySQL with its status.
        status_at = dict(
            rows(CLUSTER_DB, "SELECT seq, status FROM order_events WHERE order_id = %s", oid)
        )
        assert [status_at[s] for s in acked] == [
            "pending",
            "accepted",
            "departed",
            "arrived",
            "in_progress",
            "completed",
        ]
        assert sorted(status_at) == list(range(1, acked[-1] + 1))
        for _, sock in crowd:
            with contextlib.suppress(Exception):
                await sock.call("provider.offline", timeout=10)
    finally:
        await world.close()
