"""Masked calls (CONTRACT §13, docs/api.md "Masked calls"): the order's virtual number for its
two parties, the pool staff fill, and the call records Alibaba Cloud pushes.

The binding itself is made and released by the order's host (actors/contact.py); this module
only reads it, so the route answers from MySQL without a Ray call.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated

import orjson
from pydantic import Field

from actors.transitions import ASSIGNED
from adapters.clock import iso
from adapters.virtual_numbers import NumberStore
from hub.auth import ROLES, STAFF
from hub.errors import Conflict, NotFound, Unavailable
from hub.models import In, Out
from hub.router import Call, Router

router = Router("contact")

PENDING_WAIT_S = 3.0  # a binding made at accept is usually there within this
Number = Annotated[str, Field(pattern=r"^1[3-9]\d{9}$")]


class ContactOut(Out):
    virtual_number: str
    expires_at: str


class PoolIn(In):
    area_id: Annotated[int, Field(ge=1, le=2**62, strict=True)] | None = None
    numbers: Annotated[list[Number], Field(min_length=1, max_length=1000)]


class PoolItem(Out):
    number: str
    area_id: int | None
    order_id: int | None


class PoolOut(Out):
    items: list[PoolItem]
    added: int | None = None


async def _party_order(call: Call) -> dict:
    """The order if the caller is its customer or its provider; 404 for anyone else."""
    hub, me = call.hub, call.me
    row = await hub.orders.load(call.path["id"])
    if row is not None:
        if me.role == "customer" and row["customer_id"] == me.user_id:
            return row
        if me.role == "provider" and row["provider_id"] is not None:
            if await hub.provider_id(me.user_id) == row["provider_id"]:
                return row
    raise NotFound("no such order")


@router.route("GET", "/api/orders/{id:int}/contact", roles=ROLES, response=ContactOut)
async def order_contact(call: Call):
    """The masked number that connects the order's customer and provider (from accepted until
    the order ends)."""
    row = await _party_order(call)
    if row["status"] not in ASSIGNED:
        raise Conflict(f"the order is {row['status']}: no call between the parties", "not_live")
    numbers = NumberStore(call.hub.db)
    deadline = asyncio.get_running_loop().time() + PENDING_WAIT_S
    while True:
        binding = await numbers.binding(row["id"])
        state = binding["state"] if binding else None
        if state not in (None, "binding") or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.2)
    if state == "bound":
        return {"virtualNumber": binding["number"], "expiresAt": iso(binding["expires_at"])}
    if state == "no_number":
        raise Conflict("no virtual number is free in this area", "no_number_available")
    if state == "no_phone":
        raise Conflict("the provider has no phone bound", "no_phone")
    if state == "failed":
        raise Unavailable("the number service failed; retry", "number_unavailable")
    raise Conflict("the number is being bound; retry", "number_pending", retryAfter=2)


@router.route("GET", "/api/admin/virtual-numbers", roles=STAFF, response=PoolOut)
async def pool(call: Call):
    """The virtual number pool: each number, its area and the order holding it."""
    rows = await NumberStore(call.hub.db).pool()
    return {"items": [_pool_item(r) for r in rows]}


@router.route("POST", "/api/admin/virtual-numbers", roles=("admin",), body=PoolIn, response=PoolOut)
async def add_numbers(call: Call):
    """Add numbers bought for the privacy-number pool of an area (none: orders in no area)."""
    numbers = NumberStore(call.hub.db)
    added = await numbers.add(call.body.numbers, call.body.area_id)
    rows = await numbers.pool(call.body.area_id)
    return {"items": [_pool_item(r) for r in rows], "added": added}


def _pool_item(r: dict) -> dict:
    return {"number": r["number"], "areaId": r["area_id"], "orderId": r["order_id"]}


def _ack(code: int = 0, msg: str = "成功", status: int = 200):
    """Alibaba Cloud's push answer: code 0 is taken; anything else is pushed again."""
    if code == 0:
        return {"code": 0, "msg": msg}, status
    return {"code": "FAIL", "message": msg}, status


def _utc(beijing: str | None) -> datetime | None:
    if not beijing:
        return None
    return (datetime.strptime(beijing, "%Y-%m-%d %H:%M:%S") - timedelta(hours=8)).replace(
        tzinfo=UTC
    )


@router.route("POST", "/api/aliyun/pls/call-records", wechat_callback=True)
async def call_records(call: Call):
    """Call records (话单) of masked calls, pushed by Alibaba Cloud: signed, each onto its
    order's timeline once."""
    hub, request = call.hub, call.request
    body = await request.body()
    if len(body) > 256 * 1024:
        return _ack(1, "body too large", 413)
    if not hub.pls.record_is_authentic(
        request.headers.get("x-pls-timestamp", ""), request.headers.get("x-pls-signature", ""), body
    ):
        return _ack(1, "signature or timestamp did not verify", 401)
    try:
        records = orjson.loads(body)
        assert isinstance(records, list)
    except (orjson.JSONDecodeError, AssertionError):
        return _ack(1, "send a JSON array of records", 400)
    numbers = NumberStore(hub.db)
    for record in records:
        if not isinstance(record, dict) or record.get("pool_key") != hub.settings.pls_pool_key:
            continue
        detail = await _detail(hub, numbers, record)
        if detail is None:
            continue
        order_id, detail = detail
        answer = await hub.actors.order_call_record(order_id, detail)
        if not answer.get("ok"):
            return _ack(1, "the order could not take the record now", 503)
    return _ack()


async def _detail(hub, numbers: NumberStore, record: dict) -> tuple[int, dict] | None:
    """The record as a timeline event's detail — who called (by role, never by number),
    when, how long — or None when it is not one of our bindings."""
    out_id = str(record.get("out_id") or "")
    if not out_id.isdigit():
        return None
    binding = await numbers.binding(int(out_id))
    if binding is None or binding["subs_id"] != str(record.get("sub_id")):
        return None
    parties = await numbers.parties(binding["order_id"])
    caller = hub.vault.lookup_hash(str(record.get("phone_no", "")))
    who = "customer" if caller == parties["contact_phone_hash"] else "provider"
    if who == "provider" and caller != parties["provider_phone_hash"]:
        who = "unknown"
    started, ended = _utc(record.get("start_time")), _utc(record.get("release_time"))
    called = _utc(record.get("call_time"))
    return binding["order_id"], {
        "callId": str(record.get("call_id"))[:48],
        "from": who,
        "calledAt": iso(called) if called else None,
        "startedAt": iso(started) if started else None,
        "endedAt": iso(ended) if ended else None,
        "durationS": int((ended - started).total_seconds()) if started and ended else 0,
        "answered": started is not None,
    }
