"""Secrets that are generated on first start and kept in the state dir (ORDERHUB_STATE_DIR)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _read_or_create(path: Path, make) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    # O_EXCL: when two processes start together exactly one writes, the other reads it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as f:
        f.write(value)
    return value


def jwt_secret(state_dir: Path, from_env: str | None) -> str:
    if from_env:
        return from_env
    return _read_or_create(
        state_dir / "hub-secret", lambda: secrets.token_hex(32).encode()
    ).decode()


def phone_key(state_dir: Path) -> bytes:
    env = os.environ.get("HUB_PHONE_KEY")
    if env:
        key = bytes.fromhex(env)
    else:
        key = bytes.fromhex(
            _read_or_create(
                state_dir / "phone-key", lambda: secrets.token_hex(32).encode()
            ).decode()
        )
    return key


def admin_password(state_dir: Path, from_env: str | None) -> tuple[str, bool]:
    """(password, created_now): printed once when it was generated."""
    if from_env:
        return from_env, False
    path = state_dir / "admin-password"
    existed = path.exists()
    value = _read_or_create(path, lambda: secrets.token_urlsafe(12).encode()).decode()
    return value, not existed
