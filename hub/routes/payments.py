"""CONTRACT §6: paying for an order with WeChat Pay (JSAPI from the mini program).

The hub computes every amount; a client never sends one. A payment's life after its prepay
(notifications, queries, expiry) belongs to its actor (actors/payment.py); the order's
paymentStatus follows, as order events.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta
from typing import Annotated, Literal

import orjson
from pydantic import Field

from actors.transitions import TERMINAL
from adapters import accounts, catalog
from adapters.clock import iso, utcnow
from adapters.mysql import is_duplicate
from adapters.payments import payment_json, refund_json
from adapters.wechat_pay import PayRefused, PayUnavailable
from hub.audit import audit
from hub.errors import Conflict, NotFound, Unavailable
from hub.models import Id, In, Out
from hub.router import Call, Router
from hub.routes import coupons
from hub.routes.orders import raise_for, visible_order

router = Router("payments")

STAFF = ("dispatcher", "admin")
REFUNDABLE = ("paid", "refunding")


class PaymentIn(In):
    order_id: Id
    kind: Literal["deposit", "balance", "full"] | None = None
    coupon_id: Id | None = None


class PaymentParams(Out):
    app_id: str
    time_stamp: str
    nonce_str: str
    package: str
    sign_type: str
    pay_sign: str


class PrepayOut(Out):
    payment_id: int
    out_trade_no: str
    kind: str
    amount: int
    expires_at: str
    payment_params: PaymentParams


class PaymentOut(Out):
    id: int
    order_id: int
    kind: str
    amount: Annotated[int, Field(ge=0)]
    status: str
    out_trade_no: str
    transaction_id: str | None
    paid_at: str | None
    expires_at: str | None
    refunded_amount: int
    refunds: list[dict]
    created_at: str | None


def _json(value):
    """A JSON column: MariaDB hands it back as text."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _prepay_json(row: dict) -> dict:
    return {
        "paymentId": row["id"],
        "outTradeNo": row["out_trade_no"],
        "kind": row["kind"],
        "amount": row["amount"],
        "expiresAt": iso(row["expires_at"]),
        "paymentParams": _json(row["pay_params"]),
    }


async def _what_to_pay(hub, order: dict, kind: str | None) -> tuple[str, int]:
    """(kind, amount) the hub asks for now, or a 409 saying why nothing is due."""
    payments = await hub.payments.of_order(order["id"])
    paid = {p["kind"]: p["amount"] for p in payments if p["status"] == "paid"}
    if "full" in paid or "balance" in paid:
        raise Conflict("this order is paid", "already_paid")
    area = await catalog.area(hub.db, order["area_id"]) if order["area_id"] else None
    deposit = (area or {}).get("deposit_amount")
    done = order["status"] == "completed"
    if kind is None:
        kind = ("balance" if "deposit" in paid else "full") if done else "deposit"
    if kind == "deposit":
        if not deposit or done or order["status"] in TERMINAL:
            raise Conflict("nothing is due before the service", "not_payable_yet")
        if "deposit" in paid:
            raise Conflict("the deposit is paid", "already_paid")
        return kind, min(deposit, order["estimated_amount"])
    if not done:
        raise Conflict("the price is paid after the service", "not_payable_yet")
    final = order["final_amount"]
    if kind == "balance":
        if "deposit" not in paid:
            raise Conflict("no deposit was paid: pay in full", "no_deposit")
        return kind, max(final - paid["deposit"], 0)
    if "deposit" in paid:
        raise Conflict("a deposit was paid: pay the balance", "deposit_paid")
    return kind, final


async def _wait_for_params(hub, order_id: int, kind: str) -> dict:
    """The open payment, once its prepay is made (a racing request may be making it)."""
    for _ in range(50):
        row = await hub.payments.open_for(order_id, kind)
        if row is not None and row["pay_params"]:
            return row
        await asyncio.sleep(0.1)
    raise Conflict("this payment is being prepared; ask again", "payment_in_progress")


