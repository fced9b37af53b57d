"""The console's downloads (issue #11): a China day's orders and payments as Excel, and the
daily report as PDF, for staff only; the coupon templates' figures as Excel, for admins (as
GET /api/admin/coupons). Files, not JSON: plain Starlette routes (as
hub/routes/uploads.py), registered by hub/app.py through `routes()`. Each download is audited
(an export is data leaving the hub)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters import coupons, dashboard, exports, exports_pdf, exports_xlsx
from adapters.clock import utcnow
from hub.audit import audit
from hub.auth import STAFF, principal_from_request
from hub.errors import Forbidden
from hub.router import Call, validate
from hub.routes.dashboard import DashboardQuery, day_bounds

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"


async def _orders(hub, date, start, end) -> bytes:
    rows = await exports.orders_of_day(hub.db, start, end)
    return await run_in_threadpool(exports_xlsx.orders_workbook, date, rows)


async def _payments(hub, date, start, end) -> bytes:
    rows = await exports.payments_of_day(hub.db, start, end)
    return await run_in_threadpool(exports_xlsx.payments_workbook, date, rows)


async def _report(hub, date, start, end) -> bytes:
    figures = await dashboard.day_summary(hub.db, start, end)
    return await run_in_threadpool(exports_pdf.daily_report, date, figures)


async def _coupons(hub, date, start, end) -> bytes:
    """Every template as it stands now (`date` only names the file)."""
    rows = await coupons.templates_with_counts(hub.db, utcnow())
    templates = [coupons.template_json(r) for r in rows]
    return await run_in_threadpool(exports_xlsx.coupons_workbook, date, templates)


Maker = Callable[..., Awaitable[bytes]]


def download(kind: str, make: Maker, media_type: str, suffix: str, roles=STAFF):
    async def handler(request: Request) -> Response:
        hub = request.app.state.hub
        me = principal_from_request(request, hub.tokens)
        if me.role not in roles:
            raise Forbidden(f"this needs the role {' or '.join(roles)}")
        query = validate(DashboardQuery, dict(request.query_params))
        date, start, end = day_bounds(query.date)
        body = await make(hub, date, start, end)
        call = Call(request=request, hub=hub, user=me)
        await audit(call, "export", kind, None, {"date": date, "bytes": len(body)})
        return Response(
            body,
            media_type=media_type,
            headers={
                "Content-Disposition": f'attachment; filename="orderhub-{kind}-{date}.{suffix}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    return handler


def routes() -> list[Route]:
    return [
        Route("/api/admin/exports/orders.xlsx", download("orders", _orders, XLSX, "xlsx")),
        Route("/api/admin/exports/payments.xlsx", download("payments", _payments, XLSX, "xlsx")),
        Route("/api/admin/exports/daily-report.pdf", download("daily-report", _report, PDF, "pdf")),
        Route(
            "/api/admin/exports/coupons.xlsx",
            download("coupons", _coupons, XLSX, "xlsx", roles=("admin",)),
        ),
    ]
