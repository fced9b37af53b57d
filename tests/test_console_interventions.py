"""Interventions in the console (issue #11) in a real browser: an order's drawer shows its
payments and its chat (read-only, as text) and refunds it — the refund reaches WeChat Pay's
sandbox and the payment shows refunded live; the provider verification queue approves one
applicant and rejects another with a note. Screenshots: reports/console/drawer-refund.png,
verify-queue.png."""

from __future__ import annotations

import console_page
import pytest
from db import rows
from playwright.async_api import expect
from test_refunds import paid_order, wechat_refunds

pytestmark = pytest.mark.timeout(180)

browser = console_page.browser
console = console_page.console

CHAT = "<b>师傅几点到？</b>"


async def test_drawer_shows_payments_and_chat_and_refunds(console, world, sandbox):
    customer, order, prepay = await paid_order(world, sandbox)
    sock = await world.socket(customer)
    sent = await sock.call(
        "chat.send", {"orderId": order["id"], "text": CHAT, "clientMsgId": "console-1"}
    )
    assert sent["ok"], sent

    await console.login()
    page = console.page
    await page.click("#view-table")
    await page.wait_for_selector("#table[data-loaded]")
    await page.fill("#f-q", order["orderNo"])
    before = await page.get_attribute("#table", "data-loaded")
    await page.click("#table-search")
    await page.locator(f"#table:not([data-loaded='{before}'])").wait_for()
    await page.click(f"#table-body tr[data-order-id='{order['id']}'] td.no")
    await page.wait_for_selector("#drawer:not([hidden])")
    payment = page.locator(f"#drawer-payments .payment[data-payment-id='{prepay['paymentId']}']")
    await expect(payment).to_have_attribute("data-status", "paid")
    assert f"¥{prepay['amount'] / 100:.2f}" in await payment.text_content()
    line = page.locator("#drawer-chat li .text")
    await expect(line).to_have_text(CHAT)  # text, not markup
    assert await page.locator("#drawer-chat b").count() == 0

    # Refund from the drawer: WeChat Pay (the sandbox) refunds it; the drawer follows.
    assert await page.locator("#refund-form").is_visible()
    await page.fill("#refund-reason", "客户投诉，全额退款")
    await page.click("#refund-submit")
    await expect(page.locator("#action-msg")).to_contain_text("已提交退款")
    await expect(payment).to_have_attribute("data-status", "refunded", timeout=30_000)
    await expect(page.locator("#refund-form")).to_be_hidden()
    await console.shot("drawer-refund")
    refunds = await wechat_refunds(sandbox, prepay["outTradeNo"])
    assert [r["amount"]["refund"] for r in refunds] == [prepay["amount"]]
    got = await customer.api.ok("GET", f"/api/orders/{order['id']}")
    assert got["paymentStatus"] == "refunded"


async def test_verification_queue_approves_and_rejects_with_a_note(console, world):
    first = await world.provider(approve=False)
    second = await world.provider(approve=False)
    await console.login()
    page = console.page
    badge = page.locator("#verify-badge")
    await expect(badge).to_be_visible()
    assert int(await badge.text_content()) >= 2
    await page.click("#verify-toggle")
    one = page.locator(f".verify-item[data-provider-id='{first.provider_id}']")
    two = page.locator(f".verify-item[data-provider-id='{second.provider_id}']")
    await one.wait_for()
    assert "低压电工证" in await one.text_content()
    await console.shot("verify-queue")
    await one.locator(".verify-note").fill("证件齐全")
    await one.locator("button.approve").click()
    await one.wait_for(state="detached")
    await two.locator("button.reject").click()  # a rejection needs its reason
    await expect(two.locator(".msg")).to_have_text("驳回请填写原因")
    await two.locator(".verify-note").fill("证书照片不清晰")
    await two.locator("button.reject").click()
    await two.wait_for(state="detached")
    got = rows(
        "SELECT id, verification, verification_note FROM providers WHERE id IN (%s, %s)"
        " ORDER BY id",
        (first.provider_id, second.provider_id),
    )
    assert sorted(got) == sorted(
        [
            (first.provider_id, "approved", "证件齐全"),
            (second.provider_id, "rejected", "证书照片不清晰"),
        ]
    )