@router.route(
    "POST", "/api/payments", roles=("customer",), body=PaymentIn, response=PrepayOut, status=201
)
async def prepay(call: Call):
    """Prepay an order's payment: what `wx.requestPayment` takes. Asking again while it is
    open answers the same payment."""
    hub, b, me = call.hub, call.body, call.me
    order = await visible_order(hub, me, b.order_id)
    kind, amount = await _what_to_pay(hub, order, b.kind)
    if await hub.payments.open_for(order["id"], kind):  # asked again: the same payment
        return _prepay_json(await _wait_for_params(hub, order["id"], kind)), 200
    if amount <= 0:
        raise Conflict("nothing is left to pay", "already_paid")
    discount = 0  # a coupon's (CONTRACT §12): locked to this payment once it exists
    if b.coupon_id is not None:
        discount = await coupons.prepay_discount(hub, me, b.coupon_id, order, kind, amount)
        amount -= discount
    user = await accounts.user(hub.db, me.user_id)
    expires_at = utcnow() + timedelta(seconds=hub.settings.pay_ttl_s)
    out_trade_no = f"OH{order['id']}{kind[0].upper()}{secrets.token_hex(6).upper()}"
    try:
        payment_id = await hub.payments.create(
            {
                "order_id": order["id"],
                "kind": kind,
                "customer_id": me.user_id,
                "payer_openid": user["openid"] or "",
                "amount": amount,
                "out_trade_no": out_trade_no,
                "expires_at": expires_at,
            }
        )
    except Exception as exc:
        if is_duplicate(exc):  # a racing request opened it first
            return _prepay_json(await _wait_for_params(hub, order["id"], kind)), 200
        raise
    if b.coupon_id is not None:
        await coupons.lock_for_payment(hub, me, b.coupon_id, payment_id, order["id"], discount)
    try:
        prepay_id = await hub.pay.prepay(
            out_trade_no=out_trade_no,
            description=f"上门服务 {order['order_no']}",
            total=amount,
            openid=user["openid"] or "",
            expires_at=expires_at,
        )
    except (PayUnavailable, PayRefused) as exc:
        await hub.payments.abandon(payment_id, str(exc))
        await coupons.release_for_payment(hub, payment_id)
        raise Unavailable("WeChat Pay did not answer; try again", "wechat_unavailable") from exc
    await hub.payments.set_prepay(payment_id, prepay_id, hub.pay.pay_params(prepay_id))
    await hub.actors.payment_activate(payment_id)
    paid_with = {"couponId": b.coupon_id, "discount": discount}
    return _prepay_json(await hub.payments.load(payment_id)) | paid_with


async def _visible_payment(call: Call, payment_id: int) -> dict:
    row = await call.hub.payments.load(payment_id)
    me = call.me
    if row is None or not (me.is_staff or row["customer_id"] == me.user_id):
        raise NotFound("no such payment")
    return row


@router.route("GET", "/api/payments/{id:int}", roles=("customer", *STAFF), response=PaymentOut)
async def get_payment(call: Call):
    """A payment; while it is open WeChat Pay is asked too, so a lost notification never
    leaves it unpaid."""
    row = await _visible_payment(call, call.path["id"])
    if row["status"] == "open":
        answer = raise_for(await call.hub.actors.payment(row["id"], "refresh"))
        return answer["payment"]
    return payment_json(row, await call.hub.payments.refunds_of(row["id"]))


@router.route("GET", "/api/orders/{id:int}/payments", roles=("customer", "provider", *STAFF))
async def order_payments(call: Call):
    """The order's payments, oldest first (its parties and staff)."""
    order = await visible_order(call.hub, call.me, call.path["id"])
    rows = await call.hub.payments.of_order(order["id"])
    return {"items": [payment_json(r) for r in rows]}


class RefundIn(In):
    reason: Annotated[str, Field(min_length=1, max_length=80)]
    amount: Annotated[int, Field(ge=1, le=10_000_000, strict=True)] | None = None
    payment_id: Id | None = None


