"""The console's settings (admins, issue #11) in a real browser: a service's price and the
platform's fee saved from the catalog table, a new service area drawn on the map by clicking
its vertices (one undone), and that area's dispatch settings saved. What the test adds to the
shared catalog (a service, an area) is disabled at the end. Screenshot:
reports/console/settings.png."""

from __future__ import annotations

import uuid

import console_page
import pytest
from playwright.async_api import expect

pytestmark = pytest.mark.timeout(180)

browser = console_page.browser
console = console_page.console


async def test_settings_price_fee_area_drawn_and_its_dispatch(console, world):
    admin = await world.admin()
    svc = await admin.ok(
        "POST",
        "/api/admin/services",
        {
            "category": "维修",
            "name": f"测试-{uuid.uuid4().hex[:6]}",
            "basePrice": 5000,
            "durationMin": 60,
        },
        status=201,
    )
    area_name = f"画-{uuid.uuid4().hex[:6]}"
    made = None
    try:
        await console.login()
        page = console.page
        await page.click("#view-settings")
        await page.locator("#settings[data-loaded]").wait_for()
        row = page.locator(f"#svc-body tr[data-service-id='{svc['id']}']")
        await row.locator(".svc-price").fill("66.50")
        await row.locator(".svc-fee").fill("12.5")
        await row.locator(".svc-save").click()
        await expect(page.locator("#settings-msg")).to_contain_text("已保存")
        got = [s for s in await admin.ok("GET", "/api/admin/services") if s["id"] == svc["id"]]
        assert got[0]["basePrice"] == 6650
        fees = {f["id"]: f["feeRateBp"] for f in await admin.ok("GET", "/api/admin/service-fees")}
        assert fees[svc["id"]] == 1250

        # Draw a new area in the map's bottom-right corner (outside the others), one vertex
        # undone, and save it.
        await page.click("#draw-new")
        box = await page.locator("#settings-map").bounding_box()
        x, y = box["x"] + box["width"] - 90, box["y"] + box["height"] - 90
        for dx, dy in ((0, 0), (60, 0), (30, 30)):
            await page.mouse.click(x + dx, y + dy)
        await page.click("#draw-undo")  # (30, 30) was a slip
        await expect(page.locator("#draw-hint")).to_have_text("边界顶点：2 个（至少 3 个）")
        for dx, dy in ((60, 60), (0, 60)):
            await page.mouse.click(x + dx, y + dy)
        await expect(page.locator("#draw-hint")).to_have_text("边界顶点：4 个")
        assert await page.locator("#settings-map path.area-edit").count() == 1
        await page.fill("#area-name", area_name)
        await page.click("#area-save")
        await expect(page.locator("#settings-msg")).to_have_text(
            f"区域「{area_name}」已保存（4 个顶点）"
        )
        made = next(a for a in await admin.ok("GET", "/api/areas") if a["name"] == area_name)
        lats = sorted({round(p[0], 6) for p in made["boundary"]})
        assert len(made["boundary"]) == 4 and len(lats) == 2  # a square, as clicked

        # Its dispatch settings: two fields set, the rest left to the defaults.
        form = page.locator("#policy-form")
        await expect(form.locator("h4")).to_contain_text(area_name)
        await form.locator("input[name='batch_size']").fill("2")
        await form.locator("input[name='untaken_alert_min']").fill("5")
        await page.click("#policy-save")
        await expect(page.locator("#settings-msg")).to_have_text("派单设置已保存，下一步派单起生效")
        policies = await admin.ok("GET", "/api/admin/dispatch/policies")
        [mine] = [r for r in policies["items"] if r["areaId"] == made["id"]]
        assert mine["config"] == {"batch_size": 2, "untaken_alert_min": 5}
        await console.shot("settings")
    finally:
        await admin.ok("PATCH", f"/api/admin/services/{svc['id']}", {"active": False})
        if made:
            await admin.ok("PATCH", f"/api/admin/areas/{made['id']}", {"active": False})
