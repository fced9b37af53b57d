"""The console's coupons page (issue #14, staff part) in a real browser: templates with issued,
claimed, used, expired and cost, matching the hub's figures and summed in a totals row; create
one, issue it to chosen customers (a non-customer refused), pause, resume and end it (ending
asks a second click). Screenshot: reports/console/coupons.png."""

from __future__ import annotations

import asyncio
import io
import uuid
from pathlib import Path

import console_page
import pytest
from db import rows
from openpyxl import load_workbook
from playwright.async_api import expect

pytestmark = pytest.mark.timeout(180)

browser = console_page.browser
console = console_page.console


async def test_coupons_page_creates_issues_and_pauses(console, world):
    admin = await world.admin()
    first, second = await world.customer(), await world.customer()
    provider = await world.provider()
    await console.login()
    page = console.page
    await page.click("#view-coupons")
    root = page.locator("#coupons[data-loaded]")
    await root.wait_for()
    name = f"满100减20-{uuid.uuid4().hex[:6]}"
    await page.fill("#cp-name", name)
    await page.fill("#cp-threshold", "100")
    await page.fill("#cp-off", "20")
    await page.fill("#cp-stock", "50")
    await page.click("#coupon-create")
    await expect(page.locator("#coupon-msg")).to_have_text(f"已新建「{name}」")
    [(tid,)] = rows("SELECT id FROM coupon_templates WHERE name = %s", (name,))
    row = page.locator(f"#coupon-body tr[data-template-id='{tid}']")
    await expect(row).to_contain_text("满 100 减 20")

    # Issue to two customers and a provider (refused: not a customer).
    ids = f"{first.user_id}, {second.user_id}，{provider.user_id}"
    await row.locator("input.issue-ids").fill(ids)
    await row.locator("button.issue").click()
    msg = page.locator("#coupon-msg")
    await expect(msg).to_contain_text("已发放 2 张")
    await expect(msg).to_contain_text(f"#{provider.user_id}（不是客户）")
    row = page.locator(f"#coupon-body tr[data-template-id='{tid}']")
    await expect(row.locator("[data-figure='issued']")).to_have_text("2")
    await expect(row.locator("[data-figure='left']")).to_have_text("48")

    # Every figure is the hub's, and the totals row sums them.
    listed = (await admin.ok("GET", "/api/admin/coupons"))["items"]
    for key in ("issued", "claimed", "used", "expired"):
        total = page.locator(f"#coupon-foot [data-total='{key}']")
        await expect(total).to_have_attribute("data-value", str(sum(t[key] for t in listed)))
    cost = await page.get_attribute("#coupon-foot [data-total='cost']", "data-value")
    assert int(cost) == sum(t["cost"] for t in listed)
    await console.shot("coupons")

    # The coupons sheet: the same figures, each row's use rate and the totals as formulas.
    async with page.expect_download(timeout=30_000) as info:
        await page.click("#export-coupons")
    download = await info.value
    body = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert download.suggested_filename.startswith("orderhub-coupons-")
    ws = load_workbook(io.BytesIO(body)).active
    header = [c.value for c in ws[1]]
    assert header[:4] == ["编号", "名称", "优惠", "状态"] and header[9] == "成本（元）"
    by_id = {r[0].value: [c.value for c in r] for r in ws.iter_rows(min_row=2) if r[0].value}
    mine = by_id[tid]
    assert mine[1:9] == [name, "满 100 减 20", "发放中", 50, 2, 0, 0, 0]
    n = list(by_id).index(tid) + 2  # its row
    assert mine[10] == f'=IF(F{n}=0,"",H{n}/F{n})'
    assert len(by_id) == len(listed)
    last = len(listed) + 1
    totals = [c.value for c in ws[last + 1]]
    assert totals[1] == "合计" and totals[5] == f"=SUM(F2:F{last})"
    assert totals[9] == f"=SUM(J2:J{last})"
    assert sum(r[5] for r in by_id.values()) == sum(t["issued"] for t in listed)
    r = await (await world.customer()).api.call("GET", "/api/admin/exports/coupons.xlsx")
    assert r.status_code == 403

    # Pause, resume, end (a second click confirms the end; it cannot be undone).
    await row.locator("button[data-status='paused']").click()
    await expect(row).to_have_attribute("data-status", "paused")
    await row.locator("button[data-status='active']").click()
    await expect(row).to_have_attribute("data-status", "active")
    end = row.locator("button[data-status='ended']")
    await end.click()
    await expect(end).to_have_text("确认结束")
    await end.click()
    await expect(row).to_have_attribute("data-status", "ended")
    got = await admin.ok("GET", f"/api/admin/coupons/{tid}")
    assert (got["status"], got["issued"], got["expired"]) == ("ended", 2, 2)
    await expect(row.locator("[data-figure='expired']")).to_have_text("2")