@router.route("POST", "/api/orders/{id:int}/refund", roles=STAFF, body=RefundIn, status=201)
async def refund(call: Call):
    """Give money back (staff): the whole of what is left by default. Asking again while a
    refund of the same amount is under way answers that refund: it refunds once."""
    hub, b = call.hub, call.body
    order = await visible_order(hub, call.me, call.path["id"])
    payments = await hub.payments.of_order(order["id"])
    if b.payment_id is not None:
        payments = [p for p in payments if p["id"] == b.payment_id]
    paid = [p for p in payments if p["status"] in REFUNDABLE]
    if not paid:
        if any(p["status"] == "refunded" for p in payments):
            raise Conflict("all of it was refunded", "already_refunded")
        raise Conflict("nothing of this order is paid", "not_paid")
    payment = paid[-1]
    for earlier in await hub.payments.refunds_of(payment["id"]):
        if earlier["status"] == "processing" and earlier["amount"] == (
            b.amount or earlier["amount"]
        ):
            return {"refund": refund_json(earlier), "paymentId": payment["id"]}, 200
    left = payment["amount"] - payment["refund_amount"]
    amount = b.amount or left
    if left <= 0 or amount > left:
        raise Conflict(
            f"{left} fen is left to refund on payment {payment['id']}", "above_refundable"
        )
    number = f"RF{payment['id']}X{secrets.token_hex(6).upper()}"
    answer = raise_for(
        await hub.actors.payment(payment["id"], "refund", number, amount, b.reason, call.me.user_id)
    )
    await audit(call, "payment.refund", "payment", payment["id"], {"amount": amount, "no": number})
    return {"refund": refund_json(answer["refund"]), "paymentId": payment["id"]}


def _wechat_fail(status: int, message: str):
    """WeChat Pay's answer to a notification it should send again (or not, if forged)."""
    return {"code": "FAIL", "message": message}, status


@router.route("POST", "/api/payments/wechat/notify", wechat_callback=True)
async def wechat_notify(call: Call):
    """WeChat Pay's v3 payment notification: verified, decrypted, checked against the
    payment, applied once. Answers WeChat's own shape."""

    async def payment_of(resource: dict) -> int | None:
        row = await call.hub.payments.by_out_trade_no(str(resource.get("out_trade_no")))
        return row["id"] if row else None

    return await _notified(call, "TRANSACTION.SUCCESS", payment_of, "notified")


@router.route("POST", "/api/payments/wechat/refund-notify", wechat_callback=True)
async def wechat_refund_notify(call: Call):
    """WeChat Pay's v3 refund notification: verified, decrypted, applied once."""

    async def payment_of(resource: dict) -> int | None:
        row = await call.hub.payments.refund(str(resource.get("out_refund_no")))
        return row["payment_id"] if row else None

    return await _notified(call, "REFUND.", payment_of, "refund_notified")


async def _notified(call: Call, event: str, payment_of, message: str):
    """What every WeChat Pay notification goes through: its size, signature, timestamp and
    encryption, its event type (`event`, or a prefix ending in a dot), the payment it names;
    then it is `message` to that payment's actor."""
    body = await call.request.body()
    if len(body) > 64 * 1024:
        return _wechat_fail(413, "body too large")
    notice = call.hub.pay.verify(dict(call.request.headers), body)
    if notice is None:
        return _wechat_fail(401, "signature, timestamp or encryption did not verify")
    resource, kind = notice.get("resource"), str(notice.get("event_type", ""))
    wanted = kind.startswith(event) if event.endswith(".") else kind == event
    if not wanted or not isinstance(resource, dict):
        return _wechat_fail(400, f"not a {event} notification")
    payment_id = await payment_of(resource)
    if payment_id is None:
        return _wechat_fail(400, "it names no payment of ours")
    answer = await call.hub.actors.payment(payment_id, message, resource)
    if not answer["ok"]:
        status = answer.get("status", 400)
        return _wechat_fail(status if status < 500 else 500, answer["error"]["message"])
    return {"code": "SUCCESS", "message": "成功"}, 200
