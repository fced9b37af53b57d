"""Prometheus metrics at `/metrics` (docs/operations.md "Metrics").

Two kinds of figures:
- measured in the hub processes (sockets, socket events in and out, ack latency, HTTP,
  Ray calls, the hub's MySQL and Redis calls, WeChat Pay notifications): prometheus-client in
  multi-process mode (hub/metrics_env.py), so every hub process's figures add up on any scrape;
- what the Ray hosts do (open offers, orders by status, dispatch outcomes): read from MySQL and
  Redis when /metrics is scraped (adapters/figures.py, cached a few seconds). The hosts keep
  their state there anyway, so they export nothing and no figure is lost when one restarts.

`/metrics` is for the monitoring system only: with HUB_METRICS_TOKEN set it wants
`Authorization: Bearer <token>`; without, it answers clients on the loopback only.

`Observed` wraps the whole ASGI app: it serves /metrics, gives every HTTP request a request id
(adapters/logs.py; also sent back as X-Request-Id), counts and times requests and logs the
ones that change something.
"""

from __future__ import annotations

import asyncio
import collections
import hmac
import logging
import os
import re
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import REGISTRY as SINGLE_PROCESS
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from actors import metrics as store_timing
from adapters import figures, logs
from hub import metrics_env

log = logging.getLogger("orderhub.http")

SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LIVE = "livesum"  # a gauge's value across the live hub processes

SCRAPE = Histogram("orderhub_scrape_seconds", "time to build a /metrics answer", buckets=SECONDS)
HUB_PROCESSES = Gauge("orderhub_hub_processes", "hub processes running", multiprocess_mode=LIVE)
STARTS = Counter("orderhub_hub_starts", "hub processes started")
SOCKETS = Gauge("orderhub_sockets", "connected sockets", ["role"], multiprocess_mode=LIVE)
EVENTS_IN = Counter("orderhub_socket_events_in", "socket events received", ["event"])
EVENTS_OUT = Counter(
    "orderhub_socket_events_out", "events delivered to this process's sockets' rooms", ["event"]
)
ACK = Histogram(
    "orderhub_socket_ack_seconds", "socket event to its ack", ["event"], buckets=SECONDS
)
HTTP = Counter("orderhub_http_requests", "HTTP requests", ["route", "method", "status"])
HTTP_SECONDS = Histogram(
    "orderhub_http_request_seconds", "HTTP request to response", ["route"], buckets=SECONDS
)
RAY = Histogram(
    "orderhub_ray_call_seconds", "a call to a Ray host", ["method", "outcome"], buckets=SECONDS
)
MYSQL = Histogram("orderhub_mysql_query_seconds", "the hub's MySQL calls", ["op"], buckets=SECONDS)
REDIS = Histogram(
    "orderhub_redis_command_seconds", "the hub's Redis commands", ["command"], buckets=SECONDS
)
PAY_NOTIFY = Counter(
    "orderhub_payment_notifications", "WeChat Pay notifications", ["kind", "result"]
)
# Stalls (hub/loop_stats.py): every cyclic-GC pause, and how late the loop wakes from 50 ms
GC_PAUSE = Histogram(
    "orderhub_gc_pause_seconds", "a cyclic GC collection", ["generation"], buckets=SECONDS
)
LOOP_LAG = Histogram(
    "orderhub_loop_lag_seconds", "event loop lag (a 50 ms sleep's lateness)", buckets=SECONDS
)
HUB_PROCESSES.inc()
STARTS.inc()
metrics_env.hide_from_children()  # every file of this process is open now

NOTIFY_PATHS = {
    "/api/payments/wechat/notify": "pay",
    "/api/payments/wechat/refund-notify": "refund",
}
_EVENT_NAME = re.compile(r"^[a-z][a-z._]{0,31}$")
FIGURES_TTL_S = 5.0
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _result(status: int) -> str:
    return "accepted" if status < 300 else "refused" if status < 500 else "error"


# --- instrumenting the hub's parts ---------------------------------------------------------------


def install(hub, sio) -> None:
    """What create_app measures from the start (the database is instrumented once open)."""
    instrument_sio(sio)
    instrument_redis(hub.redis)


def stop() -> None:
    """A hub stopping: its live gauges (sockets, processes) leave the sums."""
    if metrics_env.directory is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid(), str(metrics_env.directory))


def ray_call(method: str, outcome: str, started: float) -> None:
    RAY.labels(method, outcome).observe(time.perf_counter() - started)


