"""The one error shape of CONTRACT §2, for HTTP responses and Socket.IO acks."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from adapters.mysql import is_duplicate
from hub.responses import json_response


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, code: str | None = None, status: int | None = None, **extra):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.extra = extra

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class Invalid(ApiError):
    status, code = 422, "validation_error"


class TooMany(ApiError):
    status, code = 429, "rate_limited"


class Unavailable(ApiError):
    status, code = 503, "unavailable"


def ack_error(err: ApiError) -> dict:
    return {"ok": False, **err.body()}


@contextlib.contextmanager
def duplicate_is_conflict(message: str, code: str) -> Iterator[None]:
    """A unique key the statement inside ran into answers 409 `code`, not 500."""
    try:
        yield
    except Exception as exc:
        if is_duplicate(exc):
            raise Conflict(message, code) from None
        raise


# The codes of the errors Starlette raises itself (an unknown route, a bad method, a body too
# large, …): ours for the statuses we share, and three that only Starlette raises.
_SHARED = (BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Invalid, TooMany)
_HTTP_CODES = {
    **{error.status: error.code for error in _SHARED},
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


async def api_error_handler(request: Request, exc: ApiError) -> Response:
    return json_response(exc.body(), status=exc.status)


async def http_error_handler(request: Request, exc: HTTPException) -> Response:
    code = _HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404:
        message = f"no route {request.method} {request.url.path}"
    return json_response({"error": {"code": code, "message": message}}, status=exc.status_code)


# MySQL client errors that mean the server is not there: can't connect (2002, 2003), gone
# away (2006), lost the connection (2013).
_MYSQL_UNREACHABLE = {2002, 2003, 2006, 2013}


def store_unreachable(exc: BaseException) -> bool:
    """The error is MySQL or Redis being unreachable (restarting, say), not a fault of the
    hub's: the caller may retry, as after any 503 (the fault drills, tests/test_drills.py)."""
    import pymysql
    import redis.exceptions

    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return True
    if isinstance(exc, pymysql.err.InterfaceError):  # aiomysql: the connection is closed
        return True
    is_mysql = isinstance(exc, pymysql.err.OperationalError)
    return is_mysql and bool(exc.args) and exc.args[0] in _MYSQL_UNREACHABLE


def unreachable_body() -> dict:
    return Unavailable("a data store is unreachable; retry").body()


def store_errors() -> tuple[type[Exception], ...]:
    """The exception classes `store_error_handler` is installed for: handled by class, so
    Starlette does not also re-raise them to the server as it does for the catch-all 500
    handler (a traceback per request while a store restarts)."""
    import pymysql
    import redis.exceptions

    return (
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        pymysql.err.OperationalError,
        pymysql.err.InterfaceError,
    )


async def store_error_handler(request: Request, exc: Exception) -> Response:
    """503 while a store is unreachable; any other error of a store's client is a 500."""
    return await unexpected_error_handler(request, exc)


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    import logging

    if store_unreachable(exc):
        logging.getLogger("orderhub").warning(
            "a data store is unreachable on %s: %r", request.url.path, exc
        )
        return json_response(unreachable_body(), status=503)
    logging.getLogger("orderhub").exception("unhandled error on %s", request.url.path)
    return json_response(
        {"error": {"code": "internal", "message": "internal error; it has been logged"}},
        status=500,
    )
