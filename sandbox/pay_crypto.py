"""WeChat Pay API v3 signatures and encryption, as the platform side does them.

- requests: `Authorization: WECHATPAY2-SHA256-RSA2048 mchid=…,nonce_str=…,signature=…,
  timestamp=…,serial_no=…`, SHA256withRSA over `METHOD\\nPATH?QUERY\\nTS\\nNONCE\\nBODY\\n` with the
  merchant's key (`check_authorization`);
- answers and notifications: `Wechatpay-Signature` over `TS\\nNONCE\\nBODY\\n` with the platform
  key (`Signer`);
- notification resources: AEAD_AES_256_GCM with the APIv3 key (`encrypt_resource`);
- the mini program's paySign: over `appId\\ntimeStamp\\nnonceStr\\npackage\\n` (`verify_pay_sign`).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import string
import time
import uuid
from dataclasses import dataclass
from functools import cached_property, lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.responses import Response

from adapters.wechat_pay_keys import PayKeys

SCHEME = "WECHATPAY2-SHA256-RSA2048"
BAD_AUTHORIZATION = "Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》"
CLOCK_SKEW_S = 300  # WeChat refuses a request timestamp more than 5 minutes off
_AUTH_PARAM = re.compile(r'\s*([a-z_]+)="([^"]*)"\s*(?:,|$)')
_NONCE_ALPHABET = string.ascii_uppercase + string.digits


def nonce(length: int = 32) -> str:
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(length))


def _load_private(pem: str) -> rsa.RSAPrivateKey:
    return serialization.load_pem_private_key(pem.encode(), password=None)


@lru_cache(maxsize=8)
def _load_public(pem: str) -> rsa.RSAPublicKey:
    return serialization.load_pem_public_key(pem.encode())


def rsa_sign(key: rsa.RSAPrivateKey, message: str) -> str:
    signature = key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def rsa_verify(key: rsa.RSAPublicKey, message: str, signature_b64: str) -> bool:
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        key.verify(signature, message.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


class PayError(Exception):
    """An answer WeChat Pay gives as `{"code": …, "message": …}` with an HTTP error status."""

    def __init__(self, status: int, code: str, message: str, detail: dict | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.detail = status, code, message, detail

    def body(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.detail is not None:
            body["detail"] = self.detail
        return body


def param_error(field: str, issue: str, location: str = "body") -> PayError:
    return PayError(
        400,
        "PARAM_ERROR",
        f"参数错误: {field} {issue}",
        {"field": field, "issue": issue, "location": location},
    )


@dataclass
class Signer:
    """Signs what the platform sends (answers, notifications) with the platform key."""

    keys: PayKeys

    def __post_init__(self) -> None:
        self._key = _load_private(self.keys.platform_private_key)

    @cached_property
    def _forger(self) -> rsa.RSAPrivateKey:
        """A key WeChat never had: what a forged notification is signed with."""
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def headers(self, body: bytes, timestamp: int | None = None, forged: bool = False) -> dict:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce_str = nonce()
        message = f"{ts}\n{nonce_str}\n{body.decode()}\n"
        return {
            "Wechatpay-Nonce": nonce_str,
            "Wechatpay-Signature": rsa_sign(self._forger if forged else self._key, message),
            "Wechatpay-Timestamp": ts,
            "Wechatpay-Serial": self.keys.platform_public_key_id,
            "Wechatpay-Signature-Type": SCHEME,
        }

    def answer(self, status: int, body: bytes = b"", media_type: str = "application/json"):
        headers = {"Request-ID": str(uuid.uuid4()), **self.headers(body)}
        if status == 204:
            return Response(status_code=204, headers=headers)
        return Response(body, status_code=status, headers=headers, media_type=media_type)


def _sign_information(method: str, url: str, message: str) -> dict:
    return {
        "method": method,
        "url": url,
        "sign_message_length": len(message.encode()),
        "truncated_sign_message": message[:64],
    }


def check_authorization(
    keys: PayKeys, method: str, url: str, body: str, header: str | None, now: float
) -> str:
    """The calling mchid when the request's Authorization holds, else a 401 SIGN_ERROR."""
    if not header or not header.startswith(SCHEME + " "):
        raise PayError(
            401,
            "SIGN_ERROR",
            "Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》",
        )
    params = dict(_AUTH_PARAM.findall(header[len(SCHEME) + 1 :]))
    required = ("mchid", "nonce_str", "signature", "timestamp", "serial_no")
    missing = [name for name in required if not params.get(name)]
    if missing:
        raise PayError(
            401,
            "SIGN_ERROR",
            f"{BAD_AUTHORIZATION}（缺少 {', '.join(missing)}）",
            {"field": missing[0], "location": "authorization"},
        )
    if params["mchid"] != keys.mchid:
        raise PayError(
            401,
            "SIGN_ERROR",
            "Authorization中的商户号mchid不存在或与签名证书不匹配",
            {"field": "mchid", "location": "authorization", "value": params["mchid"]},
        )
    if params["serial_no"].upper() != keys.merchant_serial_no:
        raise PayError(
            401,
            "SIGN_ERROR",
            "商户证书序列号有误。请使用签名私钥匹配的证书序列号",
            {"field": "serial_no", "location": "authorization", "value": params["serial_no"]},
        )
    try:
        stamp = int(params["timestamp"])
    except ValueError:
        stamp = None
    if stamp is None or abs(now - stamp) > CLOCK_SKEW_S:
        raise PayError(
            401,
            "SIGN_ERROR",
            "Http头Authorization中的timestamp与当前时间相差超过5分钟",
            {"field": "timestamp", "location": "authorization", "value": params["timestamp"]},
        )
    message = f"{method}\n{url}\n{params['timestamp']}\n{params['nonce_str']}\n{body}\n"
    if not rsa_verify(_load_public(keys.merchant_public_key), message, params["signature"]):
        raise PayError(
            401,
            "SIGN_ERROR",
            "签名错误，请检查后再试",
            {
                "detail": {"issue": "sign not match"},
                "field": "signature",
                "location": "authorization",
                "sign_information": _sign_information(method, url, message),
            },
        )
    return params["mchid"]


def verify_pay_sign(keys: PayKeys, app_id: str, stamp: str, nonce_str: str, package: str, sign):
    message = f"{app_id}\n{stamp}\n{nonce_str}\n{package}\n"
    return rsa_verify(_load_public(keys.merchant_public_key), message, sign)


def encrypt_resource(apiv3_key: str, plaintext: str, associated_data: str) -> dict:
    """A notification's `resource`: AEAD_AES_256_GCM, a 12-character nonce, base64 ciphertext."""
    resource_nonce = nonce(12)
    sealed = AESGCM(apiv3_key.encode()).encrypt(
        resource_nonce.encode(), plaintext.encode(), associated_data.encode()
    )
    return {
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(sealed).decode(),
        "associated_data": associated_data,
        "original_type": associated_data,
        "nonce": resource_nonce,
    }
