"""A staff login from a new device in the console (issue #16's staff second factor, shown by
the console): a dispatcher with a bound phone gets the SMS step — the code goes through
Alibaba Cloud SMS's sandbox — a wrong code is refused, the right one signs in, and the same
browser (its deviceId kept in localStorage) signs in later with the password alone.
Screenshot: reports/console/login-sms.png."""

from __future__ import annotations

import uuid

import console_page
import pytest
from conftest import MYSQL_URL
from db import rows
from playwright.async_api import expect
from test_sms import _bind_directly, _code

from hub.accounts import ensure_staff

pytestmark = pytest.mark.timeout(180)

browser = console_page.browser
console = console_page.console


async def test_staff_with_a_phone_passes_an_sms_code_once_per_browser(console, hub, sandbox):
    name = f"disp-{uuid.uuid4().hex[:8]}"
    assert ensure_staff(MYSQL_URL, name, "disp-pw-2", "dispatcher")
    [(user_id,)] = rows("SELECT id FROM users WHERE username = %s", (name,))
    phone = await _bind_directly(hub, user_id)
    page = console.page
    await page.goto(f"{hub.url}/console/")
    await page.fill("#login-user", name)
    await page.fill("#login-pass", "disp-pw-2")
    await page.click("#login-submit")
    hint = page.locator("#login-sms-hint")
    await expect(hint).to_contain_text(phone[:3] + "****" + phone[-4:])
    await expect(page.locator("#login-resend")).to_be_disabled()  # a minute before another
    await console.shot("login-sms")
    code = await _code(sandbox, phone)
    await page.fill("#login-sms", f"{(int(code) + 1) % 10**6:06d}")
    await page.click("#login-submit")
    await expect(page.locator("#login-error")).to_have_text("验证码错误或已失效，请重新输入")
    await page.fill("#login-sms", code)
    await page.click("#login-submit")
    await page.wait_for_selector("body[data-ready='1']", timeout=15_000)
    device = await page.evaluate("() => localStorage.getItem('orderhub.console.device')")
    assert device and len(device) >= 8

    # Signed out, the same browser is a known device: the password alone.
    await page.click("#logout")
    await page.fill("#login-user", name)
    await page.fill("#login-pass", "disp-pw-2")
    await page.click("#login-submit")
    await page.wait_for_selector("body[data-ready='1']", timeout=15_000)
    assert await page.locator("#login-sms-step").is_hidden()
