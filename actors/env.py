"""What an order or provider actor may use: a small, typed environment, not its whole host.

The host builds one Env and hands it to every entity it holds; tests can hand in fakes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from actors.policies import PolicyBook
from adapters.clock import utcnow
from adapters.dispatch import DispatchStore
from adapters.mysql import Database
from adapters.orders import OrderStore
from adapters.payments import PaymentStore
from adapters.redis import Keys
from adapters.settings import Settings


class Emits(Protocol):
    async def emit(self, event: str, data: dict, to: list[str] | str) -> None: ...

    async def alert(self, kind: str, **data) -> None: ...

    def add_to(self, pipe, events: list[tuple[str, dict, list[str] | str]]) -> None: ...


class ProviderMessages(Protocol):
    """What an order may ask of a provider actor, wherever that provider is hosted."""

    async def reserve(self, provider_id: int, order_id: int, slot: dict | None = None) -> dict: ...

    async def missed(
        self, provider_id: int, order_id: int, why: str, after: int, rest_s: float
    ) -> dict: ...

    async def release(self, provider_id: int, order_id: int) -> dict: ...

    async def where(self, provider_id: int) -> dict: ...


class OrderMessages(Protocol):
    """What a payment may tell its order's actor, wherever that order is hosted."""

    async def payment_event(self, order_id: int, move) -> dict: ...  # adapters.payments.PaymentMove


class PaymentMessages(Protocol):
    """What an order may ask of a payment's actor, wherever that payment is hosted."""

    async def refund(
        self, payment_id: int, out_refund_no: str, amount: int, reason: str
    ) -> dict: ...


class Locator(Protocol):
    """Where dispatch finds providers (actors/candidates.py: HostLocator, RedisLocator)."""

    def listed(self, pipe, provider) -> None: ...

    def moved(self, pipe, provider) -> None: ...

    async def around(
        self, service_id: int, lat: float, lng: float, radius_m: float, count: int
    ) -> list: ...


class Notifies(Protocol):
    """Subscribe messages (actors/notify.py): told after a change is written, sent later."""

    def status_changed(self, order_id: int, status: str) -> None: ...


class WindowMessages(Protocol):
    """What an order may ask of its area's batch matching window."""

    async def join(self, area_id: int, order_id: int, hits: list, window_s: float) -> dict: ...


@dataclass(frozen=True)
class Env:
    settings: Settings
    db: Database  # for adapters.providers
    orders: OrderStore
    payments: PaymentStore
    redis: object  # redis.asyncio.Redis: GEO sets, open offers
    keys: Keys
    emitter: Emits
    providers: ProviderMessages
    order_messages: OrderMessages
    payment_messages: PaymentMessages
    windows: WindowMessages
    locator: Locator
    retire_order: Callable[[int], None]  # an ended order leaves its host
    dispatch: DispatchStore
    policies: PolicyBook
    clock: Callable[[], datetime] = utcnow
    contacts: object | None = None  # masked-call bindings (actors/contact.py); None: none
    notify: Notifies | None = None  # None: no subscribe messages (tests' fakes)
