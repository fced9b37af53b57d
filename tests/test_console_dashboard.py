"""The console's dashboard and exports (issue #11) in a real browser: after real orders through
the hub (accepted, completed and paid, paid and refunded, cancelled), every figure the
dashboard shows — tiles and both charts — equals a recount the test makes itself from the
rows, in Python (seed 002: 0 % error); the Excel exports download from the buttons and open
again with openpyxl (Chinese headers, every row, masked phones, totals as formulas, a formula
probe kept as text), and the PDF daily report reads back with its Chinese title.
Screenshots: reports/console/dashboard.png, dashboard-1920.png, dashboard-exported.png."""

from __future__ import annotations

import asyncio
import io
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import console_page
import httpx
import pytest
from console_page import VIEWPORT
from db import rows
from openpyxl import load_workbook
from playwright.async_api import expect
from pypdf import PdfReader
from test_refunds import paid_order
from waiting import until

from adapters.exports_xlsx import ORDER_HEADERS, PAYMENT_HEADERS

pytestmark = pytest.mark.timeout(240)

browser = console_page.browser
console = console_page.console

CN = timedelta(hours=8)
US = timedelta(microseconds=1)
DAYS = 14


def china_today() -> str:
    return (datetime.now(UTC).replace(tzinfo=None) + CN).date().isoformat()


