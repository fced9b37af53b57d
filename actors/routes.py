"""What an entity may ask of another, wherever the other is hosted (actors.env's message
protocols): each route hands the message to its host, which calls the entity here or on the
host that holds it (EntityHost.entity_call / provider_call)."""

from __future__ import annotations

from actors.results import fail


class OrderRoute:
    """The messages a payment may send its order (actors.env.OrderMessages)."""

    def __init__(self, host):
        self._host = host

    async def payment_event(self, order_id: int, move) -> dict:
        gone = fail(503, "unavailable", "the order's host is not running; retry")
        return await self._host.entity_call("order", order_id, "order_payment_event", gone, move)


class PaymentRoute:
    """The messages an order may send a payment (actors.env.PaymentMessages)."""

    def __init__(self, host):
        self._host = host

    async def refund(self, payment_id: int, out_refund_no: str, amount: int, reason: str) -> dict:
        gone = fail(503, "unavailable", "the payment's host is not running")
        return await self._host.entity_call(
            "payment",
            payment_id,
            "payment_message",
            gone,
            "refund",
            out_refund_no,
            amount,
            reason,
            None,
        )


class ProviderRoute:
    """The messages an order may send a provider (actors.env.ProviderMessages)."""

    def __init__(self, host):
        self._host = host

    async def reserve(self, provider_id: int, order_id: int, slot: dict | None = None) -> dict:
        return await self._host.provider_call(provider_id, "reserve", order_id, slot)

    async def missed(
        self, provider_id: int, order_id: int, why: str, after: int, rest_s: float
    ) -> dict:
        return await self._host.provider_call(provider_id, "missed", order_id, why, after, rest_s)

    async def release(self, provider_id: int, order_id: int) -> dict:
        return await self._host.provider_call(provider_id, "release", order_id)

    async def where(self, provider_id: int) -> dict:
        return await self._host.provider_call(provider_id, "where")


class WindowRoute:
    """An order joining its area's batch matching window (actors.env.WindowMessages)."""

    def __init__(self, host):
        self._host = host

    async def join(self, area_id: int, order_id: int, hits: list, window_s: float) -> dict:
        gone = fail(503, "unavailable", "the window's host is not running")
        return await self._host.entity_call(
            "window", area_id, "window_join", gone, order_id, hits, window_s
        )
