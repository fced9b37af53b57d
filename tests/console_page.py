"""The console's browser tests' shared parts: Debian's chromium launched by Playwright, one
tab on the console that records every request, dialog and page error (`Console`, with login,
card / pin locators and screenshots into reports/console/), and opening an order's drawer.

A plain module, not a test file: the test files import the `browser` and `console` fixtures
from it (tests/test_console_board.py, tests/test_console_safety.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import ADMIN_PASSWORD, ROOT
from playwright.async_api import async_playwright

CHROMIUM = os.environ.get("ORDERHUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
SHOTS = ROOT / "reports" / "console"
VIEWPORT = {"width": 1366, "height": 768}
HAVE_CHROMIUM = Path(CHROMIUM).exists() or bool(shutil.which("chromium"))


@pytest.fixture(scope="module")
async def browser():
    if not HAVE_CHROMIUM:
        pytest.fail(
            "chromium is missing: `make test` installs it as root; otherwise run "
            "`sudo apt-get update && sudo apt-get install -y chromium`"
        )
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        await b.close()


class Console:
    """One browser tab on the console, recording every request, dialog and page error."""

    def __init__(self, page, base: str):
        self.page = page
        self.base = base
        self.requests: list[str] = []
        self.outside: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []

    async def login(self, username="admin", password=ADMIN_PASSWORD) -> None:
        page = self.page
        await page.goto(f"{self.base}/")
        assert urlsplit(page.url).path == "/console/"
        await page.fill("#login-user", username)
        await page.fill("#login-pass", password)
        await page.click("#login-submit")
        await page.wait_for_selector("body[data-ready='1']", timeout=15_000)
        await page.wait_for_selector("#conn.on", timeout=15_000)

    def card(self, order_id: int, status: str | None = None):
        column = f".column[data-status='{status}'] " if status else ""
        return self.page.locator(f"{column}.card[data-order-id='{order_id}']")

    def pin(self, order_id: int):
        return self.page.locator(f".leaflet-marker-pane [data-order-id='{order_id}']")

    async def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.fixture
async def console(browser, hub):
    context = await browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    page = await context.new_page()
    tab = Console(page, hub.url)

    async def guard(route):
        url = route.request.url
        tab.requests.append(url)
        host = urlsplit(url).hostname
        if url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            await route.continue_()
        else:
            tab.outside.append(url)
            await route.abort()

    async def on_dialog(dialog):
        tab.dialogs.append(dialog.message)
        await dialog.dismiss()

    await context.route("**/*", guard)
    page.on("dialog", on_dialog)
    page.on("websocket", lambda ws: tab.requests.append(ws.url))
    page.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            tab.errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    yield tab
    await context.close()
    assert not tab.outside, f"requests left 127.0.0.1: {tab.outside}"
    assert not tab.dialogs, f"dialogs fired: {tab.dialogs}"
    assert not tab.errors, f"page errors: {tab.errors}"


async def open_drawer(console: Console, order_id: int) -> None:
    await console.card(order_id).click()
    await console.page.wait_for_selector("#drawer:not([hidden])")
    await console.page.wait_for_selector("#drawer-timeline li")
