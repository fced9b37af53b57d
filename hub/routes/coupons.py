"""CONTRACT §12: coupons. Staff set up templates and see what became of them; customers claim
coupons and pay with one (the prepay in hub/routes/payments.py calls `prepay_discount` and
`lock_for_payment` here; the coupon's later moves follow its payment's, in the actors).
"""

from __future__ import annotations

import logging

from adapters import coupon_moves, coupons
from adapters.clock import utcnow
from hub.audit import audit
from hub.coupon_models import (
    ClaimIn,
    CouponOut,
    CouponPage,
    IssueIn,
    IssueOut,
    MineQuery,
    OrderCouponsOut,
    TemplateIn,
    TemplateOut,
    TemplatePage,
    TemplatePatch,
)
from hub.errors import ApiError, Conflict, NotFound
from hub.router import Call, Router
from hub.routes.orders import visible_order

router = Router("coupons")
log = logging.getLogger("orderhub.coupons")

ADMIN = ("admin",)
CLAIMS_PER_MIN = 30  # per customer: a coupon centre is tapped, not scripted


def _refused(exc: coupons.Refused) -> ApiError:
    if exc.code == "not_found":
        return NotFound(exc.message)
    return Conflict(exc.message, exc.code)


async def _template_out(hub, template_id: int) -> dict:
    rows = await coupons.templates_with_counts(hub.db, utcnow(), template_id)
    if not rows:
        raise NotFound("no such coupon template")
    return coupons.template_json(rows[0])


# --- staff ---------------------------------------------------------------------------------------


@router.route(
    "POST", "/api/admin/coupons", roles=ADMIN, body=TemplateIn, response=TemplateOut, status=201
)
async def create_template(call: Call):
    """A coupon template (admin): 满减 (threshold) or a percent discount."""
    fields = {**call.body.model_dump(), "created_by": call.me.user_id}
    template_id = await coupons.create_template(call.hub.db, fields)
    await audit(call, "coupon.create", "coupon_template", template_id, {"name": fields["name"]})
    return await _template_out(call.hub, template_id)


@router.route("GET", "/api/admin/coupons", roles=ADMIN, response=TemplatePage)
async def list_templates(call: Call):
    """Every template with issued, claimed, used and expired counts and the cost so far."""
    rows = await coupons.templates_with_counts(call.hub.db, utcnow())
    return {"items": [coupons.template_json(r) for r in rows], "total": len(rows)}


@router.route("GET", "/api/admin/coupons/{id:int}", roles=ADMIN, response=TemplateOut)
async def get_template(call: Call):
    """One template with its counts."""
    return await _template_out(call.hub, call.path["id"])


@router.route(
    "PATCH", "/api/admin/coupons/{id:int}", roles=ADMIN, body=TemplatePatch, response=TemplateOut
)
async def patch_template(call: Call):
    """Pause, resume or end a template (an ended one stays ended: 409 template_ended)."""
    hub, template_id = call.hub, call.path["id"]
    if await coupons.template(hub.db, template_id) is None:
        raise NotFound("no such coupon template")
    if not await coupons.set_status(hub.db, template_id, call.body.status):
        raise Conflict("this template has ended", "template_ended")
    await audit(call, "coupon.status", "coupon_template", template_id, {"to": call.body.status})
    return await _template_out(hub, template_id)


@router.route(
    "POST", "/api/admin/coupons/{id:int}/issue", roles=ADMIN, body=IssueIn, response=IssueOut
)
async def issue(call: Call):
    """Give one coupon of the template to each chosen customer (stock and the per-user limit
    hold; new-customer-only does not: staff chose them)."""
    hub, template_id = call.hub, call.path["id"]
    if await coupons.template(hub.db, template_id) is None:
        raise NotFound("no such coupon template")
    wanted = list(dict.fromkeys(call.body.user_ids))
    customers = await coupons.customers_among(hub.db, wanted)
    issued, refused = [], []
    for user_id in wanted:
        if user_id not in customers:
            refused.append({"userId": user_id, "code": "not_a_customer"})
            continue
        try:
            held = await coupons.claim(hub.db, template_id, user_id, "grant", utcnow())
            issued.append({"userId": user_id, "couponId": held["id"]})
        except coupons.Refused as exc:
            refused.append({"userId": user_id, "code": exc.code})
    await audit(call, "coupon.issue", "coupon_template", template_id, {"issued": len(issued)})
    return {"issued": issued, "refused": refused}


# --- customers -----------------------------------------------------------------------------------


def _offer_json(row: dict) -> dict:
    """A template as the coupon centre shows it (no counts but what is left)."""
    shown = coupons.template_json(row)
    keep = (
        "id name kind amountOff threshold percentOff maxOff serviceIds areaIds validFrom"
        " validTo validDays left perUser newCustomerOnly"
    ).split()
    return {k: shown[k] for k in keep}


