"""The console's dashboard (issue #11): a China day's orders, money, providers and times, for
staff. The figures and their definitions are adapters/dashboard.py's; docs/api.md lists them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field

from adapters import dashboard
from adapters.reconciliation import CHINA_OFFSET, china_day
from hub.auth import STAFF
from hub.errors import Invalid
from hub.models import In
from hub.router import Call, Router

router = Router("dashboard")


class DashboardQuery(In):
    date: Annotated[
        str | None, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD, China; today")
    ] = None
    days: Annotated[int, Field(ge=1, le=92, description="days in the by-day chart")] = 14


def china_today() -> str:
    return (datetime.now(UTC).replace(tzinfo=None) + CHINA_OFFSET).date().isoformat()


def day_bounds(date: str | None) -> tuple[str, datetime, datetime]:
    """(date, start, end) of a China day in naive UTC; today when `date` is None."""
    date = date or china_today()
    try:
        start, end = china_day(date)
    except ValueError:
        raise Invalid("date: not a date", fields=[{"field": "date"}]) from None
    return date, start, end


@router.route("GET", "/api/admin/dashboard", roles=STAFF, query=DashboardQuery)
async def get_dashboard(call: Call):
    """A China day's figures: orders by status, revenue, providers, times, hourly and daily."""
    date, start, end = day_bounds(call.query.date)
    figures = await dashboard.day_summary(call.hub.db, start, end, call.query.days)
    return {"date": date, "generatedAt": datetime.now(UTC).isoformat(), **figures}
