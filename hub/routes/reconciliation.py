"""CONTRACT §9: the daily reconciliation of the hub's payments and refunds against WeChat
Pay's trade bill (adapters/reconciliation.py parses and compares).

The day is China's (UTC+8), as WeChat's bills are: the hub's side is the payments paid and the
refunds asked in [date 00:00, next day 00:00) +08:00. A day WeChat has no bill for
(NO_STATEMENT_EXIST) is compared with an empty bill, and says so (`wechatBill: false`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field

from adapters import ledger
from adapters.reconciliation import CHINA_OFFSET, Bill, BillError, china_day, compare, parse_bill
from adapters.wechat_pay import PayRefused, PayUnavailable
from hub.errors import ApiError, Invalid, Unavailable
from hub.models import In, Out
from hub.router import Call, Router

router = Router("reconciliation")
ADMIN = ("admin",)


class DayQuery(In):
    date: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD, China")]


class MismatchOut(Out):
    type: str
    out_trade_no: str
    out_refund_no: str | None
    kind: str
    hub: int | None
    wechat: int | None


class Report(Out):
    date: str
    wechat_bill: bool
    hub_count: int
    wechat_count: int
    hub_total: int
    wechat_total: int
    hub_refund_count: int
    wechat_refund_count: int
    hub_refund_total: int
    wechat_refund_total: int
    mismatches: list[MismatchOut]


def _day(date: str) -> tuple[datetime, datetime]:
    try:
        start, end = china_day(date)
    except ValueError:
        raise Invalid("date: not a date", fields=[{"field": "date"}]) from None
    today = (datetime.now(UTC).replace(tzinfo=None) + CHINA_OFFSET).date()
    if start + CHINA_OFFSET > datetime.combine(today, datetime.min.time()):
        raise Invalid("date: a day to come has no bill", fields=[{"field": "date"}])
    return start, end


async def _bill(pay, date: str) -> tuple[Bill, bool]:
    try:
        raw = await pay.trade_bill(date)
    except PayRefused as exc:
        if exc.code == "NO_STATEMENT_EXIST":
            return Bill(), False
        raise ApiError(f"WeChat Pay refused the bill: {exc}", "wechat_refused", 502) from exc
    except PayUnavailable as exc:
        raise Unavailable("WeChat Pay did not answer; try again", "wechat_unavailable") from exc
    if raw is None:  # the gateway's word for NO_STATEMENT_EXIST
        return Bill(), False
    try:
        return parse_bill(raw), True
    except BillError as exc:
        raise ApiError(f"the trade bill is unreadable: {exc}", "bad_bill", 502) from exc


@router.route("GET", "/api/admin/reconciliation", roles=ADMIN, query=DayQuery, response=Report)
async def reconcile(call: Call):
    """A day's payments and refunds against WeChat Pay's trade bill, every mismatch listed."""
    hub, date = call.hub, call.query.date
    start, end = _day(date)
    bill, has_bill = await _bill(hub.pay, date)
    payments = await hub.payments.paid_between(start, end)
    refunds = await ledger.refunds_between(hub.db, start, end)
    return compare(date, payments, refunds, bill, has_bill)
