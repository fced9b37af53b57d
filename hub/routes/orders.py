"""CONTRACT §5: creating, reading and moving orders. Moves go to the order's actor."""

from __future__ import annotations

import secrets
from datetime import timedelta

import orjson

from actors import privacy
from actors.dispatch.plan import offered_to
from actors.transitions import CLIENT_ACTIONS, roles_for
from adapters import catalog, providers
from adapters.clock import utcnow
from adapters.mysql import is_duplicate
from adapters.orders import order_json
from hub.auth import ROLES, Principal
from hub.errors import ApiError, Forbidden, Invalid, NotFound
from hub.models import (
    AfterSeqQuery,
    AssignIn,
    CancelIn,
    CreateOrder,
    Messages,
    NoBody,
    OrderListQuery,
    OrderOut,
    OrderPage,
    QuoteIn,
    Timeline,
)
from hub.router import Call, Router

router = Router("orders")


async def actor_of(hub, me: Principal) -> dict:
    """The caller as the order actors see it (providers carry their provider id)."""
    actor = me.as_actor()
    if me.role == "provider":
        actor["providerId"] = await hub.provider_id(me.user_id)
    return actor


async def visible_order(hub, me: Principal, order_id: int) -> dict:
    """The order row if the caller is a party to it (or staff); else 404, never 403."""
    row = await hub.orders.load(order_id)
    if row is None:
        raise NotFound("no such order")
    if me.is_staff or (me.role == "customer" and row["customer_id"] == me.user_id):
        return row
    if me.role == "provider":
        pid = await hub.provider_id(me.user_id)
        if pid is not None and (pid == row["provider_id"] or pid in offered_to(row)):
            return row
    raise NotFound("no such order")


def seen_by(me: Principal, pid: int | None, order: dict) -> dict:
    """The order's JSON as this caller may see it: a provider who only holds an offer sees
    where as precisely as the offer (actors/privacy.py order_view)."""
    full = me.role != "provider" or (pid is not None and order["providerId"] == pid)
    return privacy.order_view(order, full=full)


def raise_for(answer: dict) -> dict:
    if not answer["ok"]:
        err = answer["error"]
        raise ApiError(err["message"], err["code"], answer.get("status", 409))
    return answer


@router.route(
    "POST", "/api/orders", roles=("customer",), body=CreateOrder, response=OrderOut, status=201
)
async def create_order(call: Call):
    """Place an order; an `Idempotency-Key` header makes retries create nothing new."""
    hub, b, me = call.hub, call.body, call.me
    idem = call.request.headers.get("idempotency-key")
    if idem is not None and not (1 <= len(idem) <= 128):
        raise Invalid("Idempotency-Key: 1 to 128 characters", fields=[{"field": "Idempotency-Key"}])
    if idem and (earlier := await _order_for_key(hub, me.user_id, idem)):
        return earlier, 200
    await hub.limiter.hit(f"order:{me.user_id}", hub.limits.orders_per_min)
    service = await catalog.service(hub.db, b.service_id)
    if service is None or not service["active"]:
        raise Invalid("serviceId: no such service", fields=[{"field": "serviceId"}])
    area = await hub.area_at(b.lat, b.lng)
    if area is False:
        raise Invalid(
            "lat/lng: outside our service areas",
            "out_of_area",
            fields=[{"field": "lat"}, {"field": "lng"}],
        )
    if b.dispatch_mode == "direct":
        await _check_direct_provider(hub, b.provider_id, b.service_id)
    enc, lookup, masked = hub.vault.seal(b.contact_phone)
    now = utcnow()
    order = {
        "order_no": now.strftime("OH%Y%m%d%H%M%S") + f"{secrets.randbelow(10**6):06d}",
        "customer_id": me.user_id,
        "service_id": b.service_id,
        "area_id": area["id"] if area else None,
        "dispatch_mode": b.dispatch_mode,
        "urgency": b.urgency,
        "offered_provider_id": b.provider_id,
        "address": b.address,
        "district": area["name"] if area else "",
        "lat": b.lat,
        "lng": b.lng,
        "description": b.description,
        "contact_name": b.contact_name,
        "contact_phone_enc": enc,
        "contact_phone_hash": lookup,
        "contact_phone_masked": masked,
        "images": orjson.dumps(b.images).decode(),
        "scheduled_at": b.scheduled_at.replace(tzinfo=None) if b.scheduled_at else None,
        "estimated_amount": service["base_price"],
        "expires_at": _expiry(now, hub.settings.order_expiry_s, b.scheduled_at),
        "created_at": now,
    }
    created = {
        "action": "create",
        "by_role": "customer",
        "by_user_id": me.user_id,
        "detail": {"dispatchMode": b.dispatch_mode, "providerId": b.provider_id},
    }
    try:
        order_id = await hub.orders.create(order, created, idem)
    except Exception as exc:
        if idem and is_duplicate(exc):  # the same key raced in: answer with its order
            return await _order_for_key(hub, me.user_id, idem), 200
        raise
    # Written, so acknowledged. Should activation fail, the host's reconcile loop picks the
    # order up within seconds; the customer still gets the order it placed.
    await hub.actors.order_activate(order_id)
    return order_json(await hub.orders.load(order_id))


