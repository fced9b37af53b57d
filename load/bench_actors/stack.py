"""One phase's stack: the scratch stores reset, a Ray head, the WeChat sandbox and a hub, and
this process joined to the Ray cluster as a driver (to read the hosts' own figures)."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import time

import ray

from actors.placement import NAMESPACE
from adapters.settings import Settings
from load.bench_actors.basics import ADMIN_PASSWORD, say
from load.processes import HubProcess, Stores, free_port, hub_env, start_ray_head, start_sandbox
from load.stores import drop_database, flush_redis, wait_until_unused

# The locations phase puts its provider+order pairs ~330 m apart: with this grab radius each
# order is offered to its own provider only.
GRAB_RADIUS_M = 100


class Stack:
    """One phase's processes. Logs stay in `workdir` for post-mortems."""

    def __init__(self, args, label: str, placement: str):
        self.args = args
        self.label = label
        self.placement = placement
        self.workdir = args.workdir
        self.ray_head = self.sandbox = self.hub = None
        self.hub_log = self.workdir / f"hub-{label}.log"
        self.settings = Settings(
            mysql_url=args.mysql_url,
            redis_url=args.redis_url,
            placement=placement,
            hosts=args.hosts,
            state_dir=self.workdir / f"state-{label}",
            admin_password=ADMIN_PASSWORD,
        )

    @property
    def hub_url(self) -> str:
        return self.hub.url

    @property
    def hub_pid(self) -> int:
        return self.hub.proc.pid

    def reset_stores(self) -> None:
        from adapters.migrate import migrate
        from hub.seed import seed

        wait_until_unused(self.args.mysql_url, self.args.redis_url)
        drop_database(self.args.mysql_url)
        flush_redis(self.args.redis_url)
        with contextlib.redirect_stdout(io.StringIO()):
            migrate(self.args.mysql_url, log=lambda *_: None)
            seed(self.settings)

    def start(self) -> None:
        t0 = time.monotonic()
        self.reset_stores()
        label, workdir = self.label, self.workdir
        self.ray_head = start_ray_head(workdir / f"ray-{label}", workdir / f"ray-{label}.log")
        self.sandbox = start_sandbox(workdir / f"sandbox-{label}.log", self.settings.state_dir)
        env = hub_env(
            free_port(),
            Stores(self.args.mysql_url, self.args.redis_url, self.settings.state_dir),
            self.sandbox.url,
            ADMIN_PASSWORD,
            self.ray_head.address,
            HUB_PLACEMENT=self.placement,
            HUB_HOSTS=self.args.hosts,
            HUB_LOGIN_PER_MIN=1000000,
            HUB_ORDERS_PER_MIN=1000000,
            # The bench's providers send no heartbeats while idle (it would add load to
            # the figures); without this they would go offline after 30 s.
            HUB_HEARTBEAT_TIMEOUT_S=3600,
            HUB_GRAB_RADIUS_M=GRAB_RADIUS_M,
        )
        self.hub = HubProcess.start(env, self.hub_log, ready_timeout=240)
        os.environ["RAY_AUTH_MODE"] = "disabled"
        ray.init(
            address=self.ray_head.address,
            namespace=NAMESPACE,
            logging_level=logging.WARNING,
            log_to_driver=False,
        )
        say(f"{label}: stack up in {time.monotonic() - t0:.0f} s (hub log {self.hub_log})")

    def stop(self) -> None:
        took = {}
        for name, fn in (
            ("driver", ray.shutdown),
            ("hub", self.hub and self.hub.stop),
            ("sandbox", self.sandbox and self.sandbox.stop),
            ("ray", self.ray_head and self.ray_head.stop),
        ):
            if fn is None:  # the stack failed before starting this part
                continue
            t = time.monotonic()
            with contextlib.suppress(Exception):
                fn()
            took[name] = round(time.monotonic() - t, 1)
        say(f"{self.label}: stopped (seconds: {took})")
