"""Structured logs: one JSON object per line, the request id of the work in hand on every
line, and nothing secret in any line (docs/operations.md "Logs").

The hub and the Ray hosts both call `setup()`. A request id is made where work starts (an
HTTP request, a Socket.IO event) and kept in a context variable; the hub hands it to the
actor inside the command id (`command_id`), the host binds it again (`bound`), and the
command id is what `order_events.cmd_id` stores in MySQL: one id from the edge to the row.

Secrets are kept out in two ways: code logs ids, never a phone, openid, token or key; and a
last filter masks anything that still looks like one (a mobile number, a JWT, a PEM block,
a long hex key, an openid-like value after a known field name) before the line is written.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import re
import sys
import time
import traceback
from collections.abc import Iterator

import orjson

_rid: contextvars.ContextVar[str | None] = contextvars.ContextVar("orderhub_rid", default=None)

# What masking looks for. Mainland mobile numbers (11 digits from 13x-19x, alone or after +86,
# not inside a longer number); JWTs; PEM blocks; hex runs of key length; the values of fields
# whose name says what they are. Applied to the message, the traceback and every text field
# (not to the line's own keys and ids): a line costs tens of microseconds, not hundreds.
_PATTERNS = [
    (re.compile(r"(?:(?<=\+86)|(?<=\+86[- ])|(?<![\d.]))1[3-9]\d{9}(?!\d)"), "[phone]"),
    (re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}"), "[token]"),
    (re.compile(r"-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----"), "[key]"),
    (re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{48,}(?![0-9a-fA-F])"), "[key]"),
]
_NAMES = ("openid", "unionid", "session_key", "token", "secret", "password", "apikey", "api_key")
_NAMES += ("authorization", "paysign", "signature", "phone")
_NAMED = re.compile(
    r"(?i)((?:" + "|".join(_NAMES) + r")[\"']?\s*[:=]\s*[\"']?)(?:Bearer\s+)?[^\s\"',}]{6,}"
)


def redact(text: str) -> str:
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    low = text.lower()
    if any(name in low for name in _NAMES):
        text = _NAMED.sub(r"\1[redacted]", text)
    return text


def _clean(key: str, value):
    """A field of a line: a text whose name says it is secret is dropped, other text masked."""
    if not isinstance(value, str):
        return value
    if any(name in key.lower() for name in _NAMES):
        return "[redacted]"
    return redact(value)


def new_id() -> str:
    return os.urandom(8).hex()


def request_id() -> str | None:
    return _rid.get()


def start_request(rid: str | None = None) -> str:
    """Bind a fresh request id (or the given one) to the current task."""
    rid = rid or new_id()
    _rid.set(rid)
    return rid


def command_id() -> str:
    """A command id that carries the request id (`<rid>.<unique>`): unique per command, so a
    retried command is recognised (MySQL's uq_order_events_cmd), and traceable to its request."""
    return f"{_rid.get() or new_id()}.{os.urandom(6).hex()}"


def rid_of(cmd_id: str | None) -> str | None:
    return cmd_id.split(".", 1)[0] if cmd_id else None


@contextlib.contextmanager
def bound(rid: str | None) -> Iterator[None]:
    """The request id for the work inside (an actor handling a call)."""
    token = _rid.set(rid)
    try:
        yield
    finally:
        _rid.reset(token)


class JsonFormatter(logging.Formatter):
    def __init__(self, process: str):
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "proc": self.process,
            "pid": record.process,
            "msg": redact(record.getMessage()),
        }
        if rid := getattr(record, "rid", None) or _rid.get():
            entry["rid"] = rid
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({k: _clean(k, v) for k, v in fields.items()})
        if record.exc_info:
            entry["exc"] = redact("".join(traceback.format_exception(*record.exc_info)))
        return orjson.dumps(entry, default=str).decode()


def setup(process: str, level: str | None = None) -> None:
    """JSON lines on stderr for every logger of this process (idempotent)."""
    root = logging.getLogger()
    if any(getattr(h, "_orderhub", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._orderhub = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter(process))
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level or os.environ.get("HUB_LOG_LEVEL", "INFO"))
    # chatty libraries: their INFO lines would carry URLs with query strings
    for name in ("httpx", "httpcore", "urllib3", "aiomysql", "wechatpayv3"):
        logging.getLogger(name).setLevel(logging.WARNING)


def event(logger: logging.Logger, msg: str, level: int = logging.INFO, **fields) -> None:
    """A log line with fields of its own (ids and figures; never personal data)."""
    logger.log(level, msg, extra={"fields": fields})
