"""CONTRACT §8: complaints as after-sales work orders. The order's customer or its provider
raises one; staff move it `open → handling → resolved | rejected`, each move with a note; its
parties and staff see its whole history. Anyone else gets a 404."""

from __future__ import annotations

from adapters import complaints
from adapters.clock import iso
from hub.audit import audit
from hub.auth import ROLES, STAFF, Principal
from hub.errors import Conflict, NotFound
from hub.review_models import (
    ComplaintIn,
    ComplaintList,
    ComplaintListQuery,
    ComplaintMove,
    ComplaintOut,
    ComplaintPage,
)
from hub.router import Call, Router
from hub.routes.reviews import alert_staff, json_list

router = Router("complaints")

# Who may raise complaints: this many per user per window (a fixed window, shared by hubs).
COMPLAINTS_PER_WINDOW = 5
WINDOW_S = 600
ORDER_COMPLAINTS = "/api/orders/{id:int}/complaints"
PARTIES = ("customer", "provider")
MOVE = "/api/admin/complaints/{id:int}/status"
NEXT = {"open": ("handling",), "handling": ("resolved", "rejected")}


# The columns shown as they are: (API key, column).
_PLAIN = (
    ("id", "id"),
    ("orderId", "order_id"),
    ("kind", "kind"),
    ("text", "text"),
    ("status", "status"),
    ("raisedBy", "raised_by_role"),
)


def complaint_json(row: dict, history: list[dict]) -> dict:
    """A complaint with its history: every status it took, who moved it, when, the note."""
    out = {key: row[column] for key, column in _PLAIN}
    out.update(
        images=json_list(row["images"]),
        history=[
            {
                "status": h["status"],
                "fromStatus": h["from_status"],
                "by": h["by_role"],
                "byUserId": h["by_user_id"],
                "note": h["note"],
                "at": iso(h["created_at"]),
            }
            for h in history
        ],
        createdAt=iso(row["created_at"]),
        updatedAt=iso(row["updated_at"]),
    )
    return out


async def _shaped(db, rows: list[dict]) -> list[dict]:
    history = await complaints.histories(db, [r["id"] for r in rows])
    return [complaint_json(r, history[r["id"]]) for r in rows]


class Caller:
    """The caller and, for a provider, their provider id: who is a party to what."""

    def __init__(self, me: Principal, provider_id: int | None):
        self.me, self.pid = me, provider_id

    @classmethod
    async def of(cls, call: Call) -> Caller:
        me = call.me
        pid = await call.hub.provider_id(me.user_id) if me.role == "provider" else None
        return cls(me, pid)

    def party(self, row: dict) -> bool:
        """A party to an order or a complaint: its customer, or its provider."""
        if self.me.role == "customer":
            return row["customer_id"] == self.me.user_id
        return self.pid is not None and row["provider_id"] == self.pid

    def sees(self, row: dict) -> bool:
        return self.me.is_staff or self.party(row)


@router.route(
    "POST", ORDER_COMPLAINTS, roles=PARTIES, body=ComplaintIn, response=ComplaintOut, status=201
)
async def raise_complaint(call: Call):
    """Complain about an order of yours (its customer or its provider); staff are alerted."""
    hub, b, me = call.hub, call.body, call.me
    caller = await Caller.of(call)
    order = await hub.orders.load(call.path["id"])
    if order is None or not caller.party(order):
        raise NotFound("no such order")
    await hub.limiter.hit(f"complaint:{me.user_id}", COMPLAINTS_PER_WINDOW, WINDOW_S)
    cid = await complaints.create(hub.db, order, me.role, me.user_id, b.model_dump())
    await alert_staff(
        hub, "complaint", complaintId=cid, orderId=order["id"], kindOfComplaint=b.kind
    )
    return (await _shaped(hub.db, [await complaints.load(hub.db, cid)]))[0]


@router.route("GET", ORDER_COMPLAINTS, roles=ROLES, response=ComplaintList)
async def order_complaints(call: Call):
    """The order's complaints you are a party to (staff: all), each with its history."""
    hub = call.hub
    caller = await Caller.of(call)
    order = await hub.orders.load(call.path["id"])
    if order is None:
        raise NotFound("no such order")
    rows = [r for r in await complaints.for_order(hub.db, order["id"]) if caller.sees(r)]
    if not (rows or caller.sees(order)):
        raise NotFound("no such order")
    return {"items": await _shaped(hub.db, rows)}


@router.route("GET", "/api/complaints/{id:int}", roles=ROLES, response=ComplaintOut)
async def get_complaint(call: Call):
    """One complaint with its history, for its parties and staff."""
    caller = await Caller.of(call)
    row = await _complaint(call, call.path["id"])
    if not caller.sees(row):
        raise NotFound("no such complaint")
    return (await _shaped(call.hub.db, [row]))[0]


@router.route(
    "GET", "/api/admin/complaints", roles=STAFF, query=ComplaintListQuery, response=ComplaintPage
)
async def list_complaints(call: Call):
    """Complaints for the console, newest first, optionally in one status."""
    q = call.query
    rows, total = await complaints.page(call.hub.db, q.status, q.limit, (q.page - 1) * q.limit)
    return {"items": await _shaped(call.hub.db, rows), "total": total}


@router.route("POST", MOVE, roles=STAFF, body=ComplaintMove, response=ComplaintOut)
async def move_complaint(call: Call):
    """Move a complaint on (open → handling → resolved | rejected), with a note."""
    hub, b, me, cid = call.hub, call.body, call.me, call.path["id"]
    row = await _complaint(call, cid)
    if b.status not in NEXT.get(row["status"], ()):
        raise Conflict(
            f"a complaint goes open → handling → resolved | rejected; this one is {row['status']}",
            "invalid_transition",
        )
    if not await complaints.move(hub.db, cid, row["status"], b.status, me.role, me.user_id, b.note):
        raise Conflict("the complaint changed meanwhile: read it again", "conflict")
    await audit(
        call, f"complaint.{b.status}", "complaint", cid, {"from": row["status"], "note": b.note}
    )
    return (await _shaped(hub.db, [await _complaint(call, cid)]))[0]


async def _complaint(call: Call, cid: int) -> dict:
    row = await complaints.load(call.hub.db, cid)
    if row is None:
        raise NotFound("no such complaint")
    return row
