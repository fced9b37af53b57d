"""Alerts that need a timer or a payment's end (issue #11), seen in a real browser: an order
still untaken after its area's `untaken_alert_min` raises `order_untaken` (the order actor's
timer), and a payment WeChat Pay ends with PAYERROR raises `payment_failed` (the payment
actor). Both are kept on the hub and reach the console's alerts panel. Screenshot:
reports/console/alerts-timed.png."""

from __future__ import annotations

import asyncio
import os
import signal

import console_page
import pytest
from db import rows
from playwright.async_api import expect
from test_payments import cashier, completed_order
from waiting import until

pytestmark = pytest.mark.timeout(180)

browser = console_page.browser
console = console_page.console


def alert_of(page, kind: str, order_id: int):
    return page.locator(f".alert[data-kind='{kind}']:has-text('#{order_id}')")


async def test_untaken_and_payment_failed_alerts_reach_the_console(console, world, sandbox):
    await console.login()
    page = console.page
    # An area of its own where staff want to hear of an order untaken for 2.4 s.
    area = await world.area(19.5, 109.9)
    await world.policy(area["id"], untaken_alert_min=0.04)
    customer = await world.customer()
    order = await world.order(customer, lat=19.5, lng=109.9)
    untaken = alert_of(page, "order_untaken", order["id"])
    await untaken.wait_for(state="attached", timeout=15_000)
    # raised once, with how long it waited
    kept = rows(
        "SELECT detail FROM console_alerts WHERE kind = 'order_untaken' AND order_id = %s",
        (order["id"],),
    )
    assert len(kept) == 1 and '"minutes":0.04' in kept[0][0]

    # A payment the customer's bank refuses: WeChat says PAYERROR; staff hear of it.
    payer, _, done = await completed_order(world)
    prepay = await payer.api.ok("POST", "/api/payments", {"orderId": done["id"]}, status=201)
    answer = await cashier(sandbox, prepay["paymentParams"], "fail")
    assert answer["errMsg"].startswith("requestPayment:fail")
    got = await payer.api.ok("GET", f"/api/payments/{prepay['paymentId']}")  # asks WeChat now
    assert got["status"] == "failed"
    failed = alert_of(page, "payment_failed", done["id"])
    await failed.wait_for(state="attached", timeout=10_000)
    await page.click("#alerts-toggle")
    await expect(untaken).to_contain_text("订单长时间无人接单")
    await expect(failed).to_contain_text("支付失败")
    await console.shot("alerts-timed")
    # a second look at the failed payment raises nothing more
    await payer.api.ok("GET", f"/api/payments/{prepay['paymentId']}")
    kept = rows(
        "SELECT id FROM console_alerts WHERE kind = 'payment_failed' AND order_id = %s",
        (done["id"],),
    )
    assert len(kept) == 1


@pytest.mark.slow
async def test_the_untaken_timer_survives_sigkilled_hosts(world):
    """The timer lives in the order's actor: every Ray host SIGKILLed before it fires, the
    reloaded actor arms it again from the row and staff hear of the order, once."""
    area = await world.area(19.7, 110.1)
    await world.policy(area["id"], untaken_alert_min=0.2)  # 12 s
    order = await world.order(await world.customer(), lat=19.7, lng=110.1)
    admin = await world.admin()
    hosts = (await admin.ok("GET", "/api/admin/hosts"))["items"]
    for h in hosts:
        os.kill(h["pid"], signal.SIGKILL)
    query = "SELECT id FROM console_alerts WHERE kind = 'order_untaken' AND order_id = %s"

    async def raised() -> bool:
        return bool(rows(query, (order["id"],)))

    await until(raised, timeout=90, what="order_untaken raised by the restarted host")
    restarted = (await admin.ok("GET", "/api/admin/hosts"))["items"]
    assert {h["pid"] for h in restarted}.isdisjoint({h["pid"] for h in hosts})
    await asyncio.sleep(2)
    assert len(rows(query, (order["id"],))) == 1
