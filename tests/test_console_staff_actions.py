"""Staff actions in the console (issue #11) in a real browser: a new direct order reaches the
board live (its creation is announced by the order actor: there is no dispatch step to carry
it). Shared parts (browser, the `console` tab fixture) are in console_page.py."""

from __future__ import annotations

import time

import console_page
import pytest

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
