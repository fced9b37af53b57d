"""EntityHost: the Ray actor that hosts order and provider actors and routes messages to them.

Which entities a host holds is the placement policy's business (actors/placement.py). On
(re)start a host reloads its live entities from MySQL, so a crash loses nothing acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import OrderedDict

import ray
from ray.exceptions import RayActorError

from actors import rebuild
from actors.candidates import HostLocator, RedisLocator
from actors.contact import ContactBindings
from actors.contact_calls import record_call
from actors.emit import Emitter, channel_for
from actors.env import Env
from actors.host_providers import ProviderHosting
from actors.loading import LoadOnce
from actors.metrics import HostFigures, instrument
from actors.notify import Notifier
from actors.notify_jobs import JobReminders
from actors.order import OrderActor
from actors.payment import HeldPayments
from actors.placement import placement_for
from actors.policies import PolicyBook
from actors.provider import ProviderActor
from actors.reminders import PaymentReminders
from actors.results import fail, not_found, ok
from actors.routes import OrderRoute, PaymentRoute, ProviderRoute, WindowRoute
from actors.transitions import LIVE
from actors.window import MatchWindow
from adapters import logs
from adapters.dispatch import DispatchStore
from adapters.mysql import Database, MysqlDsn
from adapters.orders import OrderStore
from adapters.payments import PaymentStore
from adapters.redis import Keys
from adapters.redis import connect as redis_connect
from adapters.settings import Settings
from adapters.stalls import run_refreezer, tune_gc
from adapters.subscriptions import SubscriptionStore
from adapters.wechat_pay import gateway_for

log = logging.getLogger("orderhub.host")


def _command_fields(oid: int, action: str, answer: dict) -> dict:
    fields = {"order": oid, "action": action, "ok": answer.get("ok")}
    if not answer.get("ok"):
        fields["error"] = (answer.get("error") or {}).get("code")
    return fields


SWEEP_S = 2.0
FLUSH_S = 10.0
RECONCILE_S = 15.0
ENDED_KEPT = 256  # ended orders whose actor a host keeps
ENDED_REPUSH_S = 60.0  # a restarted host pushes again the last event of orders ended since
REVIVE_AT_ONCE = 16  # live orders a restarted host loads and starts together


@ray.remote
class EntityHost(ProviderHosting):
    def __init__(self, settings: Settings, name: str):
        logs.setup(f"host:{name}")  # JSON lines, nothing secret (adapters/logs.py)
        self.settings = settings
        self.name = name
        self.orders: dict[int, OrderActor] = {}
        self.providers: dict[int, ProviderActor] = {}
        self._load_once = LoadOnce()
        # Ended orders still take messages (a late grab, a payment after completion): the
        # recent ones keep their actor, so messages to one ended order share one mailbox.
        self.ended: OrderedDict[int, OrderActor] = OrderedDict()
        self._moved: dict[int, tuple] = {}  # provider locations not yet in MySQL
        self.windows: dict[int, MatchWindow] = {}  # batch matching windows, by area
        self.placement = placement_for(settings)
        self.started_at = time.time()
        # Async actors run __init__ on their event loop: start (and reload) right away.
        self._ready = asyncio.get_running_loop().create_task(self._start())

    async def _start(self) -> None:
        s = self.settings
        self.db = await Database.connect(s.mysql_url, minsize=1, maxsize=6)
        self.redis = redis_connect(s.redis_url)
        self.keys = Keys.for_database(s.mysql_url)
        # its MySQL and Redis timings, pushed through Redis to the hub's /metrics
        self.figures = HostFigures(self.redis, self.keys.ns)
        instrument(self.figures.observe, db=self.db, redis=self.redis)
        self.emitter = Emitter(
            s.redis_url, channel_for(MysqlDsn.parse(s.mysql_url).database), self.redis, self.db
        )
        dispatch = DispatchStore(self.db)
        # Shared hosts index their own providers; a host per entity has nothing to ask.
        if self.placement.standing_hosts():
            self.locator = HostLocator(self)
        else:
            self.locator = RedisLocator(self.redis, self.keys)
        # Masked calls: each order's number binding and its release timers (actors/contact.py).
        self.contacts = ContactBindings(s, self.db, self.emitter, self.redis, self.keys)
        # Subscribe messages: one WeChat client per host, its token shared in Redis.
        self.notifier = Notifier(s, SubscriptionStore(self.db), self.redis, self.keys)
        self.env = Env(
            notify=self.notifier,
            settings=s,
            db=self.db,
            orders=OrderStore(self.db),
            redis=self.redis,
            keys=self.keys,
            emitter=self.emitter,
            providers=ProviderRoute(self),
            order_messages=OrderRoute(self),
            windows=WindowRoute(self),
            locator=self.locator,
            payment_messages=PaymentRoute(self),
            retire_order=self.retire_order,
            payments=PaymentStore(self.db),
            contacts=self.contacts,
            dispatch=dispatch,
            policies=PolicyBook(
                dispatch,
                {"grab_radius_m": s.grab_radius_m},
                self.redis,
                self.keys.dispatch_version(),
            ),
        )
        self.pay = gateway_for(s)
        self.held_payments = HeldPayments(self.env, self.pay)
        await self._reload_providers()
        loop = asyncio.get_running_loop()
        if s.host_gc_freeze_s > 0:  # its thousands of provider actors, out of every GC pass
            tune_gc(freeze=True)
        # Orders and payments start after this host is ready: starting them calls other hosts,
        # which may be restarting too and calling back; awaiting that here would deadlock.
        self._tasks = [
            loop.create_task(self._revive()),
            loop.create_task(self._every(SWEEP_S, self._sweep)),
            loop.create_task(self._every(FLUSH_S, self._flush_locations)),
            loop.create_task(self._every(FLUSH_S, self.figures.flush)),
            loop.create_task(self.figures.time_stalls()),
            *([loop.create_task(run_refreezer(s.host_gc_freeze_s))] if s.host_gc_freeze_s else []),
        ]
        if self.placement.reconciles:  # standing hosts (a dedicated one ends with its order)
            self._tasks.append(loop.create_task(self._every(RECONCILE_S, self._reconcile)))

            def owns(oid: int) -> bool:
                return self.placement.owns(self.name, "order", oid)

            due = PaymentReminders(self.env, owns, self.notifier)
            self._tasks.append(loop.create_task(self._every(due.period, due.remind_unpaid)))
            jobs = JobReminders(self.env, owns, self.notifier)
            self._tasks.append(loop.create_task(self._every(jobs.period, jobs.remind_tomorrow)))

    async def _every(self, period: float, job) -> None:
        while True:
            await asyncio.sleep(period)
            try:
                await job()
            except Exception:
                log.exception("%s: periodic %s failed", self.name, job.__name__)

    def _mine(self, kind: str, ids: list[int]) -> list[int]:
        return [i for i in ids if self.placement.owns(self.name, kind, i)]

    async def _revive(self) -> None:
        """The live orders and watched payments this host holds, loaded and started again."""
        order_ids = self._mine("order", await self.env.orders.ids_in(LIVE))
        # Loading an order pushes its last event again (_get_order): the orders that ended
        # just now too, whose `completed` or `expired` the host before may not have pushed.
        ended = self._mine("order", await self.env.orders.ended_since(ENDED_REPUSH_S, LIVE))
        payment_ids = self._mine("payment", await self.env.payments.watched_ids())
        revive = [(self._get_order, oid, False) for oid in order_ids + ended[-ENDED_KEPT:]]
        revive += [(self.held_payments.get, payment_id) for payment_id in payment_ids]
        # Several at a time: one by one, a suite's worth of live orders took minutes, and
        # orders that wait for their start wait for the ones before them.
        gate = asyncio.Semaphore(REVIVE_AT_ONCE)

        async def one(load, *args) -> None:
            async with gate:
                try:
                    await load(*args)
                except Exception:  # one entity's trouble must not keep the others down
                    log.exception("%s: reviving %s%s failed", self.name, load.__name__, args)

        await asyncio.gather(*(one(load, *args) for load, *args in revive))
        try:  # bindings to finish releasing, or to make, for this host's orders
            await self.contacts.revive(lambda oid: self.placement.owns(self.name, "order", oid))
        except Exception:
            log.exception("%s: reviving number bindings failed", self.name)
        if order_ids or payment_ids:
            log.info(
                "%s revived %d orders, %d watched payments",
                self.name,
                len(order_ids),
                len(payment_ids),
            )

    # --- what the entities may ask of their host -------------------------------------------

    async def entity_call(self, kind: str, eid: int, method: str, absent: dict, *args) -> dict:
        """Call `method` (one of this class's entity methods) on the host that holds (kind,
        eid): this one directly, another through Ray. `absent` when no host holds it."""
        if self.placement.owns(self.name, kind, eid):
            return await getattr(self, method)(eid, *args)
        handle = await self.placement.handle(kind, eid)
        if handle is None:
            return absent
        try:
            return await getattr(handle, method).remote(eid, *args)
        except RayActorError:
            self.placement.forget(kind, eid)
            return fail(503, "unavailable", f"the {kind}'s host is restarting; retry")

    def retire_order(self, oid: int) -> None:
        if (entity := self.orders.pop(oid, None)) is not None:
            self._keep_ended(entity)
        self._maybe_exit()

    def _keep_ended(self, entity: OrderActor) -> None:
        self.ended[entity.id] = entity
        self.ended.move_to_end(entity.id)
        while len(self.ended) > ENDED_KEPT:
            self.ended.popitem(last=False)

    def _maybe_exit(self) -> None:
        """A host made for one entity goes away once it holds none (it is a whole process)."""
        if self.placement.retires_empty_hosts and not self.orders and not self.providers:
            asyncio.get_running_loop().call_later(1.0, self._exit)

    def _exit(self) -> None:
        if not self.orders and not self.providers:
            ray.kill(ray.get_runtime_context().current_actor, no_restart=True)

    # --- orders ------------------------------------------------------------------------------

    async def _get_order(self, oid: int, fresh: bool) -> OrderActor | None:
        """The order's actor, loading it once even when many messages arrive together."""
        if (entity := self.orders.get(oid) or self.ended.get(oid)) is not None:
            return entity

        async def load() -> OrderActor | None:
            row = await self.env.orders.load(oid)
            if row is None:
                return None
            entity = OrderActor(self.env, row)
            if not fresh:  # its last event may have been written by an actor that then died
                await entity.announce_since(row["seq"] - 1)
            if not entity.terminal:
                self.orders[oid] = entity
                await entity.mailbox.ask(entity.start, fresh)
            else:  # it only answers, e.g. why a late grab lost
                await entity.recall_crowd()
                self._keep_ended(entity)
            return entity

        return await self._load_once(oid, load)

    async def ping(self) -> dict:
        await self._ready
        return {
            "host": self.name,
            "pid": os.getpid(),
            "node": ray.get_runtime_context().get_node_id(),  # which Ray node it runs on
            "orders": len(self.orders),
            "providers": len(self.providers),
            "startedAt": self.started_at,
        }

    async def order_activate(self, oid: int) -> dict:
        await self._ready
        entity = await self._get_order(oid, fresh=True)
        return ok() if entity else not_found()

    async def order_command(
        self, oid: int, action: str, actor: dict, args: dict, cmd_id: str | None
    ) -> dict:
        await self._ready
        entity = await self._get_order(oid, fresh=False)
        if entity is None:
            return not_found()
        answer = await entity.mailbox.ask(entity.command, action, actor, args, cmd_id)
        # the hub's request id, carried in the command id: the same id on the hub's line
        log.info(
            "order command applied",
            extra={"rid": logs.rid_of(cmd_id), "fields": _command_fields(oid, action, answer)},
        )
        if entity.terminal:
            self.retire_order(oid)
        return answer

    async def order_reoffer(self, oid: int) -> dict:
        """The order's open offers back in Redis after it lost them (actors/rebuild.py)."""
        await self._ready
        entity = await self._get_order(oid, fresh=False)
        if entity is None:
            return not_found()
        return await entity.mailbox.ask(rebuild.reoffer, entity)

    async def flush_positions(self) -> dict:
        """The providers' last positions to MySQL now (their Ray is stopping)."""
        await self._ready
        await self._flush_locations()
        return ok()

    async def order_payment_event(self, oid: int, move) -> dict:
        await self._ready
        entity = await self._get_order(oid, fresh=False)
        if entity is None:
            return not_found()
        return await entity.mailbox.ask(entity.payment_event, move)

    async def order_window_matched(self, oid: int, provider_id: int | None, facts: dict) -> dict:
        await self._ready
        entity = await self._get_order(oid, fresh=False)
        if entity is None:
            return not_found()
        return await entity.mailbox.ask(entity.window_matched, provider_id, facts)

    async def window_join(self, area_id: int, oid: int, hits: list, window_s: float) -> dict:
        """An order joins its area's batch matching window (actors/window.py)."""
        await self._ready
        if (window := self.windows.get(area_id)) is None:
            window = self.windows[area_id] = MatchWindow(area_id, self._tell_matched)
        return window.join(oid, hits, window_s)

    async def _tell_matched(self, oid: int, provider_id: int | None, facts: dict) -> dict:
        gone = fail(503, "unavailable", "the order's host is not running")
        return await self.entity_call(
            "order", oid, "order_window_matched", gone, provider_id, facts
        )

    # --- payments ------------------------------------------------------------------------------

    async def payment_activate(self, payment_id: int) -> dict:
        await self._ready
        return ok() if await self.held_payments.get(payment_id) else not_found()

    async def payment_message(self, payment_id: int, message: str, *args) -> dict:
        await self._ready
        return await self.held_payments.message(payment_id, message, *args)

    async def order_chat(self, oid: int, actor: dict, text: str, client_msg_id: str) -> dict:
        await self._ready
        entity = await self._get_order(oid, fresh=False)
        if entity is None:
            return not_found()
        return await entity.mailbox.ask(entity.chat, actor, text, client_msg_id)

    async def order_call_record(self, oid: int, detail: dict) -> dict:
        """A masked call's record onto the order's timeline (actors/contact_calls.py)."""
        await self._ready
        entity = await self._get_order(oid, fresh=False)
        if entity is None:
            return not_found()
        return await entity.mailbox.ask(record_call, entity, detail)

    async def _reconcile(self) -> None:
        """Pick up live orders this host should hold but does not (a lost activation)."""
        for oid in self._mine("order", await self.env.orders.ids_in(LIVE)):
            if oid not in self.orders:
                await self._get_order(oid, fresh=False)

    async def stats(self) -> dict:
        """For benchmarks: this host's process memory and entity counts."""
        await self._ready
        return {**process_memory(), "orders": len(self.orders), "providers": len(self.providers)}


def process_memory() -> dict:
    """RSS and unique (private) memory of this process, in kB, from /proc."""

    def fields(path: str) -> dict:
        with open(path) as f:
            return {k: int(v.split()[0]) for k, v in (ln.split(":", 1) for ln in f if "kB" in ln)}

    status, rollup = fields("/proc/self/status"), fields("/proc/self/smaps_rollup")
    return {
        "pid": os.getpid(),
        "rssKb": status["VmRSS"],
        "ussKb": rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0),
    }
