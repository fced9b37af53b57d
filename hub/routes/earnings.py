"""CONTRACT §9: a provider's earnings and withdrawals, the staff's decisions on them, and the
platform's fee per service.

Earnings are the provider's account in the ledger (adapters/ledger.py): withdrawable once
their hold (HUB_EARNINGS_HOLD_S, default 7 days) has passed. A withdrawal reserves its amount
at once (adapters/withdrawals.py), so concurrent requests never take more than the balance;
an admin approves (paid out) or rejects (back to the balance); the provider may cancel while
it is requested. A withdrawal of someone else is a 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field
from pydantic.alias_generators import to_camel

from adapters import ledger, withdrawals
from adapters.clock import iso
from hub.audit import audit
from hub.auth import STAFF
from hub.errors import Conflict, NotFound
from hub.models import In, NoBody, Out
from hub.router import Call, Router

router = Router("earnings")
ADMIN = ("admin",)
PROVIDER = ("provider",)

Page = Annotated[int, Field(ge=1, le=100_000)]
Limit = Annotated[int, Field(ge=1, le=100)]


class PageQuery(In):
    page: Page = 1
    limit: Limit = 20


class WithdrawalQuery(In):
    status: Literal[withdrawals.STATUSES] | None = None
    provider_id: Annotated[int, Field(ge=1, le=2**62)] | None = None
    page: Page = 1
    limit: Limit = 20


class WithdrawalIn(In):
    amount: Annotated[int, Field(ge=1, le=10**10, strict=True, description="fen")]


class ApproveIn(In):
    note: Annotated[str, Field(max_length=500)] = ""


class RejectIn(In):
    note: Annotated[str, Field(min_length=1, max_length=500)]


class FeeIn(In):
    fee_rate_bp: Annotated[
        int, Field(ge=0, le=10_000, strict=True, description="basis points: 2000 = 20 %")
    ]


class EntryOut(Out):
    id: int
    kind: str
    amount: int
    order_id: int | None
    payment_id: int | None
    refund_id: int | None
    withdrawal_id: int | None
    available_at: str | None
    created_at: str | None


class EarningsOut(Out):
    balance: int = Field(description="withdrawable now, fen")
    pending: int = Field(description="earned, still held")
    requested: int = Field(description="in withdrawals awaiting a decision")
    withdrawn: int
    items: list[EntryOut]
    total: int


class WithdrawalOut(Out):
    id: int
    provider_id: int
    provider_name: str
    amount: int
    status: str
    note: str | None
    decided_by: int | None
    created_at: str | None
    decided_at: str | None


class WithdrawalPage(Out):
    items: list[WithdrawalOut]
    total: int


class ServiceFeeOut(Out):
    id: int
    category: str
    name: str
    fee_rate_bp: int


def _shaped(row: dict, keys: tuple[str, ...]) -> dict:
    """The row's `keys` in camelCase, times as the API writes them."""
    return {to_camel(k): iso(v) if isinstance(v := row[k], datetime) else v for k in keys}


def entry_json(row: dict) -> dict:
    return _shaped(row, tuple(EntryOut.model_fields))


def withdrawal_json(row: dict) -> dict:
    return _shaped(row, tuple(WithdrawalOut.model_fields))


def fee_json(row: dict) -> dict:
    return _shaped(row, tuple(ServiceFeeOut.model_fields))


def _move(path: str, roles: tuple[str, ...], body):
    """A POST that moves a withdrawal and answers it."""
    return router.route("POST", path, roles=roles, body=body, response=WithdrawalOut)


async def _my_provider(call: Call) -> int:
    pid = await call.hub.provider_id(call.me.user_id)
    if pid is None:
        raise NotFound("no provider profile: apply first", "no_provider_profile")
    return pid


# --- the provider -----------------------------------------------------------------------------


@router.route("GET", "/api/me/earnings", roles=PROVIDER, query=PageQuery, response=EarningsOut)
async def my_earnings(call: Call):
    """Your balance (withdrawable now), pending (still held), requested and withdrawn fen, and
    your earnings' movements, newest first."""
    db, q = call.hub.db, call.query
    pid = await call.hub.provider_id(call.me.user_id)
    if pid is None:
        zero = {"balance": 0, "pending": 0, "requested": 0, "withdrawn": 0}
        return {**zero, "items": [], "total": 0}
    rows, count = await ledger.entries_for_provider(db, pid, q.page, q.limit)
    balance = await ledger.provider_balance(db, pid)
    return {**balance, "items": [entry_json(r) for r in rows], "total": count}


