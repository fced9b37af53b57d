"""POST /api/uploads: images only (by their bytes), a size limit, logged-in users only, an
unguessable name served back at its URL; and the nearby providers a customer may choose."""

from __future__ import annotations

import asyncio
import os
import re
import struct
import zlib

import httpx
import pytest

from adapters.uploads import sniff, strip_metadata
from hub.routes.uploads import MAX_IMAGE, file_field

LAT, LNG = 20.11, 110.21  # away from the other tests' providers


def png(width: int = 1, height: int = 1, text: bytes = b"") -> bytes:
    """A real (tiny) PNG; `text`: a tEXt chunk before the image data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + (chunk(b"tEXt", text) if text else b"")
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body


EXIF = segment(0xE1, b"Exif\x00\x00GPSLatitude=20.0301;GPSLongitude=110.3012")
JFIF = segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
SCAN = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00") + os.urandom(200) + b"\r\n--x\r\n\xff\xd9"
JPEG = b"\xff\xd8" + JFIF + EXIF + segment(0xDB, bytes(65)) + SCAN


def test_where_a_photo_was_taken_is_not_kept():
    assert strip_metadata(JPEG, ".jpg") == b"\xff\xd8" + JFIF + segment(0xDB, bytes(65)) + SCAN
    assert strip_metadata(png(text=b"GPS\x0020.03,110.30"), ".png") == png()
    assert strip_metadata(JPEG[:40], ".jpg") is None  # cut short: refused, not stored
    assert strip_metadata(b"\xff\xd8\xff\xe0\x00\x10JFIF" + os.urandom(50), ".jpg") is None
    assert strip_metadata(png()[:30], ".png") is None


def test_sniff_reads_the_bytes_not_the_name():
    assert sniff(png()[:16]) == ".png"
    assert sniff(JPEG[:16]) == ".jpg"
    assert sniff(b"GIF89a\x01\x00") == ".gif"
    assert sniff(b"RIFF\x10\x00\x00\x00WEBPVP8 ") == ".webp"
    assert sniff(b"<svg xmlns='http://www.w3.org/2000/svg'>") is None
    assert sniff(b"%PDF-1.7") is None
    assert sniff(b"") is None


def test_the_file_field_keeps_every_byte():
    body = (
        b'--B\r\nContent-Disposition: form-data; name="other"\r\n\r\nxx\r\n'
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + JPEG + b"\r\n--B--\r\n"
    )
    assert file_field(body, b"B") == JPEG
    assert file_field(body.replace(b'name="file"', b'name="f"'), b"B") is None


async def _upload(base: str, token: str | None, content: bytes, **kw) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        return await http.post(
            "/api/uploads",
            files={kw.pop("field", "file"): (kw.pop("filename", "x.png"), content, "image/png")},
            headers=headers,
        )


async def test_an_image_is_stored_and_served_back(world, hub):
    customer = await world.customer()
    r = await _upload(hub.url, customer.token, png(3, 2))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["contentType"] == "image/png" and body["size"] == len(png(3, 2))
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}\.png", body["name"])
    assert body["url"] == f"{hub.url}/api/uploads/{body['name']}"
    async with httpx.AsyncClient(timeout=30) as http:
        got = await http.get(body["url"])  # public: <image src> sends no token
        assert got.status_code == 200 and got.content == png(3, 2)
        assert got.headers["content-type"] == "image/png"
        assert got.headers["x-content-type-options"] == "nosniff"
        # a name it never made, a traversal, a neighbour's name: 404 in the contract's shape
        for name in ("A" * 32 + ".png", "..%2Fhub-secret", "hub-secret"):
            miss = await http.get(f"{hub.url}/api/uploads/{name}")
            assert miss.status_code == 404 and miss.json()["error"]["code"] == "not_found"
    # the name is random: the same bytes twice are two files
    again = (await _upload(hub.url, customer.token, png(3, 2))).json()
    assert again["name"] != body["name"]
    # a JPEG named .png is stored as what it is, without the EXIF segment
    jpeg = await _upload(hub.url, customer.token, JPEG, filename="photo.png")
    assert jpeg.status_code == 201 and jpeg.json()["name"].endswith(".jpg")
    async with httpx.AsyncClient(timeout=30) as http:
        served = (await http.get(jpeg.json()["url"])).content
    assert b"GPSLatitude" not in served and served == strip_metadata(JPEG, ".jpg")
    # and the URL is what an order's images take
    order = await world.order(customer, lat=LAT, lng=LNG, images=[body["url"]])
    assert order["id"]


@pytest.mark.parametrize(
    "content, code",
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", 415),
        (b"%PDF-1.7 not an image", 415),
        (b"MZ\x90\x00 an exe declared image/png", 415),
        (b"", 422),
    ],
)
async def test_anything_but_an_image_is_refused(world, hub, content, code):
    customer = await world.customer()
    r = await _upload(hub.url, customer.token, content)
    assert r.status_code == code, r.text
    assert r.json()["error"]["code"] in ("unsupported_media_type", "validation_error")


async def test_who_may_upload_and_how_much(world, hub):
    r = await _upload(hub.url, None, png())
    assert (r.status_code, r.json()["error"]["code"]) == (401, "missing_token")
    r = await _upload(hub.url, "not-a-token", png())
    assert r.status_code == 401
    provider = await world.provider()
    assert (await _upload(hub.url, provider.token, png())).status_code == 201
    customer = await world.customer()
    big = png() + b"\x00" * MAX_IMAGE
    r = await _upload(hub.url, customer.token, big)
    assert (r.status_code, r.json()["error"]["code"]) == (413, "payload_too_large")
    r = await _upload(hub.url, customer.token, png(), field="photo")
    assert r.status_code == 422
    async with httpx.AsyncClient(base_url=hub.url, timeout=30) as http:
        auth = {"Authorization": f"Bearer {customer.token}"}
        r = await http.post("/api/uploads", json={"file": "x"}, headers=auth)
        assert (r.status_code, r.json()["error"]["code"]) == (415, "unsupported_media_type")


async def test_uploads_are_rate_limited(world, hub):
    customer = await world.customer()
    answers = await asyncio.gather(*(_upload(hub.url, customer.token, png()) for _ in range(33)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(201) == 30 and statuses.count(429) == 3, statuses
    limited = next(r for r in answers if r.status_code == 429)
    assert limited.json()["error"]["code"] == "rate_limited"


async def test_nearby_providers_for_a_direct_order(world):
    services = await world.ensure_catalog()
    await world.area(LAT, LNG)
    customer, provider = await world.customer(), await world.provider()
    sock = await world.socket(provider)
    assert (await sock.call("provider.online", {"lat": LAT + 0.01, "lng": LNG}))["ok"]
    query = {"lat": LAT, "lng": LNG, "serviceId": services[0]["id"]}
    found = []
    for _ in range(50):  # the GEO set is written in the host's next tick
        found = (await customer.api.ok("GET", "/api/providers/nearby", params=query))["items"]
        if any(p["id"] == provider.provider_id for p in found):
            break
        await asyncio.sleep(0.1)
    mine = next(p for p in found if p["id"] == provider.provider_id)
    assert set(mine) == {"id", "name", "rating", "ratingCount", "completedOrders", "distanceM"}
    assert 1000 <= mine["distanceM"] <= 1200 and mine["distanceM"] % 100 == 0
    anywhere = {"lat": LAT, "lng": LNG}  # the home page: any service's providers
    listed = (await customer.api.ok("GET", "/api/providers/nearby", params=anywhere))["items"]
    assert [p for p in listed if p["id"] == provider.provider_id] == [mine]  # listed once
    r = await provider.api.call("GET", "/api/providers/nearby", params=query)
    assert r.status_code == 403
    r = await customer.api.call("GET", "/api/providers/nearby", params={"lat": 91, "lng": 0})
    assert r.status_code == 422
    order = await world.order(
        customer, lat=LAT, lng=LNG, dispatchMode="direct", providerId=mine["id"]
    )
    offer = await sock.wait_for("order.offer", orderId=order["id"])
    assert offer["orderId"] == order["id"]
    assert (await sock.call("provider.offline"))["ok"]
