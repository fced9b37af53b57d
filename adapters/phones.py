"""Phone numbers at rest: SM4-GCM ciphertext, a keyed hash for lookups, a masked form to show."""

from __future__ import annotations

import hashlib
import hmac
import os
import re

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_NONCE = 12
_TAG = 16


def mask(phone: str) -> str:
    """138****0000: enough to recognise, never enough to call."""
    if len(phone) >= 7:
        return phone[:3] + "****" + phone[-4:]
    return "*" * len(phone)


class PhoneVault:
    """Encrypts phones with SM4-GCM; keys come from the environment or the state dir."""

    def __init__(self, key: bytes):
        if len(key) != 32:
            raise ValueError("phone key must be 32 bytes (16 for SM4, 16 for the lookup HMAC)")
        self._enc_key = key[:16]
        self._mac_key = key[16:]

    def encrypt(self, phone: str) -> bytes:
        nonce = os.urandom(_NONCE)
        enc = Cipher(algorithms.SM4(self._enc_key), modes.GCM(nonce)).encryptor()
        ct = enc.update(phone.encode()) + enc.finalize()
        return nonce + ct + enc.tag

    def decrypt(self, blob: bytes) -> str:
        nonce, ct, tag = blob[:_NONCE], blob[_NONCE:-_TAG], blob[-_TAG:]
        dec = Cipher(algorithms.SM4(self._enc_key), modes.GCM(nonce, tag)).decryptor()
        return (dec.update(ct) + dec.finalize()).decode()

    def lookup_hash(self, phone: str) -> bytes:
        return hmac.new(self._mac_key, phone.encode(), hashlib.sha256).digest()

    def seal(self, phone: str) -> tuple[bytes, bytes, str]:
        """(ciphertext, lookup hash, masked) — the three columns a phone is stored as."""
        return self.encrypt(phone), self.lookup_hash(phone), mask(phone)
