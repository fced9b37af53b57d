"""Uploaded images on disk: order, repair, review and complaint photos (docs/api.md "Uploads").

Files live under `<state dir>/uploads/` with a random name (192 bits, URL-safe) plus the
extension of the type their first bytes show: the name is the only capability needed to read
one, so it must not be guessable, and the type is never taken from what the client declared.
A file is written under a temporary name and renamed, so a reader never sees half of one.
"""

from __future__ import annotations

import os
import re
import secrets
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


def content_type(name: str) -> str:
    return _EXT_TYPES[Path(name).suffix]


class UploadStore:
    def __init__(self, root: Path):
        self.root = root

    def save(self, data: bytes) -> Stored | None:
        """Store an image; None when the bytes are not one of the accepted image types."""
        ext = sniff(data[:16])
        if ext is None:
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
