"""Staff actions in the console (issue #11) in a real browser: a new direct order reaches the
board live (its creation is announced by the order actor: there is no dispatch step to carry
it). Shared parts (browser, the `console` tab fixture) are in console_page.py."""

from __future__ import annotations

import asyncio
import time

import console_page
import pytest
from console_page import open_drawer
from playwright.async_api import expect

pytestmark = pytest.mark.timeout(180)

browser = console_page.browser
console = console_page.console


async def test_a_new_direct_order_appears_on_the_board_at_once(console, world):
    await console.login()
    provider = await world.provider()
    customer = await world.customer()
    t0 = time.monotonic()
    order = await world.order(customer, dispatchMode="direct", providerId=provider.provider_id)
    await console.card(order["id"], "pending").wait_for(timeout=5_000)
    elapsed = time.monotonic() - t0
    assert elapsed < 2.0, f"the direct order took {elapsed:.2f}s to appear on the board"
    await console.pin(order["id"]).wait_for(state="attached", timeout=2_000)


async def _online(world, lat: float, lng: float):
    provider = await world.provider()
    sock = await world.socket(provider)
    assert (await sock.call("provider.online", {"lat": lat, "lng": lng}))["ok"]
    return provider, sock


async def _offers(sock, order_id: int, count: int) -> None:
    for _ in range(100):
        if len(sock.of("order.offer", orderId=order_id)) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"order {order_id}: fewer than {count} offers")


async def test_reassign_an_accepted_order_then_reopen_dispatch(console, world):
    first, first_sock = await _online(world, 20.031, 110.301)
    second, second_sock = await _online(world, 20.032, 110.302)
    customer = await world.customer()
    order = await world.order(customer, dispatchMode="direct", providerId=first.provider_id)
    oid = order["id"]
    await first.api.ok("POST", f"/api/orders/{oid}/accept")
    r = await customer.api.call("POST", f"/api/orders/{oid}/reassign", {"providerId": 1})
    assert r.status_code == 403  # staff only

    await console.login()
    page = console.page
    await console.card(oid, "accepted").wait_for(timeout=5_000)
    await open_drawer(console, oid)
    await expect(page.locator("#assign-submit")).to_have_text("改派")
    assert await page.locator("#redispatch-form").is_hidden()
    # The provider on it cannot be "reassigned" to itself.
    await page.fill("#assign-id", str(first.provider_id))
    await page.click("#assign-submit")
    await expect(page.locator("#action-msg")).to_contain_text("改派失败")
    await page.fill("#assign-id", str(second.provider_id))
    await page.click("#assign-submit")
    await expect(page.locator("#action-msg")).to_have_text(
        f"已改派给师傅 #{second.provider_id}，等待师傅接单"
    )
    await console.card(oid, "pending").wait_for(timeout=5_000)
    await first_sock.wait_for("order.taken", orderId=oid, reason="reassigned")
    await second_sock.wait_for("order.offer", orderId=oid)
    await expect(page.locator("#drawer-timeline")).to_contain_text("改派")
    await console.shot("drawer-reassign")

    # The new provider says no: a direct order waits for staff, who start the chain again.
    await second.api.ok("POST", f"/api/orders/{oid}/decline")
    await expect(page.locator("#redispatch-form")).to_be_visible()
    await page.click("#redispatch-submit")
    await expect(page.locator("#action-msg")).to_have_text("已重新派单")
    await expect(page.locator("[data-field='派单方式']")).to_have_text("自动派单")
    await expect(page.locator("#drawer-timeline")).to_contain_text("重新派单")
    # The chain's first batch offers it again to both (the re-opened chain leaves nobody out).
    await _offers(second_sock, oid, 2)
    await _offers(first_sock, oid, 2)
    await console.shot("drawer-redispatch")
    body = await (await world.admin()).ok("GET", f"/api/orders/{oid}")
    assert (body["status"], body["dispatchMode"], body["providerId"]) == ("pending", "auto", None)
