"""The hub's gateway to the actors on Ray: start Ray, reach the hosts, batch frequent traffic."""

from __future__ import annotations

import asyncio
import logging
import os
import time

import ray
from ray.exceptions import RayActorError, RayError

from actors.host import EntityHost
from actors.placement import NAMESPACE, placement_for
from actors.results import fail
from adapters import logs
from adapters.settings import Settings
from hub import metrics
from hub.errors import store_unreachable, unreachable_body

log = logging.getLogger("orderhub.actors")

CALL_TIMEOUT_S = 30.0


def start_ray(settings: Settings) -> None:
    """Join RAY_ADDRESS, or start a small embedded single-node Ray (no dashboard)."""
    if ray.is_initialized():
        return
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # local, private cluster
    kwargs = dict(
        namespace=NAMESPACE,
        logging_level=logging.WARNING,
        log_to_driver=os.environ.get("HUB_RAY_LOGS") == "1",
    )
    if settings.ray_address:
        # include_dashboard only means something to a Ray this process starts; the hosts'
        # placement on a cluster: actors/placement.py ShardedPlacement._place.
        ray.init(address=settings.ray_address, **kwargs)
    else:
        ray.init(
            num_cpus=2, object_store_memory=100 * 1024 * 1024, include_dashboard=False, **kwargs
        )


