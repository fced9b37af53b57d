"""Uploaded images on disk: order, repair, review and complaint photos (docs/api.md "Uploads").

Files live under `<state dir>/uploads/` with a random name (192 bits, URL-safe) plus the
extension of the type their first bytes show: the name is the only capability needed to read
one, so it must not be guessable, and the type is never taken from what the client declared.
A file is written under a temporary name and renamed, so a reader never sees half of one.

Photos are served to whoever holds their URL, and a phone's camera writes where it stood into
them: a JPEG's EXIF/XMP segments (APP1) and Photoshop/IPTC block (APP13), and a PNG's eXIf and
text chunks are dropped before storing. A JPEG or PNG whose structure cannot be walked is
refused rather than stored with what it may carry. (GIF has no such metadata; WebP is stored
as it is: its EXIF chunk is not stripped yet.)
"""

from __future__ import annotations

import os
import re
import secrets
import struct
from dataclasses import dataclass
from pathlib import Path

# The image types a mini program's camera and album produce (wx.chooseMedia), by magic bytes.
_EXT_TYPES = {
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
_NAME = re.compile(r"^[A-Za-z0-9_-]{32}\.(jpg|png|gif|webp)$")


@dataclass(frozen=True)
class Stored:
    name: str
    size: int
    content_type: str


def sniff(head: bytes) -> str | None:
    """The extension of an image type from its first bytes, or None when it is none of them."""
    if head.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return ".gif"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp"
    return None


_JPEG_DROP = {0xE1, 0xED}  # APP1 (EXIF, XMP), APP13 (Photoshop IRB, IPTC)
_PNG_DROP = {b"eXIf", b"tEXt", b"zTXt", b"iTXt"}


def _strip_jpeg(data: bytes) -> bytes | None:
    """The JPEG without its metadata segments; None when its segments cannot be walked."""
    out, i = [data[:2]], 2
    while True:
        if i >= len(data) or data[i] != 0xFF:
            return None
        while i < len(data) and data[i] == 0xFF:  # fill bytes may precede a marker
            i += 1
        if i >= len(data):
            return None
        marker, i = data[i], i + 1
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length
            out.append(bytes((0xFF, marker)))
            continue
        if marker == 0xD9:  # end of image before any scan
            return None
        if i + 2 > len(data):
            return None
        (length,) = struct.unpack(">H", data[i : i + 2])
        if length < 2 or i + length > len(data):
            return None
        if marker not in _JPEG_DROP:
            out.append(bytes((0xFF, marker)) + data[i : i + length])
        i += length
        if marker == 0xDA:  # start of scan: the entropy-coded image follows as it is
            out.append(data[i:])
            return b"".join(out)


def _strip_png(data: bytes) -> bytes | None:
    """The PNG without its eXIf and text chunks; None when its chunks cannot be walked."""
    out, i = [data[:8]], 8
    while i + 12 <= len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind, end = data[i + 4 : i + 8], i + 12 + length
        if end > len(data):
            return None
        if kind not in _PNG_DROP:
            out.append(data[i:end])
        i = end
        if kind == b"IEND":
            return b"".join(out)
    return None


def strip_metadata(data: bytes, ext: str) -> bytes | None:
    if ext == ".jpg":
        return _strip_jpeg(data)
    if ext == ".png":
        return _strip_png(data)
    return data


def content_type(name: str) -> str:
    return _EXT_TYPES[Path(name).suffix]


class UploadStore:
    def __init__(self, root: Path):
        self.root = root

    def save(self, data: bytes) -> Stored | None:
        """Store an image without its metadata; None when the bytes are not one of the accepted
        image types (or not a readable one)."""
        ext = sniff(data[:16])
        if ext is None:
            return None
        data = strip_metadata(data, ext)
        if data is None:
            return None
        self.root.mkdir(parents=True, exist_ok=True)
        name = secrets.token_urlsafe(24) + ext  # 24 bytes → 32 characters
        tmp = self.root / f".{name}.part"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, self.root / name)
        return Stored(name, len(data), content_type(name))

    def path(self, name: str) -> Path | None:
        """The file of a stored name; None for a name this store never makes (no `..`, no
        other directory) or one that does not exist."""
        if not _NAME.match(name):
            return None
        path = self.root / name
        return path if path.is_file() else None