def instrument_sio(sio) -> None:
    """Count and time every event a socket sends (and give it a request id), and count the
    events this process delivers. Wraps python-socketio's own dispatch, so every handler,
    present and future, is measured without touching it."""
    known = set(sio.handlers.get("/", {}))
    trigger = sio._trigger_event
    children: dict[str, tuple] = {}  # event → its two series (labels() costs a lock and a dict)

    def answered(name: str, seconds: float) -> None:
        series = children.get(name) or children.setdefault(
            name, (EVENTS_IN.labels(name), ACK.labels(name))
        )
        series[0].inc()
        series[1].observe(seconds)

    async def timed(event, namespace, *args):
        if event in ("connect", "disconnect") and len(args) >= 2:
            return await trigger(event, namespace, *args)  # the connection itself
        logs.start_request()
        started = time.perf_counter()
        try:
            return await trigger(event, namespace, *args)
        finally:
            answered(event if event in known else "other", time.perf_counter() - started)

    sio._trigger_event = timed
    sio.inline_done = answered  # hot events answered inline (hub/socket_edge.py)
    manager = sio.manager
    if hasattr(manager, "_handle_emit"):
        handle = manager._handle_emit

        async def counted(message):
            batch = message.get("batch")  # a host's events in one message (actors/emit.py)
            if batch is None:
                _count_out(message.get("event"), 1)
            else:
                for event, n in collections.Counter(e[0] for e in batch).items():
                    _count_out(event, n)
            return await handle(message)

        manager._handle_emit = counted


def _count_out(event, n: int) -> None:
    EVENTS_OUT.labels(event if _EVENT_NAME.match(str(event)) else "other").inc(n)


def _observe(store: str, label: str, seconds: float) -> None:
    (MYSQL if store == "mysql" else REDIS).labels(label).observe(seconds)


def instrument_db(db) -> None:
    store_timing.instrument(_observe, db=db)


def instrument_redis(redis) -> None:
    store_timing.instrument(_observe, redis=redis)


def count_sockets(sio) -> None:
    """This process's sockets by role, from its rooms (hub/realtime.py puts every provider in
    `provider:{id}` and staff in `staff`)."""
    rooms = sio.manager.rooms.get("/", {})
    total = len(rooms.get(None, {}))
    staff = len(rooms.get("staff", {}))
    providers = sum(len(m) for r, m in rooms.items() if isinstance(r, str) and r[:9] == "provider:")
    SOCKETS.labels("staff").set(staff)
    SOCKETS.labels("provider").set(providers)
    SOCKETS.labels("customer").set(max(0, total - staff - providers))


async def run_socket_counter(sio, every_s: float = 2.0) -> None:
    while True:
        count_sockets(sio)
        await asyncio.sleep(every_s)


# --- figures from the stores ----------------------------------------------------------------


# The hosts' series: (what HostFigures calls the store, metric, its label, help)
HOST_SERIES = (
    ("mysql", "orderhub_host_mysql_seconds", "op", "MySQL calls"),
    ("redis", "orderhub_host_redis_seconds", "command", "Redis calls"),
    ("gc", "orderhub_host_gc_pause_seconds", "generation", "cyclic GC collections"),
    ("loop", "orderhub_host_loop_lag_seconds", None, "event loop lag (a 50 ms sleep's lateness)"),
)