class ActorGateway:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.placement = placement_for(settings, EntityHost)
        self._fixes: dict[int, dict | None] = {}
        self.ray_ok = False

    def connect(self) -> None:
        """Sync, before the server starts: ray.init replaces signal handlers (FIELD-NOTES)."""
        start_ray(self.settings)
        self.placement.start()

    async def _call(self, kind: str, entity_id: int, method: str, *args, create: bool = False):
        """One Ray call; a host that died mid-call is retried once (it restarts and reloads;
        the command id makes the retry idempotent)."""
        for attempt in (1, 2):
            handle = await self.placement.handle(kind, entity_id, create=create)
            if handle is None:
                return None
            started = time.perf_counter()
            try:
                answer = await asyncio.wait_for(
                    getattr(handle, method).remote(*args), CALL_TIMEOUT_S
                )
                metrics.ray_call(method, "ok", started)
                return answer
            except (RayActorError, TimeoutError) as exc:  # the host died or hangs: retry once
                metrics.ray_call(method, "unavailable", started)
                self.placement.forget(kind, entity_id)
                if attempt == 2:
                    log.warning("%s %s.%s failed: %r", kind, entity_id, method, exc)
                    return fail(503, "unavailable", "the order service is restarting; retry")
                await asyncio.sleep(0.5)
            except RayError as exc:  # a bug inside the actor: answer, don't crash the caller
                metrics.ray_call(method, "error", started)
                if store_unreachable(getattr(exc, "cause", None) or exc):  # MySQL/Redis away
                    log.warning("%s %s.%s: store unreachable: %s", kind, entity_id, method, exc)
                    return {"ok": False, **unreachable_body()}
                log.error("%s %s.%s raised: %s", kind, entity_id, method, exc)
                return fail(500, "internal", "internal error; it has been logged")
        return None

    # --- orders -----------------------------------------------------------------------------

    async def order_activate(self, order_id: int) -> None:
        await self._call("order", order_id, "order_activate", order_id, create=True)

    async def order_command(
        self, order_id: int, action: str, actor: dict, args: dict | None = None
    ) -> dict:
        cmd_id = logs.command_id()  # the request id rides along: actor log, order_events.cmd_id
        answer = await self._call(
            "order", order_id, "order_command", order_id, action, actor, args or {}, cmd_id
        )
        ok = bool(answer and answer.get("ok"))
        logs.event(log, "order command", order=order_id, action=action, cmd=cmd_id, ok=ok)
        return answer or fail(404, "not_found", "no such order")

    async def order_chat(self, order_id: int, actor: dict, text: str, client_msg_id: str) -> dict:
        answer = await self._call(
            "order", order_id, "order_chat", order_id, actor, text, client_msg_id
        )
        return answer or fail(404, "not_found", "no such order")

    async def order_call_record(self, order_id: int, detail: dict) -> dict:
        """A masked call's record for the order's timeline (hub/routes/contact.py)."""
        answer = await self._call("order", order_id, "order_call_record", order_id, detail)
        return answer or fail(404, "not_found", "no such order")

    async def order_reoffer(self, order_id: int) -> dict | None:
        return await self._call("order", order_id, "order_reoffer", order_id, create=True)

    async def provider_may_be_online(self, provider_id: int) -> bool:
        """Whether a host for the provider runs (dedicated placement: its own, only while
        it is online; sharded: the standing one)."""
        return await self.placement.handle("provider", provider_id) is not None

    # --- payments -----------------------------------------------------------------------------

    async def payment_activate(self, payment_id: int) -> None:
        await self._call("payment", payment_id, "payment_activate", payment_id, create=True)

    async def payment(self, payment_id: int, message: str, *args) -> dict:
        """`notified` (a verified notification) or `refresh` (ask WeChat now)."""
        answer = await self._call(
            "payment", payment_id, "payment_message", payment_id, message, *args, create=True
        )
        return answer or fail(404, "not_found", "no such payment")

    # --- providers ----------------------------------------------------------------------------

    async def provider(self, provider_id: int, method: str, *args) -> dict:
        answer = await self._call(
            "provider",
            provider_id,
            "provider_message",
            provider_id,
            method,
            *args,
            create=method == "go_online",
        )
        return answer or {"ok": True, "status": "offline"}

    async def provider_revoked(self, provider_id: int) -> None:
        await self.provider(provider_id, "revoke")

    def location(self, provider_id: int, fix: dict | None) -> None:
        """Queue a fix (or a bare heartbeat) for the next tick; the newest fix wins."""
        if fix is not None or provider_id not in self._fixes:
            self._fixes[provider_id] = fix

    async def run_batcher(self) -> None:
        """Every tick, one Ray call per host carries all queued fixes (not one per message)."""
        while True:
            await asyncio.sleep(self.settings.location_tick_s)
            await self.flush_fixes()

    async def flush_fixes(self) -> None:
        """The queued fixes to their hosts now (each tick, and when the hub stops)."""
        if not self._fixes:
            return
        fixes, self._fixes = self._fixes, {}
        batches: dict[str, tuple[int, list]] = {}
        for pid, fix in fixes.items():
            name = self.placement.host_of("provider", pid)
            batches.setdefault(name, (pid, []))[1].append((pid, fix))
        calls = [
            self._call("provider", first, "provider_locations", batch)
            for first, batch in batches.values()
        ]
        results = await asyncio.gather(*calls, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                log.warning("location batch failed: %r", result)

    async def flush_hosts(self) -> None:
        """The standing hosts write the positions they hold to MySQL (before an embedded Ray
        stops with the hub; hub/graceful.py)."""
        handles = [await self.placement.handle_named(n) for n in self.placement.standing_hosts()]
        await asyncio.gather(*[h.flush_positions.remote() for h in handles if h is not None])

    async def nearby_providers(
        self, service_id: int, lat: float, lng: float, radius_m: float, count: int
    ) -> list[tuple[int, float]] | None:
        """(provider id, metres) of the providers listed for the service near a point, nearest
        first, from the standing hosts' indexes (what dispatch searches); None when the
        placement has no standing hosts (dedicated: the index is Redis GEO, actors/geo.py)."""
        names = self.placement.standing_hosts()
        if not names:
            return None
        handles = [await self.placement.handle_named(n) for n in names]
        calls = [
            asyncio.wait_for(h.nearby.remote(service_id, lat, lng, radius_m, count), 5)
            for h in handles
            if h is not None
        ]
        found: list[tuple[int, float]] = []
        for answer in await asyncio.gather(*calls, return_exceptions=True):
            if isinstance(answer, BaseException):
                log.warning("nearby search failed on a host: %r", answer)
                continue
            found.extend((hit[0], hit[1]) for hit in answer)
        found.sort(key=lambda hit: (hit[1], hit[0]))
        return found[:count]

    # --- health -------------------------------------------------------------------------------

    async def hosts(self) -> list[dict]:
        """What each standing host holds (pid, entity counts), for staff and crash drills."""
        handles = [await self.placement.handle_named(n) for n in self.placement.standing_hosts()]
        return list(await asyncio.gather(*[h.ping.remote() for h in handles]))

    async def ping(self) -> bool:
        try:
            async with asyncio.timeout(10):
                await self.hosts()  # a policy without standing hosts: Ray itself must answer
                await asyncio.to_thread(ray.cluster_resources)
            self.ray_ok = True
        except Exception as exc:
            log.warning("ray ping failed: %r", exc)
            self.ray_ok = False
        return self.ray_ok

    async def run_supervisor(self) -> None:
        """Ping hosts: a restarted host starts reloading at once, and /api/ready knows."""
        while True:
            await self.ping()
            await asyncio.sleep(2.0)