@router.route(
    "POST",
    "/api/me/withdrawals",
    roles=PROVIDER,
    body=WithdrawalIn,
    response=WithdrawalOut,
    status=201,
)
async def request_withdrawal(call: Call):
    """Withdraw `amount` fen of your balance: reserved at once, then decided by an admin."""
    pid = await _my_provider(call)
    try:
        row = await withdrawals.request(call.hub.db, pid, call.body.amount)
    except withdrawals.InsufficientBalance as exc:
        raise Conflict(
            f"only {exc.balance} fen can be withdrawn now",
            "insufficient_balance",
            balance=exc.balance,
        ) from None
    except withdrawals.NoProvider:
        raise NotFound("no provider profile: apply first", "no_provider_profile") from None
    return withdrawal_json(row)


@router.route(
    "GET", "/api/me/withdrawals", roles=PROVIDER, query=PageQuery, response=WithdrawalPage
)
async def my_withdrawals(call: Call):
    """Your withdrawals, newest first."""
    q = call.query
    pid = await call.hub.provider_id(call.me.user_id)
    if pid is None:
        return {"items": [], "total": 0}
    rows, count = await withdrawals.page(call.hub.db, provider_id=pid, page=q.page, limit=q.limit)
    return {"items": [withdrawal_json(r) for r in rows], "total": count}


@router.route("GET", "/api/me/withdrawals/{id:int}", roles=PROVIDER, response=WithdrawalOut)
async def my_withdrawal(call: Call):
    """One of your withdrawals."""
    pid = await call.hub.provider_id(call.me.user_id)
    row = await withdrawals.load(call.hub.db, call.path["id"])
    if row is None or pid is None or row["provider_id"] != pid:
        raise NotFound("no such withdrawal")
    return withdrawal_json(row)


@_move("/api/me/withdrawals/{id:int}/cancel", PROVIDER, NoBody)
async def cancel_withdrawal(call: Call):
    """Take back a withdrawal still awaiting a decision: its amount is withdrawable again."""
    pid = await call.hub.provider_id(call.me.user_id)
    if pid is None:
        raise NotFound("no such withdrawal")
    return await _decide(call, "cancelled", None, pid)


# --- staff ------------------------------------------------------------------------------------


@router.route(
    "GET", "/api/admin/withdrawals", roles=STAFF, query=WithdrawalQuery, response=WithdrawalPage
)
async def list_withdrawals(call: Call):
    """Withdrawals newest first: all, or in one status, or of one provider."""
    q = call.query
    rows, count = await withdrawals.page(
        call.hub.db, provider_id=q.provider_id, status=q.status, page=q.page, limit=q.limit
    )
    return {"items": [withdrawal_json(r) for r in rows], "total": count}


@_move("/api/admin/withdrawals/{id:int}/approve", ADMIN, ApproveIn)
async def approve_withdrawal(call: Call):
    """Approve a requested withdrawal: its amount is paid out (withdrawn)."""
    return await _decide(call, "approved", call.body.note or None)


@_move("/api/admin/withdrawals/{id:int}/reject", ADMIN, RejectIn)
async def reject_withdrawal(call: Call):
    """Reject a requested withdrawal, saying why: its amount is withdrawable again."""
    return await _decide(call, "rejected", call.body.note)


async def _decide(call: Call, outcome: str, note: str | None, provider_id: int | None = None):
    wid = call.path["id"]
    try:
        row = await withdrawals.decide(
            call.hub.db, wid, outcome, call.me.user_id, note, provider_id=provider_id
        )
    except withdrawals.InvalidTransition as exc:
        raise Conflict(f"the withdrawal is {exc.status}", "invalid_transition") from None
    if row is None:
        raise NotFound("no such withdrawal")
    detail = {"providerId": row["provider_id"], "amount": row["amount"], "note": note}
    await audit(call, f"withdrawal.{outcome}", "withdrawal", wid, detail)
    if outcome in ("approved", "rejected"):  # the provider hears of it, in the background
        call.hub.notifier.later(call.hub.notifier.withdrawal_result, row)
    return withdrawal_json(row)


# --- the platform's fee per service (admin) ---------------------------------------------------


@router.route("GET", "/api/admin/service-fees", roles=ADMIN, response=list[ServiceFeeOut])
async def service_fees(call: Call):
    """Every service with the platform's fee on it, in basis points."""
    return [fee_json(r) for r in await ledger.service_fees(call.hub.db)]


@router.route(
    "PATCH",
    "/api/admin/services/{id:int}/fee",
    roles=ADMIN,
    body=FeeIn,
    response=ServiceFeeOut,
)
async def set_service_fee(call: Call):
    """Set the platform's fee on a service (basis points of each payment made from now on)."""
    sid = call.path["id"]
    row = await ledger.set_fee_rate(call.hub.db, sid, call.body.fee_rate_bp)
    if row is None:
        raise NotFound("no such service")
    await audit(call, "service.fee", "service", sid, {"feeRateBp": call.body.fee_rate_bp})
    return fee_json(row)
