"""One load-generating process: its share of providers and customers, its tickers, and what
it reports to the parent (a snapshot every second, the check data at the end).

Messages to the parent: ``{"type": "ready"|"snap"|"final"|"log"|"done", ...}``;
from the parent: ``{"type": "go", "t0": wall}``, ``{"type": "cleanup"}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Callable

from adapters import stalls
from load.city import City
from load.config import RunConfig
from load.customer_sim import CustomerSim
from load.http import ApiError, Http
from load.ledger import Ledger
from load.metrics import Metrics
from load.provider_sim import ProviderSim
from load.scenarios import drive
from load.sio import COUNTERS

SLOT_S = 0.1
GC_REFREEZE_S = 10.0  # as the hub's HUB_GC_FREEZE_S default


class Worker:
    def __init__(
        self, cfg: RunConfig, index: int, nprocs: int, send: Callable[[dict], None], inbox
    ):
        self.cfg = cfg
        self.index = index
        self.nprocs = nprocs
        self.send = send
        self.inbox: asyncio.Queue = inbox
        self.metrics = Metrics()
        self.ledger = Ledger(self.metrics)
        self.city = City(cfg.centre[0], cfg.centre[1], cfg.radius_m)
        self.rng = random.Random(cfg.seed * 31 + index)
        self.providers = [ProviderSim(self, i) for i in range(index, cfg.providers, nprocs)]
        self.customers = [CustomerSim(self, i) for i in range(index, cfg.customers, nprocs)]
        self.stopping = False
        self.expect_drops = False
        self.http: Http | None = None
        self.admin_token: str | None = None
        self.service_ids: list[int] = []
        self.service_minutes: dict[int, int] = {}
        self.area_ids: list[int] = []
        self.deposits = False  # some area asks a deposit at order time
        self.setup_errors: Counter = Counter()
        self.tasks: set[asyncio.Task] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.t0 = 0.0
        self._last_counts = (0, 0)

    # --- helpers used by the clients --------------------------------------------------------------
    def spawn(self, coro) -> asyncio.Task:
        t = self.loop.create_task(coro)
        self.tasks.add(t)
        t.add_done_callback(self._task_done)
        return t

    def _task_done(self, t: asyncio.Task) -> None:
        self.tasks.discard(t)
        if not t.cancelled() and t.exception() is not None:
            e = t.exception()
            if not self.stopping:
                self.metrics.error(f"client bug: {type(e).__name__}: {str(e)[:80]}")

    # --- set-up -----------------------------------------------------------------------------------
    async def setup(self) -> None:
        http = self.http
        services = await http.call("GET", "/api/services")
        self.service_ids = [s["id"] for s in services]
        self.service_minutes = {s["id"]: s.get("durationMin", 60) for s in services}
        if not self.service_ids:
            raise RuntimeError("the hub has no services: seed the catalog first")
        try:
            areas = await http.call("GET", "/api/areas")
            self.area_ids = [a["id"] for a in areas if a.get("active", True)]
            self.deposits = any(a.get("depositAmount") for a in areas if a.get("active", True))
        except ApiError:
            self.area_ids = []
        if self.providers:
            if not self.cfg.admin_password:
                raise RuntimeError(
                    "no admin password: pass --admin-password or set HUB_ADMIN_PASSWORD "
                    "(or run from the hub's directory so var/admin-password is found)"
                )
            res = await http.call(
                "POST",
                "/api/auth/login",
                body={"username": self.cfg.admin_user, "password": self.cfg.admin_password},
            )
            self.admin_token = res["token"]
        sem = asyncio.Semaphore(self.cfg.setup_concurrency)

        async def one(user) -> None:
            async with sem:
                try:
                    await user.login()
                    if isinstance(user, ProviderSim):
                        await user.onboard()
                        await user.finish_leftovers()
                    else:
                        await user.cancel_leftovers()
                    await user.connect()
                    if isinstance(user, ProviderSim) and self.cfg.scenario != "ramp":
                        await user.go_online()
                except Exception as e:
                    self.setup_errors[f"{type(e).__name__}: {str(e)[:100]}"] += 1

        await asyncio.gather(*(one(p) for p in self.providers + self.customers))

        # an offer that arrived during set-up is noise: start from the hall
        async def hall(p: ProviderSim) -> None:
            async with sem:
                await p.refresh_hall()

        await asyncio.gather(*(hall(p) for p in self.providers if p.online))

    # --- tickers ----------------------------------------------------------------------------------
    async def location_ticker(self) -> None:
        slots = max(1, round(self.cfg.cadence / SLOT_S))
        buckets: list[list[ProviderSim]] = [[] for _ in range(slots)]
        for i, p in enumerate(self.providers):
            buckets[(i * 7919) % slots].append(p)
        k = 0
        nxt = time.monotonic()
        while not self.stopping:
            for p in buckets[k % slots]:
                if p.online and p.sock is not None and p.sock.connected:
                    self.spawn(p.send_location())
            k += 1
            nxt += SLOT_S
            await asyncio.sleep(max(0.0, nxt - time.monotonic()))

    async def heartbeat_ticker(self) -> None:
        every = 20.0
        slots = max(1, round(every / SLOT_S))
        k = 0
        while not self.stopping:
            for c in self.customers[k % slots :: slots]:
                self.spawn(c.heartbeat())
            k += 1
            await asyncio.sleep(SLOT_S)

    async def lag_monitor(self) -> None:
        """How late this process's event loop wakes up: if the generator itself were the
        bottleneck, its latencies would be inflated by about this much."""
        step = 0.05
        loop = self.loop
        while True:
            t = loop.time()
            await asyncio.sleep(step)
            self.metrics.observe("generator loop lag", max(0.0, (loop.time() - t - step) * 1000))

    def tune_gc(self) -> None:
        """The hub's GC setting (adapters/stalls.py) in the generator too, and its passes
        timed: with Python's default thresholds a process holding thousands of client sockets
        runs full collections that stop it for as long as they walk, and a message that
        arrives meanwhile is stamped late — the generator's pause counted as the hub's."""
        stalls.tune_gc()
        stalls.time_gc(lambda _gen, s: self.metrics.observe("generator GC pause", s * 1000))

    def gauges(self) -> dict:
        pc = sum(1 for p in self.providers if p.sock is not None and p.sock.connected)
        po = sum(1 for p in self.providers if p.online)
        pb = sum(1 for p in self.providers if p.job is not None)
        cc = sum(1 for c in self.customers if c.sock is not None and c.sock.connected)
        orders: Counter = Counter()
        for c in self.customers:
            orders.update(c.statuses.values())
        return {
            "providers": len(self.providers),
            "providers connected": pc,
            "providers online": po,
            "providers busy": pb,
            "customers": len(self.customers),
            "customers connected": cc,
            "orders": dict(orders),
        }

    def snap(self) -> dict:
        sent, recv = COUNTERS.sent, COUNTERS.recv
        ls, lr = self._last_counts
        self._last_counts = (sent, recv)
        self.metrics.inc("socket msgs out", sent - ls)
        self.metrics.inc("socket msgs in", recv - lr)
        return self.metrics.snapshot(gauges=self.gauges())

    async def snapshot_loop(self) -> None:
        nxt = time.time()
        while True:
            nxt += 1.0
            await asyncio.sleep(max(0.0, nxt - time.time()))
            self.send({"type": "snap", "worker": self.index, "snap": self.snap()})

    # --- the run ----------------------------------------------------------------------------------
    async def run(self) -> None:
        self.loop = asyncio.get_running_loop()
        async with Http(self.cfg.hub, self.metrics, limit=100) as http:
            self.http = http
            t_setup = time.time()
            try:
                await self.setup()
            except Exception as e:
                self.send(
                    {"type": "ready", "worker": self.index, "error": f"{type(e).__name__}: {e}"}
                )
                return
            self.send(
                {
                    "type": "ready",
                    "worker": self.index,
                    "setup_s": round(time.time() - t_setup, 1),
                    "setup_errors": dict(self.setup_errors),
                    "providers_online": sum(p.online for p in self.providers),
                    "customers_connected": sum(
                        1 for c in self.customers if c.sock is not None and c.sock.connected
                    ),
                }
            )
            self.metrics.snapshot()  # set-up traffic is not part of the run
            COUNTERS.sent = COUNTERS.recv = 0
            self._last_counts = (0, 0)
            msg = await self.inbox.get()
            if msg.get("type") != "go":
                return
            self.t0 = msg["t0"]
            await asyncio.sleep(max(0.0, self.t0 - time.time()))
            snaps = self.loop.create_task(self.snapshot_loop())
            self.tune_gc()
            tickers = [
                self.loop.create_task(stalls.run_refreezer(GC_REFREEZE_S)),
                self.loop.create_task(self.lag_monitor()),
                self.loop.create_task(self.location_ticker()),
                self.loop.create_task(self.heartbeat_ticker()),
                self.loop.create_task(drive(self)),
            ]
            await asyncio.sleep(max(0.0, self.t0 + self.cfg.duration - time.time()))
            self.stopping = True
            for t in tickers:
                t.cancel()
            for p in self.providers:
                if p.job_task is not None and not p.job_task.done():
                    p.job_task.cancel()
            await asyncio.sleep(self.cfg.drain)
            final = await self.final()
            snaps.cancel()
            self.send({"type": "snap", "worker": self.index, "snap": self.snap()})
            self.send({"type": "final", "worker": self.index, "final": final})
            msg = await self.inbox.get()
            while msg.get("type") == "recheck":
                still = await self.recheck(msg["pairs"])
                self.send({"type": "recheck", "worker": self.index, "still": still})
                msg = await self.inbox.get()
            for t in list(self.tasks):
                t.cancel()
            if msg.get("type") == "cleanup":
                await self.cleanup()
            await asyncio.gather(
                *(
                    x.sock.disconnect()
                    for x in self.providers + self.customers
                    if x.sock is not None and x.sock.connected
                ),
                return_exceptions=True,
            )
        self.send({"type": "done", "worker": self.index})

    async def final(self) -> dict:
        """What the parent's correctness checks need from this worker."""
        not_notified = []
        for p in self.providers:
            for oid in p.offers:
                not_notified.append((p.provider_id, oid))
        sem = asyncio.Semaphore(50)

        async def hall(p: ProviderSim) -> list[tuple]:
            async with sem:
                offers = await p.refresh_hall()
            return [(p.provider_id, o.get("orderId"), o.get("dispatchMode")) for o in offers]

        halls = await asyncio.gather(
            *(hall(p) for p in self.providers if p.sock is not None and p.sock.connected),
            return_exceptions=True,
        )
        in_hall = [x for h in halls if isinstance(h, list) for x in h]
        streams = [s for user in self.providers + self.customers for s in user.stream_states()]
        return {
            **self.ledger.record(),
            "streams": streams,
            "in_hall": in_hall,
            "not_notified": not_notified,
        }

    async def recheck(self, pairs: list) -> list:
        """Which of these (providerId, orderId) offers are still in the providers' halls."""
        mine = {p.provider_id: p for p in self.providers}
        wanted: dict[int, set] = {}
        for pid, oid in pairs:
            if pid in mine:
                wanted.setdefault(pid, set()).add(oid)
        still = []
        for pid, oids in wanted.items():
            p = mine[pid]
            if p.sock is None or not p.sock.connected:
                continue
            offers = await p.refresh_hall()
            still.extend((pid, o.get("orderId")) for o in offers if o.get("orderId") in oids)
        return still

    async def cleanup(self) -> None:
        """Leave no open orders behind (the next run reuses these users)."""
        sem = asyncio.Semaphore(20)
        self.stopping = True

        async def one(user) -> None:
            async with sem:
                with contextlib.suppress(Exception):
                    if isinstance(user, ProviderSim):
                        await user.finish_leftovers()
                    else:
                        await user.cancel_leftovers()

        await asyncio.gather(*(one(c) for c in self.customers))
        await asyncio.gather(*(one(p) for p in self.providers))
        await asyncio.gather(*(one(c) for c in self.customers))
