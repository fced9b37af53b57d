"""The dispatch console (CONTRACT §11, issue #11): the static files of `console/` at `/console`.

No build step: plain ES modules and vendored libraries (docs/console.md). Every response under
`/console` carries a Content-Security-Policy that allows no inline script, and `/` sends a
browser to the console.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

CONSOLE_DIR = Path(__file__).resolve().parent.parent / "console"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:{tiles}; "
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
# A deployment with a tile server names it (Leaflet's URL template); none by default: the map
# then draws areas and markers on a blank background and no request leaves the hub.
TILE_URL_ENV = "HUB_CONSOLE_TILE_URL"
_ORIGIN = re.compile(r"^(https?://)([A-Za-z0-9.{}:_-]+)")


def tile_url() -> str | None:
    url = os.environ.get(TILE_URL_ENV, "").strip()
    return url if _ORIGIN.match(url) else None


def tile_origin(url: str | None) -> str:
    """The CSP source for the tile server: `https://{s}.tile.example.org/...` →
    `https://*.tile.example.org`."""
    if not url or not (m := _ORIGIN.match(url)):
        return ""
    host = re.sub(r"\{[^}]*\}", "*", m.group(2))
    return f" {m.group(1)}{host}"


def headers() -> list[tuple[bytes, bytes]]:
    return [
        (b"content-security-policy", CSP.format(tiles=tile_origin(tile_url())).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"cache-control", b"no-cache"),
    ]


class SecuredStatic:
    """StaticFiles whose every response (errors included) carries the console's headers."""

    def __init__(self, directory: Path):
        self.files = StaticFiles(directory=directory, html=True, check_dir=False)
        self.headers = headers()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_secured(message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in self.headers}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + self.headers}
            await send(message)

        await self.files(scope, receive, send_secured)


async def to_console(request) -> RedirectResponse:
    return RedirectResponse("/console/", status_code=307)


async def console_settings(request) -> JSONResponse:
    """What the console reads at start: the tile URL (null: no tile layer)."""
    return JSONResponse({"tileUrl": tile_url()}, headers={"Cache-Control": "no-store"})


def routes() -> list:
    """Starlette routes: `/` and `/console` redirect to `/console/`, which serves console/."""
    return [
        Route("/", to_console, methods=["GET", "HEAD"]),
        Route("/console", to_console, methods=["GET", "HEAD"]),
        Route("/console/settings.json", console_settings, methods=["GET"]),
        Mount("/console", app=SecuredStatic(CONSOLE_DIR), name="console"),
    ]
