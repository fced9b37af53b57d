"""The parent of a run: starts the workers (in this process when ``--procs 1``, else as
``spawn``-ed processes talking over pipes), shows progress, measures CPU, runs the checks,
writes the report."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import threading
import time
from urllib.parse import urlparse

from load import hub_stalls
from load.checks import confirm_stale, merge_finals, run_checks
from load.config import RunConfig
from load.metrics import Aggregator, ProcTreeCPU, find_listener_pid, machine_cpu, own_cpu_seconds
from load.pay_checks import apply_faults, clear_faults, run_pay_checks, sandbox_for
from load.progress import Progress, line
from load.report import build, write
from load.worker import Worker


class _Local:
    """A worker inside this process."""

    def __init__(self, cfg: RunConfig, events: asyncio.Queue):
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.worker = Worker(cfg, 0, 1, events.put_nowait, self.inbox)
        self.task = asyncio.get_running_loop().create_task(self.worker.run())

    def send(self, msg: dict) -> None:
        self.inbox.put_nowait(msg)

    async def close(self) -> None:
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(self.task, 600)


class _Remote:
    """A worker process (``spawn``), one duplex pipe."""

    def __init__(self, cfg: RunConfig, index: int, nprocs: int, events: asyncio.Queue):
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=worker_main, args=(cfg, index, nprocs, child), daemon=True)
        self.proc.start()
        child.close()
        _pump(self.conn, events, {"type": "exit", "worker": index})

    def send(self, msg: dict) -> None:
        with contextlib.suppress(OSError, BrokenPipeError):
            self.conn.send(msg)

    async def close(self) -> None:
        for _ in range(3000):
            if not self.proc.is_alive():
                break
            await asyncio.sleep(0.2)
        if self.proc.is_alive():
            self.proc.terminate()
        self.proc.join(5)


def _pump(conn, queue: asyncio.Queue, on_eof: dict) -> None:
    """Read a multiprocessing pipe in a thread (the pipe stays blocking: an event loop's
    add_reader would make it non-blocking, and a large send could then fail half-way)."""
    loop = asyncio.get_running_loop()

    def run() -> None:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                msg = on_eof
            try:
                loop.call_soon_threadsafe(queue.put_nowait, msg)
            except RuntimeError:  # the loop is gone
                return
            if msg is on_eof:
                return

    threading.Thread(target=run, name="pipe-reader", daemon=True).start()


def worker_main(cfg: RunConfig, index: int, nprocs: int, conn) -> None:
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover
        runner = asyncio.run
    runner(_child(cfg, index, nprocs, conn))


async def _child(cfg: RunConfig, index: int, nprocs: int, conn) -> None:
    inbox: asyncio.Queue = asyncio.Queue()
    _pump(conn, inbox, {"type": "abort"})
    await Worker(cfg, index, nprocs, conn.send, inbox).run()


async def run_load(cfg: RunConfig, *, use_mysql: bool = True, stem: str | None = None) -> dict:
    """Run one scenario end to end; returns the report (also written to ``cfg.report_dir``).
    The sandbox's fault rates (``--pay-faults``) hold for the run and are cleared after it."""
    cfg, pay_note = await sandbox_for(cfg)
    if cfg.pay_faults:
        await apply_faults(cfg.sandbox, cfg.pay_faults, cfg.seed)
    try:
        return await _run(cfg, use_mysql, stem, pay_note)
    finally:
        if cfg.pay_faults:
            await clear_faults(cfg.sandbox)