async def test_force_offline_from_the_map(console, world):
    provider = await world.provider()
    sock = await world.socket(provider)
    assert (await sock.call("provider.online", {"lat": 20.047, "lng": 110.327}))["ok"]
    other = await world.customer()
    r = await other.api.call(
        "POST", f"/api/admin/providers/{provider.provider_id}/offline", {"reason": "x"}
    )
    assert r.status_code == 403
    await console.login()
    page = console.page
    ring = page.locator(f".leaflet-overlay-pane path[data-provider-id='{provider.provider_id}']")
    await expect(ring).to_have_attribute("data-state", "online", timeout=5_000)
    await ring.dispatch_event("click")
    await expect(page.locator("#provider-card")).to_be_visible()
    await page.fill("#offline-reason", "多次爽约，暂停接单")
    await page.click("#offline-submit")
    await expect(page.locator("#provider-msg")).to_contain_text("已强制下线")
    await expect(ring).to_have_attribute("data-state", "offline", timeout=5_000)  # live
    await expect(page.locator("#provider-details dd").first).to_have_text("离线")
    told = await sock.wait_for("provider.forced_offline", providerId=provider.provider_id)
    assert told["reason"] == "多次爽约，暂停接单"
    [(status,)] = rows("SELECT work_status FROM providers WHERE id = %s", (provider.provider_id,))
    assert status == "offline"
    await console.shot("provider-forced-offline")


async def settled(page, *locators) -> list[dict]:
    """Their boxes once the map has stopped moving (a zoom animates)."""
    last = None
    for _ in range(30):
        boxes = [await loc.bounding_box() for loc in locators]
        if boxes == last:
            return boxes
        last = boxes
        await page.wait_for_timeout(120)
    return last


async def test_drop_an_order_on_a_provider_on_the_map(console, world):
    lat, lng = 19.26, 109.26  # an area of this test's own
    await world.area(lat, lng, half=0.05)
    provider = await world.provider()
    sock = await world.socket(provider)
    assert (await sock.call("provider.online", {"lat": lat, "lng": lng + 0.012}))["ok"]
    customer = await world.customer()
    await console.login()
    page = console.page
    order = await world.order(customer, lat=lat, lng=lng)
    # Pan to the order (its card), then zoom in until pin and provider are apart on screen.
    await console.card(order["id"]).click()
    await page.click("#drawer-close")
    pin = console.pin(order["id"])
    ring = page.locator(f".leaflet-overlay-pane path[data-provider-id='{provider.provider_id}']")
    await settled(page, pin)  # the pan to the order is animated
    for _ in range(10):
        a, b = await settled(page, pin, ring)
        if a and b and abs(a["x"] - b["x"]) > 60:
            break
        await page.click(".leaflet-control-zoom-in")  # around the centre: the order
    box = await page.locator("#map").bounding_box()
    for p in (a, b):  # both in sight, not under the board
        assert box["y"] < p["y"] < box["y"] + box["height"] - p["height"], (p, box)
    await page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    await page.mouse.down()
    await page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=8)
    await page.mouse.up()
    await expect(page.locator("#action-msg")).to_have_text(
        f"已派给师傅 #{provider.provider_id}，等待师傅接单"
    )
    await expect(page.locator("#drawer-title")).to_contain_text(order["orderNo"])
    offer = await sock.wait_for("order.offer", orderId=order["id"])
    assert offer["orderId"] == order["id"]
    # The pin went back to the order's place (not left on the provider).
    back, b = await pin.bounding_box(), await ring.bounding_box()
    assert abs(back["x"] - b["x"]) > 40
    timeline = await (await world.admin()).ok("GET", f"/api/orders/{order['id']}/timeline")
    assert any(e["detail"]["action"] == "assign" for e in timeline["items"])
    await console.shot("drop-on-provider")
    assert (await sock.call("provider.offline"))["ok"]
