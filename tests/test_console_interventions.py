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
