"""What an actor answers: plain dicts (they cross Ray calls), in the shape of CONTRACT §2."""

from __future__ import annotations


def ok(**fields) -> dict:
    return {"ok": True, **fields}


def fail(status: int, code: str, message: str) -> dict:
    return {"ok": False, "status": status, "error": {"code": code, "message": message}}


def not_found() -> dict:
    return fail(404, "not_found", "no such order")
