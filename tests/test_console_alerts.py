"""Staff alerts kept on the hub (issue #11) in two real browser tabs: an alert raised while no
console was open is there at login; a live one rings; acknowledging it in one console removes
it from the other at once, is written with who did it, and stays acknowledged after a reload.
Screenshot: reports/console/alerts-shared.png."""

from __future__ import annotations

import console_page
import pytest
from console_page import VIEWPORT, Console
from db import rows
from playwright.async_api import expect

pytestmark = pytest.mark.timeout(180)

browser = console_page.browser
console = console_page.console

LAT, LNG = 19.32, 109.32  # an area of this test's own, with nobody in it: every order alerts


def alert_of(page, order_id: int):
    return page.locator(f".alert[data-kind='no_provider_nearby']:has-text('订单: #{order_id}')")


async def test_alerts_are_kept_shared_and_acknowledged_for_everyone(console, browser, world, hub):
    await world.area(LAT, LNG, half=0.05)
    customer = await world.customer()
    early = await world.order(customer, lat=LAT, lng=LNG)  # before any console is open
    r = await customer.api.call("GET", "/api/admin/alerts")
    assert r.status_code == 403

    await console.login()
    page = console.page
    other_ctx = await browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    other = Console(await other_ctx.new_page(), hub.url)
    other.page.on("pageerror", lambda exc: other.errors.append(str(exc)))
    try:
        await other.login()
        for tab in (page, other.page):
            await alert_of(tab, early["id"]).wait_for(state="attached", timeout=10_000)
        first = alert_of(page, early["id"])
        alert_id = int(await first.get_attribute("data-alert-id"))

        # A live alert rings (the click readies the audio, as a dispatcher's first click does).
        await page.click("#alerts-toggle")
        rings = int(await page.get_attribute("#alert-badge", "data-rings") or 0)
        late = await world.order(customer, lat=LAT, lng=LNG)
        await alert_of(page, late["id"]).wait_for(state="attached", timeout=10_000)
        await alert_of(other.page, late["id"]).wait_for(state="attached", timeout=10_000)
        await expect(page.locator("#alert-badge")).to_have_attribute("data-rings", str(rings + 1))
        played = await page.get_attribute("#alert-badge", "data-played")
        await console.shot("alerts-shared")

        # Acknowledged in one console: gone from both, kept as acknowledged on the hub.
        await first.locator("button.ack").click()
        await first.wait_for(state="detached", timeout=5_000)
        await alert_of(other.page, early["id"]).wait_for(state="detached", timeout=2_000)
        admin = await world.admin()
        me = await admin.ok("GET", "/api/me")
        open_ids = [a["alertId"] for a in (await admin.ok("GET", "/api/admin/alerts"))["items"]]
        assert alert_id not in open_ids
        [(acked_by, acked_at, kind, order_id)] = rows(
            "SELECT acked_by, acked_at, kind, order_id FROM console_alerts WHERE id = %s",
            (alert_id,),
        )
        assert (acked_by, kind, order_id) == (me["user"]["id"], "no_provider_nearby", early["id"])
        assert acked_at is not None
        again = await admin.ok("POST", f"/api/admin/alerts/{alert_id}/ack", {"note": "再次确认"})
        assert again["ackedBy"] == me["user"]["id"] and again["ackNote"] is None  # unchanged
        r = await admin.call("POST", "/api/admin/alerts/999999999/ack", {})
        assert r.status_code == 404

        # After a reload: the acknowledged one stays away, the open one is back.
        await other.page.reload()
        await other.page.wait_for_selector("body[data-ready='1']", timeout=15_000)
        await alert_of(other.page, late["id"]).wait_for(state="attached", timeout=10_000)
        assert await alert_of(other.page, early["id"]).count() == 0
        assert not other.errors, other.errors

        # 全部确认 acknowledges what this console shows, up to its newest alert: one raised
        # after the click (nobody has seen it) stays open.
        late_id = int(await alert_of(page, late["id"]).get_attribute("data-alert-id"))
        r = await admin.call("POST", "/api/admin/alerts/ack-all", {})
        assert r.status_code == 422  # upTo is required: a stray call acknowledges nothing
        await page.click("#alerts-ack-all")
        await alert_of(page, late["id"]).wait_for(state="detached", timeout=5_000)
        after = await world.order(customer, lat=LAT, lng=LNG)
        open_ids = [a["alertId"] for a in (await admin.ok("GET", "/api/admin/alerts"))["items"]]
        assert late_id not in open_ids
        body = await admin.ok("POST", "/api/admin/alerts/ack-all", {"upTo": late_id})
        assert body["acked"] == []  # the newer alert (after's) is above upTo: still open
        await alert_of(page, after["id"]).wait_for(state="attached", timeout=10_000)
        print(f"\n[console] alert tone played: {played or 0} time(s) (headless audio)")
    finally:
        await other_ctx.close()