class StoreFigures:
    """Open offers, orders by status and dispatch outcomes, read at scrape time (cached)."""

    def __init__(self, hub):
        self.hub = hub
        self.at = 0.0
        self.orders: dict[str, int] = {}
        self.offers = 0
        self.dispatch: dict[str, int] = {}
        self.last_event = 0
        self.hosts: dict[tuple[str, str], dict] = {}
        self.lock = asyncio.Lock()

    async def refresh(self) -> None:
        async with self.lock:
            if time.monotonic() - self.at < FIGURES_TTL_S:
                return
            self.orders = await figures.orders_by_status(self.hub.db)
            self.offers = await figures.open_offers(self.hub.redis, self.hub.keys)
            new, self.last_event = await figures.dispatch_events_after(self.hub.db, self.last_event)
            for action, n in new.items():
                self.dispatch[action] = self.dispatch.get(action, 0) + n
            self.hosts = await figures.host_histograms(
                self.hub.redis, store_timing.host_key(self.hub.keys.ns)
            )
            self.at = time.monotonic()

    def collect(self):
        orders = GaugeMetricFamily("orderhub_orders", "orders by status (MySQL)", labels=["status"])
        for status, n in sorted(self.orders.items()):
            orders.add_metric([status], n)
        yield orders
        yield GaugeMetricFamily(
            "orderhub_open_offers", "offers standing in providers' halls (Redis)", value=self.offers
        )
        outcomes = CounterMetricFamily(
            "orderhub_dispatch_outcomes", "dispatch events by action (MySQL)", labels=["outcome"]
        )
        for action in figures.DISPATCH_ACTIONS:
            outcomes.add_metric([action], self.dispatch.get(action, 0))
        yield outcomes
        yield from self._host_histograms()

    def _host_histograms(self):
        """The Ray hosts' store timings, GC pauses and loop lag (actors/metrics.py HostFigures,
        pushed through Redis every 10 s)."""
        for store, name, label, what in HOST_SERIES:
            family = HistogramMetricFamily(
                name, f"the Ray hosts' {what} (pushed through Redis every 10 s)",
                labels=[label] if label else [],
            )  # fmt: skip
            for (got, key), entry in sorted(self.hosts.items()):
                if got != store:
                    continue
                running, buckets = 0.0, []
                for le in [*map(repr, store_timing.BUCKETS), "+Inf"]:
                    running += entry["buckets"].get(le, 0.0)
                    buckets.append((le, running))
                family.add_metric([key] if label else [], buckets, sum_value=entry["sum"])
            yield family


# --- the ASGI wrapper ------------------------------------------------------------------------


class Observed:
    def __init__(self, app, hub, sio):
        self.app = app
        self.hub = hub
        self.sio = sio
        self.figures = StoreFigures(hub)
        self.token = os.environ.get("HUB_METRICS_TOKEN") or None

    def __getattr__(self, name):  # the wrapped app's attributes (engineio_server, ...)
        return getattr(self.app, name)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith("/socket.io"):
            return await self.app(scope, receive, send)
        if scope["path"] == "/metrics":
            return await self.metrics(scope, send)
        rid = logs.start_request()
        started = time.perf_counter()
        status = 500

        async def sent(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, sent)
        finally:
            self.observe(scope, status, time.perf_counter() - started)

    def observe(self, scope, status: int, took: float) -> None:
        route = getattr(scope.get("route"), "path", None) or "other"
        method = scope["method"] if scope["method"] in _METHODS else "other"  # client-chosen
        HTTP.labels(route, method, str(status)).inc()
        HTTP_SECONDS.labels(route).observe(took)
        if kind := NOTIFY_PATHS.get(scope["path"]):
            PAY_NOTIFY.labels(kind, _result(status)).inc()
        if method not in ("GET", "HEAD", "OPTIONS") or status >= 500 or took > 1.0:
            logs.event(
                log, "http", method=method, route=route, status=status, ms=round(took * 1000, 1)
            )

    def allowed(self, scope) -> tuple[int, str] | None:
        if self.token:
            given = dict(scope["headers"]).get(b"authorization", b"").decode(errors="replace")
            if not hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
                return 401, "metrics: Authorization: Bearer <HUB_METRICS_TOKEN>"
            return None
        client = (scope.get("client") or ("",))[0]
        if client not in ("127.0.0.1", "::1", "localhost"):
            return 403, "metrics are served on the loopback only (or set HUB_METRICS_TOKEN)"
        return None

    async def metrics(self, scope, send) -> None:
        if denied := self.allowed(scope):
            code = "unauthorized" if denied[0] == 401 else "forbidden"
            body = {"error": {"code": code, "message": denied[1]}}
            return await _answer(send, denied[0], "application/json", _json(body))
        started = time.perf_counter()
        count_sockets(self.sio)
        try:
            await self.figures.refresh()
        except Exception as exc:  # a store down: serve the hub's own figures anyway
            logs.event(log, "metrics: store figures failed", logging.WARNING, error=repr(exc))
        registry = CollectorRegistry()
        if metrics_env.directory is not None:
            MultiProcessCollector(registry, path=str(metrics_env.directory))
        else:
            registry = SINGLE_PROCESS
        body = generate_latest(registry) + generate_latest(_Once(self.figures))
        SCRAPE.observe(time.perf_counter() - started)
        await _answer(send, 200, CONTENT_TYPE_LATEST, body)


class _Once(CollectorRegistry):
    """A registry of one collector, for the store figures."""

    def __init__(self, collector):
        super().__init__(auto_describe=False)
        self._figures = collector

    def collect(self):
        yield from self._figures.collect()


def _json(body: dict) -> bytes:
    import orjson

    return orjson.dumps(body)


async def _answer(send, status: int, content_type: str, body: bytes) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
