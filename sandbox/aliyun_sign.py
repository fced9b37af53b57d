"""Alibaba Cloud's V3 request signature (ACS3-HMAC-SHA256), checked as the gateway checks it.

The official SDKs (tea-openapi ≥ 0.3) sign every RPC call this way: a canonical request made of
the method, the path, the sorted and percent-encoded query, the signed headers and the
SHA-256 of the body, hashed and HMAC'd with the AccessKey secret; the Authorization header
carries `ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<names>,Signature=<hex>`.

What is refused, with the gateway's own codes: a missing or malformed Authorization
(IncompleteSignature), an unknown AccessKey id (InvalidAccessKeyId.NotFound), a body whose
hash is not x-acs-content-sha256 or a signature that does not match (SignatureDoesNotMatch),
a date more than 15 minutes off (InvalidTimeStamp.Expired) and a nonce seen before
(SignatureNonceUsed: a replayed request).
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote

from starlette.requests import Request
from starlette.responses import JSONResponse

ALGORITHM = "ACS3-HMAC-SHA256"
SKEW_S = 15 * 60
_NONCES_KEPT = 100_000


class SignatureError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JSONResponse:
        return aliyun_error(self.status, self.code, self.message)


def aliyun_error(status: int, code: str, message: str) -> JSONResponse:
    """The gateway's error body: the SDK raises ClientException with this Code."""
    body = {"RequestId": request_id(), "Code": code, "Message": message}
    return JSONResponse(body, status_code=status)


def request_id() -> str:
    return str(uuid.uuid4()).upper()


def _canonical_query(query: str) -> str:
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    return "&".join(f"{k}={quote(v, safe='~')}" for k, v in pairs)


class Verifier:
    """Checks one request's signature against the AccessKey pairs the sandbox knows."""

    def __init__(self, keys: dict[str, str]):
        self.keys = keys  # AccessKey id → secret
        self._nonces: OrderedDict[str, float] = OrderedDict()

    async def verify(self, request: Request) -> bytes:
        """The request's body once its signature holds; raises SignatureError."""
        auth = request.headers.get("authorization", "")
        algorithm, _, rest = auth.partition(" ")
        parts = dict(p.split("=", 1) for p in rest.split(",") if "=" in p)
        if algorithm != ALGORITHM or not {"Credential", "SignedHeaders", "Signature"} <= set(parts):
            raise SignatureError(400, "IncompleteSignature", "the Authorization header is bad")
        secret = self.keys.get(parts["Credential"])
        if secret is None:
            raise SignatureError(404, "InvalidAccessKeyId.NotFound", "unknown AccessKeyId")
        body = await request.body()
        payload_hash = hashlib.sha256(body).hexdigest()
        if request.headers.get("x-acs-content-sha256") != payload_hash:
            raise SignatureError(400, "SignatureDoesNotMatch", "the body hash does not match")
        signed = parts["SignedHeaders"].split(";")
        for required in ("host", "x-acs-date", "x-acs-signature-nonce", "x-acs-action"):
            if required not in signed:
                raise SignatureError(400, "IncompleteSignature", f"{required} is not signed")
        headers = "".join(f"{h}:{request.headers.get(h, '').strip()}\n" for h in signed)
        canonical = "\n".join(
            [
                request.method,
                request.url.path or "/",
                _canonical_query(request.url.query),
                headers,
                ";".join(signed),
                payload_hash,
            ]
        )
        to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        expected = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, parts["Signature"]):
            raise SignatureError(400, "SignatureDoesNotMatch", "the signature does not match")
        self._fresh(request.headers["x-acs-date"], request.headers["x-acs-signature-nonce"])
        return body

    def _fresh(self, date: str, nonce: str) -> None:
        try:
            at = datetime.strptime(date, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
        except ValueError:
            raise SignatureError(400, "InvalidTimeStamp.Format", "x-acs-date is bad") from None
        now = time.time()
        if abs(now - at) > SKEW_S:
            raise SignatureError(400, "InvalidTimeStamp.Expired", "x-acs-date is too far off")
        if nonce in self._nonces:
            raise SignatureError(400, "SignatureNonceUsed", "this nonce was used before")
        self._nonces[nonce] = now
        while len(self._nonces) > _NONCES_KEPT:
            self._nonces.popitem(last=False)


def params_of(request: Request, body: bytes) -> dict[str, str]:
    """An RPC call's parameters: the query and a form body, as the SDK sends them."""
    params = dict(parse_qsl(request.url.query, keep_blank_values=True))
    if body and "form" in request.headers.get("content-type", ""):
        params.update(parse_qsl(body.decode(), keep_blank_values=True))
    return params


def gateway_route(verifier: Verifier, actions: dict) -> list:
    """POST / (and GET /) as the Alibaba Cloud RPC gateway: the signature first, then the
    action named by x-acs-action goes to its product's handler(params) → (status, body)."""
    from starlette.routing import Route

    async def gateway(request: Request) -> JSONResponse:
        try:
            body = await verifier.verify(request)
        except SignatureError as exc:
            return exc.response()
        action = request.headers.get("x-acs-action", "")
        handler = actions.get(action)
        if handler is None:
            return aliyun_error(404, "InvalidAction.NotFound", f"unknown action {action!r}")
        status, answer = await handler(params_of(request, body))
        return JSONResponse({"RequestId": request_id(), **answer}, status_code=status)

    return [Route("/", gateway, methods=["GET", "POST"])]
