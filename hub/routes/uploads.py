"""Image uploads for order, repair, review and complaint photos (docs/api.md "Uploads").

`POST /api/uploads` takes what `wx.uploadFile` sends: `multipart/form-data` with the image in
the field `file`. Only a logged-in user may upload, 30 a minute; the type is read from the
file's first bytes (JPEG, PNG, GIF, WebP), never from the declared type or name; at most
5 MiB; a photo's EXIF (where it was taken) is dropped before storing (adapters/uploads.py).
The answer's `url` is what the order, review and complaint bodies take in `images`.
`GET /api/uploads/{name}` serves it back: public, since `<image src>` cannot send a token,
and safe because the 32-character random name is the only way to find a file.

These are plain Starlette routes, not the JSON router's: their body is multipart, not JSON.
"""

from __future__ import annotations

import asyncio
import re

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from adapters.uploads import UploadStore, content_type
from hub.auth import ROLES, principal_from_request
from hub.errors import ApiError, Forbidden, Invalid, NotFound
from hub.responses import json_response

MAX_IMAGE = 5 * 1024 * 1024
MAX_BODY = MAX_IMAGE + 16 * 1024  # the multipart envelope around it
UPLOADS_PER_MIN = 30
FIELD = b"file"  # wx.uploadFile's `name`
_BOUNDARY = re.compile(r'boundary="?([^";]{1,70})"?', re.I)
_NAME_PARAM = re.compile(rb'(?:^|;)\s*name="([^"]*)"', re.I)


def store_of(hub) -> UploadStore:
    return UploadStore(hub.settings.state_dir / "uploads")


def _too_large() -> ApiError:
    return ApiError(f"an image may be at most {MAX_IMAGE} bytes", "payload_too_large", 413)


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise _too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def file_field(body: bytes, boundary: bytes) -> bytes | None:
    """The content of the part named `file` of a multipart/form-data body (RFC 7578)."""
    for part in (b"\r\n" + body).split(b"\r\n--" + boundary)[1:]:
        if part.startswith(b"--"):  # the closing delimiter
            break
        head, sep, data = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-disposition":
                m = _NAME_PARAM.search(value)
                if m and m.group(1) == FIELD:
                    return data
    return None


async def upload(request: Request) -> Response:
    hub = request.app.state.hub
    me = principal_from_request(request, hub.tokens)
    if me.role not in ROLES:
        raise Forbidden("log in to upload")
    await hub.limiter.hit(f"upload:{me.user_id}", UPLOADS_PER_MIN)
    ctype = request.headers.get("content-type", "")
    m = _BOUNDARY.search(ctype)
    if not ctype.lower().startswith("multipart/form-data") or not m:
        raise ApiError(
            "send the image as multipart/form-data in the field `file`",
            "unsupported_media_type",
            415,
        )
    data = file_field(await _read_body(request), m.group(1).encode())
    if not data:
        missing = [{"field": "file", "message": "required"}]
        raise Invalid("no image in the field `file`", fields=missing)
    if len(data) > MAX_IMAGE:
        raise _too_large()
    stored = await asyncio.to_thread(store_of(hub).save, data)
    if stored is None:
        raise ApiError(
            "only JPEG, PNG, GIF or WebP images (and readable ones)", "unsupported_media_type", 415
        )
    url = f"{hub.settings.public_base}/api/uploads/{stored.name}"
    return json_response(
        {"url": url, "name": stored.name, "size": stored.size, "contentType": stored.content_type},
        status=201,
    )


async def download(request: Request) -> Response:
    path = store_of(request.app.state.hub).path(request.path_params["name"])
    if path is None:
        raise NotFound("no such upload")
    return FileResponse(
        path,
        media_type=content_type(path.name),
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "public, max-age=31536000, immutable",
        },
    )


def routes() -> list[Route]:
    return [
        Route("/api/uploads", upload, methods=["POST"]),
        Route("/api/uploads/{name}", download, methods=["GET"]),
    ]
