"""The dispatch console at /console (issue #11) in a real browser, what keeps it safe: the
serving (CSP, vendored libraries, no inline script), login (a wrong password, a customer's
token and a refused token sent back to log in), the XSS probe staying text, and no request
leaving 127.0.0.1. Shared parts (browser, the `console` tab fixture) are in console_page.py;
the board, map and alerts are in test_console_board.py."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import console_page
import httpx
import pytest
from console_page import open_drawer
from playwright.async_api import expect

XSS = "<img src=x onerror=alert(1)>"
LABELS = ["待接单", "已接单", "已出发", "已到达", "服务中", "已完成", "已取消", "已过期"]

pytestmark = pytest.mark.timeout(180)

# The fixtures these tests use (chromium, one console tab), defined in console_page.py.
browser = console_page.browser
console = console_page.console


# --- serving ------------------------------------------------------------------------------------


async def test_served_with_csp_and_vendored_libraries(hub):
    async with httpx.AsyncClient(base_url=hub.url) as http:
        root = await http.get("/")
        assert root.status_code in (302, 307) and root.headers["location"] == "/console/"
        bare = await http.get("/console")
        assert bare.headers["location"] == "/console/"
        page = await http.get("/console/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        csp = page.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "unsafe-inline" not in csp
        assert "default-src 'self'" in csp and "connect-src 'self' ws: wss:" in csp
        # No inline script: every <script> has a src, no element has an on* handler.
        assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)
        assert not re.search(r"\son[a-z]+\s*=", page.text)
        for path in (
            "/console/vendor/leaflet/leaflet.js",
            "/console/vendor/leaflet/LICENSE",
            "/console/vendor/socket.io-client/socket.io.min.js",
            "/console/vendor/socket.io-client/LICENSE",
            "/console/vendor/README.md",
            "/console/js/main.js",
        ):
            r = await http.get(path)
            assert r.status_code == 200, path
            assert r.headers["content-security-policy"] == csp
        js = await http.get("/console/js/main.js")
        assert "javascript" in js.headers["content-type"]
        settings = (await http.get("/console/settings.json")).json()
        assert settings == {"tileUrl": None}
        missing = await http.get("/console/nope.js")
        assert missing.status_code == 404 and missing.json()["error"]["code"]
        wrong = await http.post("/console/index.html")
        assert wrong.status_code == 405 and wrong.json()["error"]["code"]


# --- login --------------------------------------------------------------------------------------


async def test_login_refuses_bad_password_and_non_staff(console, world):
    page = console.page
    await page.goto(f"{console.base}/console/")
    await page.wait_for_selector("#login:not([hidden])")
    await console.shot("login")
    await page.fill("#login-user", "admin")
    await page.fill("#login-pass", "wrong-password")
    await page.click("#login-submit")
    await expect(page.locator("#login-error")).to_contain_text("登录失败")
    assert await page.is_visible("#login")
    assert await page.evaluate("sessionStorage.length") == 0
    # A customer's token (from the mini program) does not open the console.
    customer = await world.customer()
    user = {"id": customer.user_id, "role": "customer", "nickname": "x"}
    await page.evaluate(
        "([t, u]) => { sessionStorage.setItem('orderhub.console.token', t);"
        " sessionStorage.setItem('orderhub.console.user', JSON.stringify(u)); }",
        [customer.token, user],
    )
    await page.reload()
    await page.wait_for_selector("#login:not([hidden])")
    assert not await page.is_visible("#app")
    # A staff user whose token the hub does not accept (expired, forged) is sent to log in.
    staff = {"id": 1, "role": "admin", "nickname": "admin"}
    await page.evaluate(
        "([t, u]) => { sessionStorage.setItem('orderhub.console.token', t);"
        " sessionStorage.setItem('orderhub.console.user', JSON.stringify(u)); }",
        ["not-a-token", staff],
    )
    await page.reload()
    await expect(page.locator("#login-error")).to_have_text("登录已失效，请重新登录")
    assert not await page.is_visible("#app")
    assert await page.evaluate("sessionStorage.length") == 0
    # The admin gets in; the token lives in sessionStorage.
    await console.login()
    assert await page.evaluate("sessionStorage.getItem('orderhub.console.token')")
    assert await page.locator(".column").count() == 8
    labels = await page.locator(".column h2 span:first-child").all_text_contents()
    assert labels == LABELS
    await page.click("#logout")
    await page.wait_for_selector("#login:not([hidden])")
    assert await page.evaluate("sessionStorage.length") == 0
    # Non-loopback requests: none (checked by the fixture); the page loaded only its own files.
    assert all(urlsplit(u).hostname == "127.0.0.1" for u in console.requests)


# --- safe by default ----------------------------------------------------------------------------


async def test_xss_probe_stays_text(console, world):
    await console.login()
    page = console.page
    customer = await world.customer()
    order = await world.order(customer, description=XSS, contactName=XSS)
    card = console.card(order["id"], "pending")
    await card.wait_for(timeout=5_000)
    assert await card.locator(".desc").text_content() == XSS
    assert await page.locator(".board img, #drawer img").count() == 0
    await open_drawer(console, order["id"])
    assert await page.text_content("[data-field='描述']") == XSS
    assert XSS in await page.text_content("[data-field='联系人']")
    assert await page.locator(".board img, #drawer img").count() == 0
    await page.wait_for_timeout(500)
    assert console.dialogs == []
    # The page's own requests: the console's files, the API and the socket; all on 127.0.0.1.
    hosts = {urlsplit(u).hostname for u in console.requests}
    assert hosts == {"127.0.0.1"}, hosts