def recount(date: str) -> dict:
    """Every dashboard figure of the China day `date`, from the rows, without SQL aggregates."""
    day = datetime.strptime(date, "%Y-%m-%d")
    start, end = day - CN, day + timedelta(days=1) - CN
    first = end - timedelta(days=DAYS)
    orders = rows(
        "SELECT status, created_at, accepted_at, arrived_at, completed_at, provider_id"
        " FROM orders WHERE created_at >= %s OR completed_at >= %s OR accepted_at >= %s",
        (first, first, first),
    )
    payments = rows("SELECT amount, paid_at FROM payments WHERE paid_at IS NOT NULL")
    refunds = rows("SELECT amount, status, succeeded_at FROM refunds")
    fees = rows("SELECT amount, created_at FROM ledger_entries WHERE account = 'platform_fee'")
    crew = Counter(
        r[0] for r in rows("SELECT work_status FROM providers WHERE verification = 'approved'")
    )

    def inside(t, a=start, b=end) -> bool:
        return t is not None and a <= t < b

    today = [o for o in orders if inside(o[1])]
    figures: dict[str, object] = {"orders.total": len(today)}
    by_status = Counter(o[0] for o in today)
    for status in (
        "pending",
        "accepted",
        "departed",
        "arrived",
        "in_progress",
        "completed",
        "cancelled",
        "expired",
    ):
        figures[f"orders.byStatus.{status}"] = by_status.get(status, 0)
    paid = [p for p in payments if inside(p[1])]
    refunded = [r for r in refunds if r[1] == "success" and inside(r[2])]
    figures["revenue.paid"] = sum(p[0] for p in paid)
    figures["revenue.refunded"] = sum(r[0] for r in refunded)
    figures["revenue.platformFee"] = sum(f[0] for f in fees if inside(f[1]))
    figures["revenue.net"] = figures["revenue.paid"] - figures["revenue.refunded"]
    figures["providers.active"] = crew["online"] + crew["busy"]
    figures["providers.tookOrders"] = len({o[5] for o in orders if inside(o[2]) and o[5]})
    for key, col in (("accept", 2), ("arrive", 3), ("complete", 4)):
        spans = [(o[col] - o[1]) // US for o in today if o[col] is not None]
        figures[f"times.{key}AvgS"] = round(sum(spans) / len(spans) / 1e6, 1) if spans else None
    accepted = sum(1 for o in today if o[2] is not None)
    decided = sum(1 for o in today if o[0] != "pending")
    figures["acceptance.ratePct"] = round(accepted / decided * 100, 1) if decided else None
    for h in range(24):
        a, b = start + timedelta(hours=h), start + timedelta(hours=h + 1)
        figures[f"hour.orders.{h}"] = sum(1 for o in today if inside(o[1], a, b))
        figures[f"hour.paid.{h}"] = sum(p[0] for p in paid if inside(p[1], a, b))
    for i in range(DAYS):
        a, b = first + timedelta(days=i), first + timedelta(days=i + 1)
        figures[f"day.orders.{i}"] = sum(1 for o in orders if inside(o[1], a, b))
        figures[f"day.completed.{i}"] = sum(1 for o in orders if inside(o[4], a, b))
        figures[f"day.paid.{i}"] = sum(p[0] for p in payments if inside(p[1], a, b))
    return figures


async def shown(page) -> dict:
    """What the page shows: every tile's raw figure and every bar and point of both charts."""
    tiles = await page.evaluate(
        "() => [...document.querySelectorAll('#dash-body [data-figure]')]"
        ".map((e) => [e.dataset.figure, e.dataset.value])"
    )
    points = await page.evaluate(
        "() => [...document.querySelectorAll('#dash-body .chart-box')].flatMap((box) =>"
        " [...box.querySelectorAll('[data-series]')].map((e) =>"
        " [box.id === 'chart-hour' ? 'hour' : 'day', e.dataset.series, e.dataset.index,"
        " e.dataset.value]))"
    )
    figures: dict[str, object] = {}
    for key, value in tiles:
        figures[key] = None if value == "" else float(value) if "." in value else int(value)
    for chart, series, index, value in points:
        figures[f"{chart}.{series}.{index}"] = int(value)
    return figures


async def real_orders(world, sandbox) -> dict:
    """Orders through the hub: completed and paid; paid then refunded; accepted; cancelled."""
    _, _, paid_pay = await paid_order(world, sandbox)
    _, refunded, refunded_pay = await paid_order(world, sandbox)
    admin = await world.admin()
    await admin.ok("POST", f"/api/orders/{refunded['id']}/refund", {"reason": "客户投诉"})

    async def refunded_in_hub() -> bool:
        got = await admin.ok("GET", f"/api/orders/{refunded['id']}")
        return got["paymentStatus"] == "refunded"

    await until(refunded_in_hub, timeout=30, what="the order refunded")
    customer, provider = await world.customer(), await world.provider()
    sock = await world.socket(provider)
    assert (await sock.call("provider.online", {"lat": 20.07, "lng": 110.35}))["ok"]
    taken = await world.order(customer, lat=20.07, lng=110.35)
    await sock.wait_for("order.offer", orderId=taken["id"])
    assert (await sock.call("order.grab", {"orderId": taken["id"]}))["ok"]
    dropped = await world.order(customer)
    await customer.api.ok("POST", f"/api/orders/{dropped['id']}/cancel", {"reason": "不需要了"})
    return {"paid": paid_pay["amount"], "refunded": refunded_pay["amount"], "taken": taken}


async def test_dashboard_figures_equal_a_recount(console, world, sandbox):
    made = await real_orders(world, sandbox)
    date = china_today()
    # Staff only.
    customer = await world.customer()
    r = await customer.api.call("GET", "/api/admin/dashboard")
    assert r.status_code == 403
    r = await (await world.admin()).call("GET", "/api/admin/dashboard?date=2025-02-30")
    assert r.status_code == 422 and r.json()["error"]["code"]

    await console.login()
    page = console.page
    await page.click("#view-dashboard")
    await page.wait_for_selector("#dashboard[data-loaded]")
    assert await page.locator("#live").is_hidden()
    # Background timers (another test's order expiring) may change a figure between the page's
    # read and the recount: compare when the recount is the same before and after the read.
    for _ in range(5):
        before = recount(date)
        loaded = await page.get_attribute("#dashboard", "data-loaded")  # before the click
        await page.click("#dash-refresh")
        await page.locator(f"#dashboard:not([data-loaded='{loaded}'])").wait_for()
        figures = await shown(page)
        if recount(date) == before:
            break
    assert set(figures) == set(before), set(figures) ^ set(before)
    wrong = {k: (figures[k], before[k]) for k in before if figures[k] != before[k]}
    assert not wrong, f"dashboard ≠ recount (shown, recounted): {wrong}"
    # The orders this test made are in those figures.
    assert before["orders.byStatus.completed"] >= 2 and before["orders.byStatus.cancelled"] >= 1
    assert before["revenue.paid"] >= made["paid"] + made["refunded"]
    assert before["revenue.refunded"] >= made["refunded"]
    assert before["revenue.platformFee"] > 0 and before["acceptance.ratePct"] is not None
    tile = page.locator("[data-figure='revenue.paid'] .tile-value")
    assert await tile.text_content() == f"¥{before['revenue.paid'] / 100:.2f}"
    await console.shot("dashboard")
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await page.wait_for_timeout(200)
    await console.shot("dashboard-1920")
    await page.set_viewport_size(VIEWPORT)
    # Back to the live view: the map is sized again.
    await page.click("#view-live")
    assert await page.locator("#dashboard").is_hidden()
    await console.card(made["taken"]["id"]).wait_for(state="attached")


# --- exports ----------------------------------------------------------------------------------

PROBE = '=HYPERLINK("http://x.example","点我")'


async def fetch_export(page, button: str) -> tuple[str, bytes]:
    """Click an export button; the file the browser saves: (its name, its bytes)."""
    async with page.expect_download(timeout=30_000) as info:
        await page.click(button)
    download = await info.value
    path = await download.path()
    return download.suggested_filename, await asyncio.to_thread(Path(path).read_bytes)


async def test_exports_download_and_open_again(console, world, sandbox):
    _, paid_one, pay = await paid_order(world, sandbox)
    customer = await world.customer()
    probe = await world.order(customer, contactName=PROBE)
    date = china_today()
    day = datetime.strptime(date, "%Y-%m-%d")
    start, end = day - CN, day + timedelta(days=1) - CN
    # Staff only.
    r = await customer.api.call("GET", "/api/admin/exports/orders.xlsx")
    assert r.status_code == 403, r.text
    async with httpx.AsyncClient(base_url=world.base) as anon:
        r = await anon.get("/api/admin/exports/daily-report.pdf")
        assert r.status_code == 401 and r.json()["error"]["code"] == "missing_token", r.text

    await console.login()
    page = console.page
    await page.click("#view-dashboard")
    await page.wait_for_selector("#dashboard[data-loaded]")

    # Orders: Chinese headers, every order of the day, masked phones, totals as formulas.
    name, body = await fetch_export(page, "#export-orders")
    assert name == f"orderhub-orders-{date}.xlsx"
    ws = load_workbook(io.BytesIO(body)).active
    assert [c.value for c in ws[1]] == ORDER_HEADERS
    expected = rows(
        "SELECT order_no, estimated_amount FROM orders WHERE created_at >= %s AND created_at < %s",
        (start, end),
    )
    last = ws.max_row - 1  # the totals row is under the rows
    data = list(ws.iter_rows(min_row=2, max_row=last))
    assert sorted(r[0].value for r in data) == sorted(o[0] for o in expected)
    assert ws.cell(ws.max_row, 12).value == "合计"
    assert ws.cell(ws.max_row, 1).value == f'=COUNTA(A2:A{last})&" 笔"'
    assert ws.cell(ws.max_row, 13).value == f"=SUM(M2:M{last})"
    assert ws.cell(ws.max_row, 14).value == f"=SUM(N2:N{last})"
    total = sum(r[12].value for r in data)
    assert round(total, 2) == sum(o[1] for o in expected) / 100
    phones = [r[9].value for r in data]
    assert all(re.fullmatch(r"1\d\d\*{4}\d{4}", p) for p in phones), phones[:3]
    assert not re.search(rb"1[3-9]\d{9}", body.replace(b"\x00", b""))  # no whole phone
    row = next(r for r in data if r[0].value == probe["orderNo"])
    assert row[8].value == PROBE and row[8].data_type == "s"  # text, not a formula

    # Payments: the day's paid payments, refunds, net per row and totals as formulas.
    name, body = await fetch_export(page, "#export-payments")
    assert name == f"orderhub-payments-{date}.xlsx"
    ws = load_workbook(io.BytesIO(body)).active
    assert [c.value for c in ws[1]] == PAYMENT_HEADERS
    paid = rows(
        "SELECT payment_no, amount FROM payments WHERE paid_at >= %s AND paid_at < %s", (start, end)
    )
    last = ws.max_row - 1
    data = list(ws.iter_rows(min_row=2, max_row=last))
    assert sorted(r[0].value for r in data) == sorted(p[0] for p in paid)
    for i, r in enumerate(data, start=2):
        assert r[6].value == f"=E{i}-F{i}"
    for col in "EFG":
        assert ws[f"{col}{ws.max_row}"].value == f"=SUM({col}2:{col}{last})"
    assert round(sum(r[4].value for r in data), 2) == sum(p[1] for p in paid) / 100
    mine = next(r for r in data if r[1].value == paid_one["orderNo"])
    assert mine[4].value == pay["amount"] / 100 and mine[3].value == "已支付"

    # The daily report: a PDF whose text (the embedded Chinese font) reads back.
    name, body = await fetch_export(page, "#export-report")
    assert name == f"orderhub-daily-report-{date}.pdf" and body.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
    assert f"orderhub 运营日报 {date}" in text
    for word in ("已支付", "平台服务费", "接单率", "分时段"):
        assert word in text, word
    await expect(page.locator("#dash-status")).to_contain_text("已导出")
    await console.shot("dashboard-exported")
