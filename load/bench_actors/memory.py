"""The sharded and dedicated phases: memory per live order and per online provider, and
how many of each the hub makes live per second."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass

from actors.placement import placement_for
from load.bench_actors.basics import all_or_fail, error_summary, run_all, say
from load.bench_actors.meters import (
    CpuMeter,
    hub_probe,
    machine_snapshot,
    pct,
    proc_rss_kb,
    service_pids,
)
from load.bench_actors.stack import Stack
from load.bench_actors.world import World, ack_ok

# All orders at one point in 美兰区; their providers are online far away (Beijing), so no
# order holds offers and the figures are the entities' own cost.
ORDER_AT = (20.03, 110.35)
FAR_AWAY = (39.90, 116.40)
NOTHING = {"ussKb": 0, "rssKb": 0, "orders": 0, "providers": 0, "processes": 0}
# What make_live says it does, and what it has done, per kind of entity.
WHAT = {
    "order": ("creating {n} orders", "orders"),
    "provider": ("bringing {n} providers online", "providers online"),
}


async def host_handles(stack: Stack) -> list:
    """The standing host actors of a sharded stack."""
    placement = placement_for(stack.settings)
    return [await placement.handle_named(name) for name in placement.standing_hosts()]


async def entity_handles(stack: Stack, kind: str, ids: list[int]) -> list:
    """The actors holding these entities (dedicated: one each); those gone are left out."""
    placement = placement_for(stack.settings)
    handles = [await placement.handle_named(placement.host_of(kind, i)) for i in ids]
    return [h for h in handles if h is not None]


async def stats_of(handles: list) -> dict:
    rows = await asyncio.wait_for(asyncio.gather(*[h.stats.remote() for h in handles]), 120)
    return {
        "processes": len(rows),
        "ussKb": sum(r["ussKb"] for r in rows),
        "rssKb": sum(r["rssKb"] for r in rows),
        "orders": sum(r["orders"] for r in rows),
        "providers": sum(r["providers"] for r in rows),
        "pids": [r["pid"] for r in rows],
    }


async def timed(n: int, fn, concurrency: int, base: str) -> dict:
    """Run fn(i) n times; the rate of successes from the first start to the last answer."""
    latencies: list[float] = []
    stop = asyncio.Event()
    probing = asyncio.create_task(hub_probe(base, stop))

    async def one(i):
        t = time.perf_counter()
        result = await fn(i)
        latencies.append(time.perf_counter() - t)
        return result

    t0 = time.perf_counter()
    results, errors = await run_all(n, one, concurrency)
    elapsed = time.perf_counter() - t0
    stop.set()
    health = await probing
    made = n - len(errors)
    return {
        "hubHealth": health,
        "results": results,
        "requested": n,
        "made": made,
        "errors": len(errors),
        "errorSamples": error_summary(errors),
        "elapsedS": round(elapsed, 2),
        "perSecond": round(made / elapsed, 1) if elapsed > 0 else None,
        "callP50Ms": round(1000 * pct(latencies, 50), 1) if latencies else None,
        "callP99Ms": round(1000 * pct(latencies, 99), 1) if latencies else None,
    }


def per_entity(before: dict, after: dict, count: int) -> dict:
    if count <= 0:
        return {"ussKbPerEntity": None, "rssKbPerEntity": None}
    return {
        "ussKbPerEntity": round((after["ussKb"] - before["ussKb"]) / count, 2),
        "rssKbPerEntity": round((after["rssKb"] - before["rssKb"]) / count, 2),
    }


@dataclass
class Baseline:
    """What make_live measures against."""

    cpu_of: dict[str, list[int]]  # the processes whose CPU is metered, by name
    hosts: list  # sharded: the host actors' handles
    before: dict  # sharded: their stats before the new entities; dedicated: NOTHING


async def make_live(stack: Stack, kind: str, n: int, fn, conc: int, base: Baseline) -> tuple:
    """fn(i) n times, timed, then the memory the new `kind` entities take:
    (timing, processes' stats after, memory per entity, entities live)."""
    sharded = stack.placement == "sharded"
    doing, done = WHAT[kind]
    say(f"{stack.label}: {doing.format(n=n)} (concurrency {conc}) …")
    meter = CpuMeter(base.cpu_of)
    timing = await timed(n, fn, conc, stack.hub_url)
    timing["cpu"] = meter.read()
    ids = [x for x in timing.pop("results") if x is not None]
    await asyncio.sleep(stack.args.settle)
    counter = f"{kind}s"
    before = base.before
    if sharded:  # the same host processes: what they grew by
        after = await stats_of(base.hosts)
        live = after[counter] - before[counter]
    else:  # a process per entity: all they take
        after = await stats_of(await entity_handles(stack, kind, ids))
        live = after[counter]
    say(
        f"{stack.label}: {timing['made']} {done} in {timing['elapsedS']} s"
        f" ({timing['perSecond']}/s), {live} live"
    )
    return timing, after, per_entity(before, after, live), live


async def memory_phase(stack: Stack, n_orders: int, n_providers: int, conc: int) -> dict:
    args = stack.args
    sharded = stack.placement == "sharded"
    world = World(stack.hub_url, conc, f"b{os.getpid()}{stack.label[:2]}")
    await world.setup()
    categories = sorted({s["category"] for s in world.services})
    service_id = world.services[0]["id"]
    warm = args.warmup if sharded else 0

    say(f"{stack.label}: making {n_providers + warm} approved providers and their sockets …")
    n_customers = max(1, min(n_orders + warm, args.customers))
    customers = await all_or_fail("customer logins", n_customers, world.customer, conc)
    providers = await all_or_fail(
        "provider set-up",
        n_providers + warm,
        lambda i: world.provider(i, world.skills(categories[i % len(categories)])),
        conc,
    )
    connect = world.connect
    await all_or_fail("provider sockets", len(providers), lambda i: connect(providers[i]), conc)

    def far(i: int) -> dict:
        # spread a little; 0.001 deg ~ 100 m, far from every order
        return {"lat": FAR_AWAY[0] + (i % 50) * 0.001, "lng": FAR_AWAY[1] + (i // 50) * 0.001}

    async def make_order(i: int) -> int:
        body = await world.order(customers[i % n_customers], service_id, ORDER_AT)
        return body["id"]

    async def go_online(i: int) -> int:
        p = providers[i]
        await ack_ok(p.sock, "provider.online", far(i))
        return p.provider_id

    hub_rss0 = proc_rss_kb(stack.hub_pid)
    handles = []
    if sharded:
        handles = await host_handles(stack)
        if warm:  # imports, pools and caches that the first entities pay for
            await run_all(warm, lambda i: make_order(n_orders + i), conc)
            await run_all(warm, lambda i: go_online(n_providers + i), conc)
            await asyncio.sleep(2)
        base = await stats_of(handles)
    else:
        base = NOTHING
    machine0 = machine_snapshot()
    watched = {
        "hub": [stack.hub_pid],
        **({"hosts": base["pids"]} if sharded else {}),
        **service_pids(),
    }
    baseline = Baseline(watched, handles, base)

    orders, mid, order_mem, live_orders = await make_live(
        stack, "order", n_orders, make_order, conc, baseline
    )
    if sharded:
        baseline.before = mid  # providers: what the hosts grew by on top of the orders
    online, end, provider_mem, live_providers = await make_live(
        stack, "provider", n_providers, go_online, conc, baseline
    )
    hub_rss1 = proc_rss_kb(stack.hub_pid)
    machine1 = machine_snapshot()
    await world.close(providers + customers)
    result = {
        "placement": stack.placement,
        "hosts": args.hosts if sharded else None,
        "concurrency": conc,
        "warmupEntities": warm,
        "order": {**orders, "live": live_orders, **order_mem},
        "provider": {**online, "live": live_providers, **provider_mem},
        "hostsBefore": base,
        "hostsAfterOrders": mid,
        "hostsAfterProviders": end,
        "hubRssKb": {"before": hub_rss0, "after": hub_rss1},
        **world.notes(),
        "machine": {"before": machine0, "after": machine1},
    }
    if not sharded:
        for entity, stats in (("order", mid), ("provider", end)):
            result[entity]["totalRssMb"] = round(stats["rssKb"] / 1024, 1)
            result[entity]["totalUssMb"] = round(stats["ussKb"] / 1024, 1)
    for key in ("hostsBefore", "hostsAfterOrders", "hostsAfterProviders"):
        result[key] = {k: v for k, v in result[key].items() if k != "pids"}
    return result