def _expiry(now, expiry_s: float, scheduled_at) -> object:
    """Untaken, an order expires after HUB_ORDER_EXPIRY_S; a scheduled one not before its
    slot (its dispatch starts a lead time before it)."""
    expires = now + timedelta(seconds=expiry_s)
    if scheduled_at is not None:
        expires = max(expires, scheduled_at.replace(tzinfo=None))
    return expires


async def grab_allowed(hub, provider_id: int) -> None:
    """At most HUB_GRABS_PER_MIN grabs a minute per provider (REST and socket alike)."""
    await hub.limiter.hit(f"grab:{provider_id}", hub.limits.grabs_per_min)


async def _order_for_key(hub, user_id: int, key: str) -> dict | None:
    order_id = await hub.orders.id_for_key(user_id, key)
    return order_json(await hub.orders.load(order_id)) if order_id else None


async def _check_direct_provider(hub, provider_id: int, service_id: int) -> None:
    row = await providers.load(hub.db, provider_id)
    if row is None or row["verification"] != "approved":
        raise Invalid("providerId: no such approved provider", fields=[{"field": "providerId"}])
    if service_id not in orjson.loads(row["skills"]):
        raise Invalid(
            "providerId: this provider does not offer that service",
            fields=[{"field": "providerId"}],
        )


@router.route("GET", "/api/orders", roles=ROLES, query=OrderListQuery, response=OrderPage)
async def list_orders(call: Call):
    """A customer's own orders, a provider's assigned ones, or (staff) all; newest first."""
    hub, q, me = call.hub, call.query, call.me
    mine: dict = {}
    if me.role == "customer":
        mine["customer_id"] = me.user_id
    elif me.role == "provider":
        mine["provider_id"] = await hub.provider_id(me.user_id) or 0
    rows, total = await hub.orders.page(
        **mine, status=q.status, limit=q.limit, offset=(q.page - 1) * q.limit
    )
    return {"items": [order_json(r) for r in rows], "total": total}


@router.route("GET", "/api/orders/{id:int}", roles=ROLES, response=OrderOut)
async def get_order(call: Call):
    """One order, if it is yours (or you are staff)."""
    row = await visible_order(call.hub, call.me, call.path["id"])
    pid = await call.hub.provider_id(call.me.user_id) if call.me.role == "provider" else None
    return seen_by(call.me, pid, order_json(row))


@router.route("GET", "/api/orders/{id:int}/timeline", roles=ROLES, response=Timeline)
async def order_timeline(call: Call):
    """Every status event of the order, in seq order."""
    row = await visible_order(call.hub, call.me, call.path["id"])
    return {"items": await call.hub.orders.timeline(row["id"])}


@router.route(
    "GET", "/api/orders/{id:int}/messages", roles=ROLES, query=AfterSeqQuery, response=Messages
)
async def order_messages(call: Call):
    """The order's chat after `afterSeq`, in seq order."""
    row = await visible_order(call.hub, call.me, call.path["id"])
    return {
        "items": await call.hub.orders.messages_after(
            row["id"], call.query.after_seq, call.query.limit
        )
    }


_BODIES = {
    "quote": QuoteIn,
    "cancel": CancelIn,
    "decline": CancelIn,
    "assign": AssignIn,
    "reassign": AssignIn,
}


def _action_handler(action: str):
    async def move(call: Call):
        hub = call.hub
        actor = await actor_of(hub, call.me)
        if call.me.role == "provider" and actor.get("providerId") is None:
            raise Forbidden("apply as a provider first", "not_a_provider")
        if action == "grab":
            await grab_allowed(hub, actor["providerId"])
        args = call.body.model_dump(by_alias=True) if call.body is not None else {}
        answer = raise_for(await hub.actors.order_command(call.path["id"], action, actor, args))
        return seen_by(call.me, actor.get("providerId"), answer["order"])

    move.__name__ = f"order_{action.replace('-', '_')}"
    move.__doc__ = f"Order action `{action}` (see the state machine in CONTRACT §5)."
    return move


for _action in sorted(CLIENT_ACTIONS):
    router.route(
        "POST",
        f"/api/orders/{{id:int}}/{_action}",
        roles=tuple(sorted(roles_for(_action) & set(ROLES))),
        body=_BODIES.get(_action, NoBody),
        response=OrderOut,
    )(_action_handler(_action))
