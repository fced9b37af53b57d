"""The console's order table (issue #11) in a real browser: filters (area, urgency, dispatch
mode, time slot, status) and search by phone tail and order number answered by the hub
(GET /api/admin/orders, staff only), a row following a live update in place, and bulk assign
that really assigns every selected order (each gets the assign event and the provider an
offer for each). Screenshots: reports/console/order-table.png and order-table-1920.png."""

from __future__ import annotations

import random

import console_page
import pytest
from console_page import VIEWPORT
from playwright.async_api import expect

pytestmark = pytest.mark.timeout(180)

browser = console_page.browser
console = console_page.console

LAT, LNG = 19.42, 109.42  # an area of this test's own: nobody else's orders or providers


async def rows_of(page) -> list[int]:
    ids = await page.locator("#table-body tr[data-order-id]").evaluate_all(
        "(rows) => rows.map((r) => Number(r.dataset.orderId))"
    )
    return sorted(ids)


async def search(page, **filters) -> list[int]:
    """Set the filters (the rest back to 全部), run the query, and the ids on the page."""
    for name in ("status", "areaId", "urgency", "slot", "dispatchMode", "paymentStatus"):
        await page.select_option(f"#f-{name}", str(filters.get(name, "")))
    await page.fill("#f-q", filters.get("q", ""))
    before = await page.get_attribute("#table", "data-loaded")
    await page.click("#table-search")
    await page.locator(f"#table:not([data-loaded='{before}'])").wait_for()
    return await rows_of(page)


async def test_table_filters_search_and_bulk_assign(console, world):
    area = await world.area(LAT, LNG, half=0.05)
    staff = await world.socket(await world.admin_user())
    customer = await world.customer()
    tail = f"{random.randint(1000, 9999)}"
    while tail == "8000":  # the other tests' orders end in 8000
        tail = f"{random.randint(1000, 9999)}"
    urgent = await world.order(
        customer, lat=LAT, lng=LNG, urgency="urgent", contactPhone=f"1390000{tail}"
    )
    plain = [await world.order(customer, lat=LAT + 0.01, lng=LNG) for _ in range(2)]
    ours = sorted([urgent["id"], *(o["id"] for o in plain)])
    # CONTRACT §11: console.update names what changed in `kind` (and keeps `type`).
    update = await staff.wait_for("console.update", kind="order")
    assert update["type"] == "order" and update["order"]["id"]
    # A provider online outside the area: dispatch does not reach them; staff can.
    provider = await world.provider()
    sock = await world.socket(provider)
    assert (await sock.call("provider.online", {"lat": 20.05, "lng": 110.33}))["ok"]
    r = await customer.api.call("GET", "/api/admin/orders")
    assert r.status_code == 403

    await console.login()
    page = console.page
    await page.click("#view-table")
    await page.wait_for_selector("#table[data-loaded]")
    assert await page.locator("#live").is_hidden()

    assert await search(page, areaId=area["id"]) == ours
    assert await search(page, areaId=area["id"], urgency="urgent") == [urgent["id"]]
    assert await search(page, areaId=area["id"], q=tail) == [urgent["id"]]  # phone tail
    assert await search(page, q=urgent["orderNo"][-10:]) == [urgent["id"]]  # part of its number
    assert await search(page, areaId=area["id"], dispatchMode="auto") == []
    assert await search(page, areaId=area["id"], slot="now", status="pending") == ours
    assert await search(page, areaId=area["id"], slot="morning") == []
    await expect(page.locator("#table-count")).to_contain_text("共 0 单")
    assert await search(page, areaId=area["id"]) == ours
    row = page.locator(f"#table-body tr[data-order-id='{urgent['id']}']")
    assert await row.locator("td").nth(11).text_content() == f"139****{tail}"  # masked

    # Bulk assign: every selected order to the provider, one offer each.
    await page.check("#table-all")
    await expect(page.locator("#bulk-count")).to_have_text("已选 3 单")
    await console.shot("order-table")
    await page.fill("#bulk-provider", str(provider.provider_id))
    await page.click("#bulk-assign")
    await expect(page.locator("#bulk-msg")).to_have_text("已指派 3 / 3 单，等待师傅接单")
    await expect(page.locator("#bulk-count")).to_have_text("已选 0 单")  # not offered twice
    for oid in ours:
        cell = page.locator(f"#table-body tr[data-order-id='{oid}'] td.result")
        assert await cell.text_content() == f"已派给 #{provider.provider_id}"
        offer = await sock.wait_for("order.offer", orderId=oid)
        assert offer["orderId"] == oid
        timeline = await (await world.admin()).ok("GET", f"/api/orders/{oid}/timeline")
        assigned = [e for e in timeline["items"] if e["detail"]["action"] == "assign"]
        assert assigned and assigned[-1]["detail"]["providerId"] == provider.provider_id
    # A live change reaches its row in place: the provider accepts one.
    kept = await row.element_handle()
    await provider.api.ok("POST", f"/api/orders/{urgent['id']}/accept")
    await expect(row).to_have_attribute("data-status", "accepted", timeout=5_000)
    assert await kept.evaluate("(tr) => tr.isConnected")
    assert await row.locator("input.pick").is_disabled()
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await page.wait_for_timeout(200)
    await console.shot("order-table-1920")
    await page.set_viewport_size(VIEWPORT)
    for oid in ours:
        await (await world.admin()).call(
            "POST", f"/api/orders/{oid}/cancel", {"reason": "测试结束"}
        )
    assert (await sock.call("provider.offline"))["ok"]
