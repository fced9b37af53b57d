"""What a simulated user (load/sim_user.py) needs of the worker process it lives in. The
worker (load/worker.py) is one; the users know it only by this, so the worker can own them."""

from __future__ import annotations

import asyncio
from typing import Protocol

from load.city import City
from load.config import RunConfig
from load.http import Http
from load.ledger import Ledger
from load.metrics import Metrics


class UserHost(Protocol):
    """What a simulated user uses of its worker process (load/worker.py's Worker)."""

    cfg: RunConfig
    metrics: Metrics
    ledger: Ledger
    city: City
    http: Http
    loop: asyncio.AbstractEventLoop
    stopping: bool  # the load is over: start nothing new
    expect_drops: bool  # a reconnect storm: lost sockets are the scenario, not errors
    admin_token: str | None
    service_ids: list[int]
    service_minutes: dict[int, int]
    area_ids: list[int]
    deposits: bool  # some area asks a deposit at order time (load/pay_sim.py)

    def spawn(self, coro) -> asyncio.Task: ...
