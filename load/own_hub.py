"""A throw-away hub for a bench or a run when none is running: the WeChat sandbox and
``python -m hub`` on free ports, a fresh database ``orderhub_bench_<random>`` (dropped
afterwards) and Redis db 13 (flushed first, refused while someone else uses it), with the
login and order rate limits lifted. ``python -m load bench`` starts one when no hub answers at
``--hub``; ``python -m load run --own-hub`` always does."""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import replace
from pathlib import Path

import httpx

from load.config import RunConfig
from load.processes import HubProcess, Service, Stores, free_port, hub_env, seed_hub, start_sandbox
from load.stores import drop_database, flush_redis, wait_until_unused


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


class OwnHub:
    def __init__(self, logdir: Path, **settings: object):
        self.logdir = logdir
        self.settings = settings  # more hub variables (HUB_PAY_QUERY_S=…)
        self.password = secrets.token_urlsafe(12)
        base = os.environ.get("MYSQL_URL", "mysql://root@127.0.0.1:3306/orderhub")
        self.database = f"orderhub_bench_{secrets.token_hex(4)}"  # its own, dropped after
        self.stores = Stores(
            mysql_url=base.rsplit("/", 1)[0] + "/" + self.database,
            redis_url="redis://127.0.0.1:6379/13",
            state_dir=logdir / "state",
        )
        self.sandbox: Service | None = None
        self.hub: HubProcess | None = None

    @property
    def url(self) -> str:
        return self.hub.url

    def start(self) -> None:
        wait_until_unused(self.stores.mysql_url, self.stores.redis_url)
        flush_redis(self.stores.redis_url)
        self.sandbox = start_sandbox(self.logdir / "sandbox.log", self.stores.state_dir)
        env = hub_env(
            free_port(),
            self.stores,
            self.sandbox.url,
            self.password,
            HUB_LOGIN_PER_MIN=1000000,
            HUB_ORDERS_PER_MIN=100000,
            **self.settings,
        )
        seed_hub(env, self.logdir / "seed.log")
        self.hub = HubProcess.start(env, self.logdir / "hub.log", ready_timeout=240)

    def config(self, cfg: RunConfig) -> RunConfig:
        """`cfg` pointed at this hub, its sandbox, admin and database."""
        return replace(
            cfg,
            hub=self.url,
            sandbox=self.sandbox.url,
            admin_password=self.password,
            mysql_url=self.stores.mysql_url,
            hub_pid=None,
        )

    def stop(self) -> None:
        for part in (self.hub, self.sandbox):
            if part is not None:
                part.stop()
        self.hub = self.sandbox = None
        with contextlib.suppress(Exception):
            drop_database(self.stores.mysql_url)
