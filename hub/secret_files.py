"""Secrets that are generated on first start and kept in the state dir (ORDERHUB_STATE_DIR)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from adapters.state_secrets import read_or_create


def jwt_secret(state_dir: Path, from_env: str | None) -> str:
    if from_env:
        return from_env
    return read_or_create(state_dir / "hub-secret", lambda: secrets.token_hex(32))


def phone_key(state_dir: Path) -> bytes:
    env = os.environ.get("HUB_PHONE_KEY")
    if env:
        key = bytes.fromhex(env)
    else:
        key = bytes.fromhex(read_or_create(state_dir / "phone-key", lambda: secrets.token_hex(32)))
    return key


def admin_password(state_dir: Path, from_env: str | None) -> tuple[str, bool]:
    """(password, created_now): printed once when it was generated."""
    if from_env:
        return from_env, False
    path = state_dir / "admin-password"
    existed = path.exists()
    value = read_or_create(path, lambda: secrets.token_urlsafe(12))
    return value, not existed
