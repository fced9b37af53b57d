"""The console's order table (issue #11): `GET /api/admin/orders`, staff's filtered search
over every order (adapters/order_search.py). Items are Orders as `GET /api/orders` returns
them, plus `areaId`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from adapters import order_search
from adapters.orders import order_json
from hub.auth import STAFF
from hub.models import In, OrderStatus
from hub.router import Call, Router

router = Router("orders")

Ref = Annotated[int, Field(ge=1, le=2**62)]


class OrderSearchQuery(In):
    status: OrderStatus | None = None
    area_id: Ref | None = None
    service_id: Ref | None = None
    urgency: Literal["normal", "urgent"] | None = None
    dispatch_mode: Literal["grab", "auto", "direct"] | None = None
    payment_status: (
        Literal["unpaid", "paying", "deposit_paid", "paid", "refunding", "refunded"] | None
    ) = None
    slot: Literal["now", "morning", "afternoon", "evening", "night"] | None = None
    q: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=32,
            pattern=r"^[A-Za-z0-9-]+$",
            description="a phone's last 4 digits, or else part of an order number",
        ),
    ] = None
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    limit: Annotated[int, Field(ge=1, le=100)] = 50


@router.route("GET", "/api/admin/orders", roles=STAFF, query=OrderSearchQuery)
async def search_orders(call: Call):
    """Staff's order table: every order, filtered, newest first; and how many match."""
    q = call.query
    filters = order_search.Filters(
        status=q.status,
        area_id=q.area_id,
        service_id=q.service_id,
        urgency=q.urgency,
        dispatch_mode=q.dispatch_mode,
        payment_status=q.payment_status,
        slot=q.slot,
        q=q.q,
    )
    rows, total = await order_search.search(call.hub.db, filters, q.limit, (q.page - 1) * q.limit)
    return {"items": [{**order_json(r), "areaId": r["area_id"]} for r in rows], "total": total}
