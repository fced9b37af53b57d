"""Who is calling: JWT tokens, password hashing and the Principal a handler sees."""

from __future__ import annotations

import time
from dataclasses import dataclass

import bcrypt
import jwt
from starlette.requests import Request

from hub.errors import Unauthorized

STAFF = ("dispatcher", "admin")
ROLES = ("customer", "provider", *STAFF)


@dataclass(frozen=True)
class Principal:
    user_id: int
    role: str

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    def as_actor(self) -> dict:
        """How the actors see a caller (plain data: it crosses a Ray call)."""
        return {"userId": self.user_id, "role": self.role}


class TokenService:
    algorithm = "HS256"

    def __init__(self, secret: str, ttl_s: int):
        self._secret = secret
        self.ttl_s = ttl_s

    def issue(self, user_id: int, role: str) -> str:
        now = int(time.time())
        claims = {"sub": str(user_id), "role": role, "iat": now, "exp": now + self.ttl_s}
        return jwt.encode(claims, self._secret, algorithm=self.algorithm)

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self.algorithm],
                options={"require": ["exp", "sub", "role"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token expired: log in again", "token_expired") from None
        except jwt.PyJWTError:
            raise Unauthorized("invalid token", "invalid_token") from None
        if claims["role"] not in ROLES or not str(claims["sub"]).isdigit():
            raise Unauthorized("invalid token", "invalid_token")
        return Principal(int(claims["sub"]), claims["role"])


def principal_from_request(request: Request, tokens: TokenService) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send Authorization: Bearer <token>", "missing_token")
    return tokens.verify(token.strip())


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(rounds=12)).decode()


def check_password(password: str, hashed: str | None) -> bool:
    if not hashed:
        # Same cost as a real check, so a missing user can't be told apart by timing.
        bcrypt.checkpw(b"x", _DUMMY_HASH)
        return False
    return bcrypt.checkpw(password.encode()[:72], hashed.encode())


_DUMMY_HASH = bcrypt.hashpw(b"dummy", bcrypt.gensalt(rounds=12))