async def _run(cfg: RunConfig, use_mysql: bool, stem: str | None, pay_note: str | None) -> dict:
    prog = Progress(enabled=not cfg.quiet)
    events: asyncio.Queue = asyncio.Queue()
    agg = Aggregator()
    n = max(1, cfg.procs)
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    workers = [_Local(cfg, events)] if n == 1 else [_Remote(cfg, i, n, events) for i in range(n)]
    prog.note(
        f"setting up {cfg.providers} providers and {cfg.customers} customers on "
        f"{n} worker process(es) against {cfg.hub} ..."
    )
    t_setup = time.time()
    ready: dict[int, dict] = {}
    while len(ready) < n:
        msg = await events.get()
        if msg["type"] == "ready":
            ready[msg["worker"]] = msg
        elif msg["type"] == "exit":
            raise RuntimeError(f"worker {msg['worker']} died during set-up")
    errors = [m["error"] for m in ready.values() if m.get("error")]
    if errors:
        for w in workers:
            w.send({"type": "abort"})
        for w in workers:
            await w.close()
        raise RuntimeError(f"set-up failed: {errors[0]}")
    setup_errors: dict[str, int] = {}
    for m in ready.values():
        for k, v in m.get("setup_errors", {}).items():
            setup_errors[k] = setup_errors.get(k, 0) + v
    online = sum(m.get("providers_online", 0) for m in ready.values())
    cust = sum(m.get("customers_connected", 0) for m in ready.values())
    prog.note(
        f"set-up done in {time.time() - t_setup:.1f}s: {online} providers online, "
        f"{cust} customers connected" + (f"; set-up errors: {setup_errors}" if setup_errors else "")
    )

    hub_pid = cfg.hub_pid
    if hub_pid is None:
        u = urlparse(cfg.hub)
        if u.hostname in ("127.0.0.1", "localhost", "::1"):
            hub_pid = find_listener_pid(u.port or 80)
    hub_cpu = ProcTreeCPU(hub_pid) if hub_pid else None

    stalls_before = await hub_stalls.read(cfg.hub)  # the hub's GC pauses and loop lag
    t0 = time.time() + 1.0
    for w in workers:
        w.send({"type": "go", "t0": t0})
    finals: dict[int, dict] = {}
    last_hub = hub_cpu.sample() if hub_cpu else None
    last_own = own_cpu_seconds()
    last_mach = machine_cpu()
    next_tick = t0
    deadline = t0 + cfg.duration + cfg.drain + 300
    while len(finals) < n:
        timeout = max(0.0, next_tick - time.time())
        try:
            msg = await asyncio.wait_for(events.get(), timeout)
        except TimeoutError:
            msg = None
        if msg is not None:
            kind = msg["type"]
            if kind == "snap":
                agg.add(msg["worker"], msg["snap"])
            elif kind == "final":
                finals[msg["worker"]] = msg["final"]
            elif kind == "exit":
                raise RuntimeError(f"worker {msg['worker']} died")
            continue
        now = time.time()
        next_tick += 1.0
        own = own_cpu_seconds()
        hub = hub_cpu.sample() if hub_cpu else None
        mach = machine_cpu()
        busy = (mach[0] - last_mach[0]) / max(1e-9, mach[1] - last_mach[1])
        agg.add_cpu(
            now,
            gen=(own - last_own) if n > 1 else 0.0,
            hub=None if hub is None else hub - last_hub,
            machine=round(busy, 3),
        )
        b = agg.bins.get(int(now - 0.5))
        if b is not None:
            b["gauges"] = dict(agg.gauge_sum())
        last_own, last_hub, last_mach = own, hub, mach
        if now >= t0:
            prev = agg.bins.get(int(now) - 2)
            prog.show(line(now - t0, cfg.duration, agg.gauge_sum(), prev, {"err": agg.tot_err}))
        if now > deadline:
            raise RuntimeError("workers did not finish in time")
    stalls = hub_stalls.between(stalls_before, await hub_stalls.read(cfg.hub))
    prog.note("load stopped; running the correctness checks ...")
    merged = merge_finals(list(finals.values()))
    mysql_url = cfg.mysql_url if use_mysql else None
    checks = await run_checks(merged, mysql_url, t0 + cfg.duration)
    if merged.get("payments"):
        prog.note(f"payments: waiting up to {cfg.pay_settle:g}s for WeChat and the hub to agree")
    pays = await run_pay_checks(merged, mysql_url, cfg.sandbox, cfg.pay_settle)
    pays.merge_into(checks)
    if checks.get("stale_offers"):
        # an offer may still be on its way out of the hall: look again a little later
        await asyncio.sleep(max(3.0, cfg.drain))
        pairs = [(s["providerId"], s["orderId"]) for s in checks["stale_offers"]]
        for w in workers:
            w.send({"type": "recheck", "pairs": pairs})
        still: set = set()
        answered = 0
        while answered < n:
            msg = await asyncio.wait_for(events.get(), 120)
            if msg["type"] == "recheck":
                answered += 1
                still.update((a, b) for a, b in msg["still"])
            elif msg["type"] == "snap":
                agg.add(msg["worker"], msg["snap"])
        confirm_stale(checks, still)
    else:
        checks.pop("stale_offers", None)
    for w in workers:
        w.send({"type": "cleanup"})
    for w in workers:
        await w.close()
    while not events.empty():
        msg = events.get_nowait()
        if msg["type"] == "snap":
            agg.add(msg["worker"], msg["snap"])
    unpaired = agg.resolve_joins()
    meta = {
        "t0": t0,
        "started": started,
        "setup_s": round(t0 - 1.0 - t_setup, 1),
        "setup_errors": setup_errors,
        "providers_online_at_start": online,
        "customers_connected_at_start": cust,
        "hub_pid": hub_pid,
        "unpaired_join_marks": unpaired,
        "payments": pay_note or f"paid through the cashier at {cfg.sandbox}",
    }
    report = build(cfg, agg, merged, checks, meta)
    report["hub_stalls"] = stalls  # over the load (not the checks): load/hub_stalls.py
    stem = stem or f"load-{cfg.scenario}-{time.strftime('%Y%m%d-%H%M%S')}"
    jp, hp = write(report, cfg.report_dir, stem)
    report["files"] = {"json": str(jp), "html": str(hp)}
    return report
