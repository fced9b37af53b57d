"""The rows the console's exports hold (issue #11): a China day's orders and payments.

Only masked phones are read (`contact_phone_masked`): an export leaves the hub as a file, and
a file is copied around. The workbooks and the PDF are made from these rows by
adapters/exports_xlsx.py and adapters/exports_pdf.py; the day's figures for the PDF are
adapters/dashboard.py's.
"""

from __future__ import annotations

from datetime import datetime

from adapters.mysql import Database

MAX_ROWS = 50_000  # a day's export; more is a sign of a wrong query, not a busy day


async def orders_of_day(db: Database, start: datetime, end: datetime) -> list[dict]:
    """Orders created in [start, end) (UTC), oldest first, with service, area and provider."""
    return await db.fetch_all(
        "SELECT o.id, o.order_no, o.created_at, o.status, o.payment_status, o.dispatch_mode,"
        " o.urgency, o.contact_name, o.contact_phone_masked, o.district, o.address,"
        " o.estimated_amount, o.final_amount, o.scheduled_at, o.completed_at,"
        " s.name AS service_name, a.name AS area_name, p.name AS provider_name,"
        " o.provider_id"
        " FROM orders o JOIN services s ON s.id = o.service_id"
        " LEFT JOIN areas a ON a.id = o.area_id LEFT JOIN providers p ON p.id = o.provider_id"
        " WHERE o.created_at >= %s AND o.created_at < %s ORDER BY o.created_at, o.id LIMIT %s",
        (start, end, MAX_ROWS),
    )


async def payments_of_day(db: Database, start: datetime, end: datetime) -> list[dict]:
    """Payments paid in [start, end) (UTC), as the dashboard's `paid` counts them, with what
    was refunded of each (successful refunds, whenever they happened)."""
    return await db.fetch_all(
        "SELECT p.id, p.payment_no, p.out_trade_no, p.transaction_id, p.kind, p.status,"
        " p.amount, p.paid_at, o.order_no,"
        " (SELECT COALESCE(SUM(r.amount), 0) FROM refunds r"
        "   WHERE r.payment_id = p.id AND r.status = 'success') AS refunded"
        " FROM payments p JOIN orders o ON o.id = p.order_id"
        " WHERE p.paid_at >= %s AND p.paid_at < %s ORDER BY p.paid_at, p.id LIMIT %s",
        (start, end, MAX_ROWS),
    )
