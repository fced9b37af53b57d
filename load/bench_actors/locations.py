"""The locations phase (sharded): P providers online, each with a grabbed order watched by
its customer; the providers send `location.update` at a fixed total rate, one rate step
after another, and the customers time `provider.location` (receive time - `at`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, field

import redis.asyncio as aioredis

from load.bench_actors.basics import all_or_fail, iso_ms, say
from load.bench_actors.memory import host_handles, stats_of
from load.bench_actors.meters import CpuMeter, hub_probe, pct, service_pids, spread
from load.bench_actors.stack import Stack
from load.bench_actors.world import World, ack_ok

# One provider+order pair per grid point, GRID_STEP apart (stack.GRAB_RADIUS_M is less).
GRID_ORIGIN = (19.95, 110.28)
GRID_STEP = 0.003  # degrees, ~330 m


@dataclass
class Step:
    """One rate step: what was sent when, and what came back."""

    rate: float
    sent: dict = field(default_factory=dict)  # (providerId, at) -> send wall time
    latency_ms: list = field(default_factory=list)
    got: set = field(default_factory=set)
    first_send: float = 0.0
    last_recv: float = 0.0
    duplicates: int = 0
    stray: int = 0
    sending: bool = True
    all_in: asyncio.Event = field(default_factory=asyncio.Event)

    def receive(self, data) -> None:
        """A `provider.location` a watcher got."""
        now = time.time()
        if not isinstance(data, dict):
            return
        key = (data.get("providerId"), data.get("at"))
        sent = self.sent.get(key)
        if sent is None:
            self.stray += 1
            return
        if key in self.got:
            self.duplicates += 1
            return
        self.got.add(key)
        self.latency_ms.append((now - sent) * 1000)
        self.last_recv = now
        if not self.sending and len(self.got) >= len(self.sent):
            self.all_in.set()

    def superseded(self) -> int:
        """Fixes not delivered while a newer one of the same provider was: coalesced by the
        hub's per-tick batching ("the newest fix wins") rather than lost in transport."""
        newest: dict = {}
        for pid, at in self.got:
            newest[pid] = max(newest.get(pid, ""), at)
        return sum(
            1 for (pid, at) in self.sent if (pid, at) not in self.got and at < newest.get(pid, "")
        )


async def probe(redis_url: str, stop: asyncio.Event) -> dict:
    """While a step runs: this process's event-loop lag (is the generator keeping up?), the
    round trip of a Redis PING (the Redis is shared with everything else here), and the
    output buffer Redis holds for the hub's pub/sub subscription (it grows when the hub's
    listener falls behind the hosts' publishing)."""
    r = aioredis.from_url(redis_url)
    db = str(r.connection_pool.connection_kwargs.get("db", 0))
    loop = asyncio.get_running_loop()
    lags, pings = [], []
    sub_mem = sub_len = 0
    next_sample = 0.0
    try:
        while not stop.is_set():
            t = loop.time()
            await asyncio.sleep(0.05)
            lags.append((loop.time() - t - 0.05) * 1000)
            t = time.perf_counter()
            await r.ping()
            pings.append((time.perf_counter() - t) * 1000)
            if loop.time() >= next_sample:
                next_sample = loop.time() + 0.25
                for c in await r.client_list(_type="pubsub"):
                    if str(c.get("db")) == db:
                        sub_mem = max(sub_mem, int(c.get("omem", 0)))
                        sub_len = max(sub_len, int(c.get("oll", 0)))
    finally:
        await r.aclose()
    return {
        "generatorLoopLag": spread(lags),
        "redisPing": spread(pings),
        "hubSubscriberBacklog": {"maxOutputKb": round(sub_mem / 1024, 1), "maxOutputList": sub_len},
    }