@router.route("GET", "/api/coupons", roles=("customer",))
async def claimable(call: Call):
    """The templates this customer may still claim."""
    rows = await coupons.claimable(call.hub.db, call.me.user_id, utcnow())
    return {"items": [_offer_json(r) for r in rows], "total": len(rows)}


@router.route(
    "POST",
    "/api/coupons/{id:int}/claim",
    roles=("customer",),
    body=ClaimIn,
    response=CouponOut,
    status=201,
)
async def claim(call: Call):
    """Claim one coupon: 409 out_of_stock, limit_reached or not_eligible."""
    hub, me = call.hub, call.me
    await hub.limiter.hit(f"coupon-claim:{me.user_id}", CLAIMS_PER_MIN)
    now = utcnow()
    try:
        held = await coupons.claim(hub.db, call.path["id"], me.user_id, "claim", now)
    except coupons.Refused as exc:
        raise _refused(exc) from None
    return coupons.coupon_json(held, now)


@router.route("GET", "/api/me/coupons", roles=("customer",), query=MineQuery, response=CouponPage)
async def my_coupons(call: Call):
    """The customer's coupons, soonest to expire first; ?status=usable|locked|used|expired."""
    q, now = call.query, utcnow()
    rows, total = await coupons.mine(
        call.hub.db, call.me.user_id, q.status, now, q.limit, (q.page - 1) * q.limit
    )
    return {"items": [coupons.coupon_json(r, now) for r in rows], "total": total}


@router.route("GET", "/api/orders/{id:int}/coupons", roles=("customer",), response=OrderCouponsOut)
async def order_coupons(call: Call):
    """The customer's usable coupons against this order's payment, the best one suggested."""
    from hub.routes.payments import _what_to_pay  # payments imports this module

    hub, now = call.hub, utcnow()
    order = await visible_order(hub, call.me, call.path["id"])
    price = _price(order)
    try:
        kind, amount = await _what_to_pay(hub, order, None)
        payable = True
    except Conflict:  # nothing due yet (or any more): judged against the whole price
        kind, amount, payable = "full", price, False
    items = []
    for row in await coupons.usable(hub.db, call.me.user_id, now):
        why = coupon_moves.refusal(row, order, kind, price, now)
        off = 0 if why else coupon_moves.discount(row, price, amount)
        item = {"coupon": coupons.coupon_json(row, now), "usable": not why, "discount": off}
        item["refusal"] = {"code": why[0], "message": why[1]} if why else None
        items.append(item)
    # Usable first, the biggest discount first, and of equal ones the soonest to expire.
    items.sort(key=lambda i: (not i["usable"], -i["discount"], i["coupon"]["validTo"] or ""))
    suggested = None
    if items and items[0]["usable"] and items[0]["discount"] > 0:
        best = items[0]
        suggested = {"couponId": best["coupon"]["id"], "discount": best["discount"]}
        suggested["amount"] = amount - best["discount"]
    answer = {"kind": kind, "amount": amount, "payable": payable, "suggested": suggested}
    return answer | {"items": items}


# --- at prepay (hub/routes/payments.py) ----------------------------------------------------------


def _price(order: dict) -> int:
    """The order's whole price: what a threshold is judged against."""
    return order["final_amount"] or order["quoted_amount"] or order["estimated_amount"] or 0


async def prepay_discount(hub, me, coupon_id: int, order: dict, kind: str, amount: int) -> int:
    """Fen the customer's coupon takes off this payment, or the 409 naming why it cannot
    (404 when the coupon is not theirs)."""
    coupon = await coupons.held(hub.db, coupon_id, me.user_id)
    if coupon is None:
        raise NotFound("no such coupon")
    price = _price(order)
    if why := coupon_moves.refusal(coupon, order, kind, price, utcnow()):
        raise Conflict(why[1], why[0])
    return coupon_moves.discount(coupon, price, amount)


async def lock_for_payment(
    hub, me, coupon_id: int, payment_id: int, order_id: int, off: int
) -> None:
    """Bind the coupon to the payment just opened. The conditional update lets one payment
    have it: the loser's payment is abandoned (it never reached WeChat) and it is a 409."""
    if await coupons.lock(hub.db, coupon_id, me.user_id, payment_id, order_id, off):
        return
    await hub.payments.abandon(payment_id, "its coupon was taken by another payment")
    raise Conflict("this coupon is held by another payment", "coupon_in_use")


async def release_for_payment(hub, payment_id: int) -> None:
    """The payment never reached WeChat: its coupon is usable again."""
    await coupons.release(hub.db, payment_id)


async def welcome(hub, user_id: int) -> None:
    """A new customer's coupons, at their first login. A failure here never fails the login."""
    try:
        await coupons.welcome(hub.db, user_id, utcnow())
    except Exception:
        log.exception("welcome coupons for user %s", user_id)
