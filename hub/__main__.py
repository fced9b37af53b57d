"""`python -m hub [serve|migrate|seed]`: run the hub, migrate the database, load demo data."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time

from adapters import logs
from adapters.settings import Settings


def migrate(settings: Settings) -> None:
    from adapters.migrate import migrate as run_migrations
    from hub import accounts, secret_files

    run_migrations(settings.mysql_url)
    password, generated = secret_files.admin_password(settings.state_dir, settings.admin_password)
    if accounts.ensure_staff(settings.mysql_url, settings.admin_user, password, "admin"):
        shown = (
            f"password {password} (kept in {settings.state_dir / 'admin-password'})"
            if generated
            else "the password in HUB_ADMIN_PASSWORD"
        )
        print(f"[orderhub] created admin account {settings.admin_user!r} with {shown}", flush=True)


REOFFER_S = 30.0  # how long a starting hub waits for the pending orders to restore offers


async def rebuild_redis(settings: Settings, actors) -> None:
    """Redis is derived from MySQL (actors/rebuild.py): before serving, the providers' keys are
    made to agree with MySQL, and every pending order puts its open offers back."""
    from actors import rebuild
    from adapters import redis as redis_adapter
    from adapters.mysql import Database
    from adapters.orders import OrderStore

    started = time.monotonic()
    db = await Database.connect(settings.mysql_url, maxsize=4)
    redis = redis_adapter.connect(settings.redis_url, max_connections=8)
    try:
        keys = redis_adapter.Keys.for_database(settings.mysql_url)
        await rebuild.providers(db, redis, keys, actors.provider_may_be_online)
        pending = await OrderStore(db).ids_in(("pending",))
        try:  # bounded: hosts that are restarting too must not keep the hub from serving
            restored = await asyncio.wait_for(
                rebuild.open_offers(pending, actors.order_reoffer), REOFFER_S
            )
        except TimeoutError:
            restored = -1  # the rest come back with their orders' next offer round
            print(f"[orderhub] open offers not all restored within {REOFFER_S} s", flush=True)
        print(
            f"[orderhub] redis rebuilt from mysql in {time.monotonic() - started:.2f} s:"
            f" {restored} open offers of {len(pending)} pending orders",
            flush=True,
        )
    finally:
        await redis.aclose()
        await db.close()


def serve(settings: Settings) -> None:
    import uvicorn

    from adapters.mysql import MysqlDsn
    from hub import metrics_env, workers

    # before anything imports prometheus_client (hub/metrics_env.py)
    metrics_env.prepare(settings.state_dir, MysqlDsn.parse(settings.mysql_url).database)

    from hub import graceful, loop_stats
    from hub.actor_gateway import ActorGateway, start_ray
    from hub.app import create_app
    from hub.ws_protocol import DirectWebSocketProtocol

    count = workers.count(settings.workers)
    worker = workers.is_worker()
    extra: workers.Workers | None = None
    actors = ActorGateway(settings)
    if worker:  # started by the primary: Ray, the hosts and the database are ready
        workers.follow_primary()
        start_ray(settings)
        actors.placement.attach()
    else:
        workers.check_port_free(settings.host, settings.port)
        migrate(settings)
        print(f"[orderhub] starting Ray ({settings.ray_address or 'embedded'}) …", flush=True)
        actors.connect()  # before uvicorn: Ray replaces SIGTERM handling, uvicorn takes it back
        if count > 1:  # the others join this Ray and find its hosts while Redis is rebuilt
            import ray

            extra = workers.Workers(count - 1, ray.get_runtime_context().gcs_address)
            extra.start()
        try:
            asyncio.run(rebuild_redis(settings, actors))
        except Exception:  # Redis or MySQL down at start: serve anyway, /api/ready tells
            logging.getLogger("orderhub").exception("rebuilding redis from mysql failed")
    # GC pauses and loop lag timed; the heap frozen after start-up (hub/loop_stats.py)
    app = loop_stats.Stalls(create_app(settings, actors))
    sio = graceful.socketio_server(app)
    if (allowed := workers.transports(count)) is not None:
        sio.eio.transports = allowed  # no long-polling across processes (hub/workers.py)
    listener = workers.listen_socket(settings.host, settings.port)
    if not worker:
        print(
            f"[orderhub] hub on http://{settings.host}:{settings.port} in {count} process(es)"
            f"  (health /api/health, OpenAPI /api/openapi.json)",
            flush=True,
        )
    # Ray put its own SIGTERM handler in; uvicorn re-raises the signal to the handler it found
    # once it has shut down. Make that a KeyboardInterrupt so Ray is shut down here, cleanly.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    config = uvicorn.Config(
        app,
        log_config=None,  # uvicorn's lines through our JSON logs
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=graceful.GRACE_S,
        # uvicorn's sans-I/O websockets protocol: no tasks of its own per connection (the
        # legacy one keeps three); ~12 % less hub CPU at 5,000 providers (docs/profile.md).
        # Ours hands a message to Engine.IO in its own callback when it can (hub/ws_protocol.py).
        # No websocket-level keepalive pings: Engine.IO pings every client every 20 s.
        ws=DirectWebSocketProtocol,
        ws_ping_interval=None,
    )

    async def drain() -> None:
        if extra is not None:
            extra.terminate()  # the other processes drain meanwhile
        await graceful.drain(sio, actors)

    # A stop drains first: clients told to reconnect, queued fixes handed over (hub/graceful.py)
    server = graceful.GracefulServer(config, drain)
    try:
        server.run(sockets=[listener])
    except KeyboardInterrupt:
        pass
    finally:
        if extra is not None:
            extra.stop()  # they drain their own sockets before an embedded Ray goes
        # an embedded Ray goes with the primary; a joined cluster stays up
        graceful.stop(actors, embedded=not settings.ray_address and not worker)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hub", description=__doc__)
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate", "seed"])
    args = parser.parse_args(argv)
    logs.setup("hub")  # JSON lines, request ids, nothing secret (adapters/logs.py)
    settings = Settings.from_env()
    if args.command == "migrate":
        migrate(settings)
    elif args.command == "seed":
        from hub.seed import seed

        migrate(settings)
        seed(settings)
    else:
        serve(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