async def send_fixes(step: Step, providers: list, total: int) -> tuple[float, int]:
    """`total` location fixes at `step.rate`, round-robin over the providers;
    (seconds it took, send errors)."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    step.first_send = time.time()
    k = send_errors = jitter = 0
    while k < total:
        due = min(total, int((loop.time() - t0) * step.rate) + 1)
        while k < due:
            p = providers[k % len(providers)]
            now = time.time()
            at = iso_ms(now)
            key = (p.provider_id, at)
            k += 1
            if key in step.sent:  # same provider twice in one ms: the rate is too high
                continue
            # `at` is what the watcher computes latency against: truncated to the ms.
            step.sent[key] = int(now * 1000) / 1000
            jitter = (jitter + 1) % 100
            fix = {"lat": p.point[0] + jitter * 1e-6, "lng": p.point[1], "at": at}
            try:
                await p.sock.emit("location.update", fix)
            except Exception:
                send_errors += 1
        await asyncio.sleep(0.004)
    return loop.time() - t0, send_errors


async def run_step(
    stack: Stack, step: Step, providers: list, cpu_of: dict, duration: float, drain: float
) -> dict:
    """Send for `duration` seconds at `step.rate`, then wait up to `drain` for stragglers;
    the step's figures, with the CPU of the processes in `cpu_of`."""
    meter = CpuMeter(cpu_of)
    probe_stop = asyncio.Event()
    probing = asyncio.create_task(probe(stack.args.redis_url, probe_stop))
    hub_probing = asyncio.create_task(hub_probe(stack.hub_url, probe_stop))
    load0 = os.getloadavg()
    send_s, send_errors = await send_fixes(step, providers, int(step.rate * duration))
    step.sending = False
    if len(step.got) < len(step.sent):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(step.all_in.wait(), drain)
    cpu = meter.read()
    probe_stop.set()
    probes = await probing
    probes["hubHealth"] = await hub_probing
    delivered = len(step.got)
    span = max(step.last_recv - step.first_send, 1e-9)
    lat = step.latency_ms
    return {
        "offeredPerSecond": round(len(step.sent) / send_s, 1),
        "deliveredPerSecond": round(delivered / span, 1) if delivered else 0.0,
        "sendSeconds": round(send_s, 2),
        "sent": len(step.sent),
        "delivered": delivered,
        "lost": len(step.sent) - delivered,
        "lostSuperseded": step.superseded(),
        "duplicates": step.duplicates,
        "stray": step.stray,
        "sendErrors": send_errors,
        "p50Ms": round(pct(lat, 50), 1) if lat else None,
        "p95Ms": round(pct(lat, 95), 1) if lat else None,
        "p99Ms": round(pct(lat, 99), 1) if lat else None,
        "maxMs": round(max(lat), 1) if lat else None,
        "cpu": cpu,
        **probes,
        "loadavgBefore": [round(x, 2) for x in load0],
        "loadavgAfter": [round(x, 2) for x in os.getloadavg()],
    }


async def locations_phase(stack: Stack) -> dict:
    args = stack.args
    n = args.loc_providers
    conc = args.concurrency
    world = World(stack.hub_url, conc, f"b{os.getpid()}lo")
    await world.setup()
    service = world.services[0]
    skills = world.skills(service["category"])
    side = max(1, int(n**0.5 + 0.999))
    points = [
        (GRID_ORIGIN[0] + (i // side) * GRID_STEP, GRID_ORIGIN[1] + (i % side) * GRID_STEP)
        for i in range(n)
    ]

    say(f"locations: {n} providers + {n} customers, sockets, online, orders, grabs, watches …")
    providers = await all_or_fail("provider set-up", n, lambda i: world.provider(i, skills), conc)
    customers = await all_or_fail("customer logins", n, world.customer, conc)
    for i in range(n):
        providers[i].point = customers[i].point = points[i]
    everyone = providers + customers
    await all_or_fail("sockets", len(everyone), lambda i: world.connect(everyone[i]), conc)

    async def pair(i: int) -> None:
        p, c = providers[i], customers[i]
        lat, lng = points[i]
        await ack_ok(p.sock, "provider.online", {"lat": lat, "lng": lng})
        order = await world.order(c, service["id"], points[i])
        c.order_id = p.order_id = order["id"]
        await ack_ok(p.sock, "order.grab", {"orderId": order["id"]})
        await ack_ok(c.sock, "order.watch", {"orderId": order["id"]})

    # Pairs one after another in small batches: an order must find exactly its provider.
    await all_or_fail("pairing", n, pair, min(conc, 8))

    step: Step | None = None

    def on_location(data) -> None:
        if step is not None:
            step.receive(data)

    for c in customers:
        c.sock.on("provider.location", on_location)
    host_pids = (await stats_of(await host_handles(stack)))["pids"]
    cpu_of = {"hub": [stack.hub_pid], "hosts": host_pids, **service_pids()}

    async def measure(rate: float, duration: float, drain: float) -> dict:
        nonlocal step
        step = Step(rate)
        try:
            return await run_step(stack, step, providers, cpu_of, duration, drain)
        finally:
            step = None

    say("locations: warm-up (1 s at 200/s) …")
    warm = await measure(min(200.0, args.rates[0]), 1.0, 5.0)
    if warm["delivered"] < warm["sent"] * 0.9:
        say(f"locations: warm-up delivered only {warm['delivered']}/{warm['sent']}")
    steps = []
    for rate in args.rates:
        say(f"locations: {rate:g}/s for {args.duration:g} s …")
        res = await measure(rate, args.duration, args.drain)
        res["rate"] = rate
        say(
            f"locations: offered {res['offeredPerSecond']}/s delivered"
            f" {res['deliveredPerSecond']}/s p50 {res['p50Ms']} p99 {res['p99Ms']} ms,"
            f" lost {res['lost']}, generator {res['cpu']['generatorCpuPct']} %,"
            f" hub {res['cpu']['hubCpuPct']} %"
        )
        steps.append(res)
        await asyncio.sleep(2)
    await world.close(everyone)
    return {
        "providers": n,
        "durationS": args.duration,
        **world.notes(),
        "warmup": warm,
        "steps": steps,
    }
