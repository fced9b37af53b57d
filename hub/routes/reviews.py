"""CONTRACT §8: a customer reviews a completed order once, the provider replies once, and
anyone reads a provider's reviews with their summary. A low review alerts staff."""

from __future__ import annotations

import logging

import orjson

from adapters import console_alerts, providers, reviews
from adapters.clock import iso
from hub.errors import Conflict, NotFound, duplicate_is_conflict
from hub.review_models import (
    PublicReviewOut,
    ReplyIn,
    ReviewIn,
    ReviewListQuery,
    ReviewOut,
    ReviewPage,
)
from hub.router import Call, Router

router = Router("reviews")
log = logging.getLogger("orderhub.reviews")

ANONYMOUS = "匿名"
LOW_RATING = 2  # a review rated this or less alerts staff
CUSTOMER = ("customer",)
REVIEW_ORDER = "/api/orders/{id:int}/review"
REPLY = "/api/reviews/{id:int}/reply"


async def alert_staff(hub, kind: str, **detail) -> None:
    """A `console.update` alert to the staff room. What it reports is written already, so a
    failed emit is logged, not answered as a failure. It is kept first (its `alertId`), so
    staff acknowledge it on the hub (adapters/console_alerts.py)."""
    try:
        detail["alertId"] = await console_alerts.record(hub.db, kind, detail)
    except Exception:
        log.exception("staff alert %s not kept: %s", kind, detail)
    try:
        await hub.sio.emit(
            "console.update", {"type": "alert", "kind": kind, **detail}, room="staff"
        )
    except Exception:
        log.exception("staff alert %s not sent: %s", kind, detail)


def json_list(value) -> list:
    """A JSON array column as a list (NULL: empty)."""
    return orjson.loads(value) if isinstance(value, str | bytes) else (value or [])


def review_json(row: dict, author: bool = False) -> dict:
    """A review as anyone may see it (the customer only by nickname, or "匿名"); `author`
    adds what its customer sees: the order, the provider and the anonymous flag."""
    out = {
        "id": row["id"],
        "rating": row["rating"],
        "serviceRating": row["service_rating"],
        "qualityRating": row["quality_rating"],
        "speedRating": row["speed_rating"],
        "content": row["content"] or "",
        "tags": json_list(row["tags"]),
        "images": json_list(row["images"]),
        "reply": row["reply"],
        "repliedAt": iso(row["replied_at"]),
        "at": iso(row["created_at"]),
        "customer": ANONYMOUS if row["anonymous"] else row["nickname"],
    }
    if author:
        out.update(
            orderId=row["order_id"], providerId=row["provider_id"], anonymous=bool(row["anonymous"])
        )
    return out


@router.route("POST", REVIEW_ORDER, roles=CUSTOMER, body=ReviewIn, response=ReviewOut, status=201)
async def review_order(call: Call):
    """Review a completed order of yours, once; the provider's rating follows."""
    hub, b, me = call.hub, call.body, call.me
    order = await hub.orders.load(call.path["id"])
    if order is None or order["customer_id"] != me.user_id:
        raise NotFound("no such order")
    if order["status"] != "completed" or order["provider_id"] is None:
        raise Conflict("an order can be reviewed once it is completed", "not_completed")
    review = {**b.model_dump(), "tags": list(dict.fromkeys(b.tags))}  # a tag counts once
    with duplicate_is_conflict("this order has been reviewed already", "already_reviewed"):
        review_id, rating = await reviews.add(hub.db, order, review)
    # An online provider's actor scores with the new rating (offline: read when it loads).
    await hub.actors.provider(order["provider_id"], "rerate", float(rating))
    if b.rating <= LOW_RATING:
        await alert_staff(
            hub,
            "low_review",
            orderId=order["id"],
            providerId=order["provider_id"],
            reviewId=review_id,
            rating=b.rating,
        )
    return review_json(await reviews.load(hub.db, review_id), author=True)


@router.route("POST", REPLY, roles=("provider",), body=ReplyIn, response=PublicReviewOut)
async def reply(call: Call):
    """Answer a review of your work, once."""
    hub, rid = call.hub, call.path["id"]
    pid = await hub.provider_id(call.me.user_id)
    row = await reviews.load(hub.db, rid)
    if row is None or pid is None or row["provider_id"] != pid:
        raise NotFound("no such review")
    if not await reviews.reply(hub.db, rid, call.body.content):
        raise Conflict("this review has a reply already", "already_replied")
    return review_json(await reviews.load(hub.db, rid))


@router.route("GET", "/api/providers/{id:int}/reviews", query=ReviewListQuery, response=ReviewPage)
async def provider_reviews(call: Call):
    """A provider's visible reviews, newest first, with their summary (public)."""
    db, pid, q = call.hub.db, call.path["id"], call.query
    provider = await providers.load(db, pid)
    if provider is None:
        raise NotFound("no such provider")
    rows, total = await reviews.page(db, pid, q.limit, (q.page - 1) * q.limit)
    summary = await reviews.summary(db, pid)
    return {
        "items": [review_json(r) for r in rows],
        "total": total,
        "summary": {"rating": float(provider["rating"]), **summary},
    }
