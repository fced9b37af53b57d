"""WeChat Pay API v3 key material for the sandbox, shared by the hub and the sandbox.

Made on first start into the state dir (ORDERHUB_STATE_DIR) as one JSON file, and read back
by every later start; both processes call `load_or_make` and get the same keys:

- the merchant's RSA-2048 key pair and certificate serial number (the hub signs requests and
  paySign with the private key; the sandbox verifies with the public one);
- the platform's ("WeChat Pay public key") RSA-2048 key pair and its id `PUB_KEY_ID_…` (the
  sandbox signs answers and notifications; the hub verifies with the public key);
- the APIv3 key (32 characters) that encrypts notification resources;
- the merchant id: WECHAT_PAY_MCHID, else 1900000109 (not stored: the environment decides).

The file appears whole or not at all (written aside, then hard-linked into place, which fails
if it exists): when the hub and the sandbox start together exactly one set of keys wins and
neither process ever reads a half-written file.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DEFAULT_MCHID = "1900000109"
KEYS_FILE = "wechat-pay-keys.json"
_APIV3_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class PayKeys:
    mchid: str
    merchant_private_key: str  # PEM (PKCS#8), what AsyncWeChatPay's private_key takes
    merchant_public_key: str  # PEM (SubjectPublicKeyInfo)
    merchant_serial_no: str  # 40 upper-case hex digits, like a merchant API certificate's
    platform_private_key: str  # PEM: only the sandbox (playing WeChat Pay) signs with it
    platform_public_key: str  # PEM: AsyncWeChatPay's public_key
    # "PUB_KEY_ID_" + 32 upper-case hex digits: AsyncWeChatPay's public_key_id
    platform_public_key_id: str
    apiv3_key: str  # 32 characters (AES-256-GCM key of notification resources)


def _private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_pem_of(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _make() -> dict[str, str]:
    def new_key() -> str:
        return _private_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    return {
        "merchant_private_key": new_key(),
        "merchant_serial_no": secrets.token_hex(20).upper(),
        "platform_private_key": new_key(),
        "public_key_id": "PUB_KEY_ID_" + secrets.token_hex(16).upper(),
        "apiv3_key": "".join(secrets.choice(_APIV3_ALPHABET) for _ in range(32)),
    }


def _read_or_create(path: Path) -> dict[str, str]:
    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".wechat-pay-keys.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(_make(), f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # atomic and exclusive, like O_EXCL, but never partial
        except FileExistsError:
            pass  # another process made them first: theirs win
    finally:
        os.unlink(tmp)
    return json.loads(path.read_text())


def load_or_make(state_dir: Path | str, mchid: str | None = None) -> PayKeys:
    """The keys in `state_dir`, made there first if missing; mchid: argument, env, default."""
    stored = _read_or_create(Path(state_dir) / KEYS_FILE)
    return PayKeys(
        mchid=mchid or os.environ.get("WECHAT_PAY_MCHID") or DEFAULT_MCHID,
        merchant_private_key=stored["merchant_private_key"],
        merchant_public_key=public_pem_of(stored["merchant_private_key"]),
        merchant_serial_no=stored["merchant_serial_no"],
        platform_private_key=stored["platform_private_key"],
        platform_public_key=public_pem_of(stored["platform_private_key"]),
        platform_public_key_id=stored["public_key_id"],
        apiv3_key=stored["apiv3_key"],
    )
