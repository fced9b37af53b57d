"""Subscribe-message field values made to fit their kind, so WeChat never refuses one (47003).

A template field's key says its kind (`thing2` is a thing): WeChat's rules per kind
("订阅消息参数值内容限制说明") are a length and a character set. The hub cuts what is too long
(a thing keeps 19 characters and an ellipsis) and drops characters a kind does not take; what
would be left empty becomes a placeholder. Times are China time, as WeChat shows them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from adapters.clock import CHINA

ELLIPSIS = "…"
EMPTY = "-"  # a thing or character_string with nothing left (WeChat refuses empty values)
_KIND = re.compile(r"([a-z_]+?)\d+")
_HAN = "\u3400-\u9fff"
_TIME = re.compile(r"(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})日?(?:[ T]+(\d{1,2}):(\d{2}))?")
_AMOUNT = re.compile(r"([¥￥$€£]?)(\d+)(?:\.(\d+))?")


def kind_of(key: str) -> str:
    match = _KIND.fullmatch(key)
    if match is None:
        raise ValueError(f"a template field key is a kind and a number, not {key!r}")
    return match.group(1)


def china_time(at: datetime) -> str:
    """A stored (naive UTC) time as WeChat's `time`: 2025-06-07 10:34, China time."""
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def yuan(fen: int) -> str:
    """Fen as WeChat's `amount`: ¥120.50."""
    return f"¥{fen // 100}.{fen % 100:02d}"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def _keep(text: str, pattern: str, limit: int) -> str:
    return "".join(re.findall(pattern, text))[:limit]


def _time(value: str) -> str:
    match = _TIME.search(value)
    if match is None:
        return value[:16]
    y, mo, d, h, mi = match.groups()
    day = f"{y}-{int(mo):02d}-{int(d):02d}"
    return day if h is None else f"{day} {int(h):02d}:{mi}"


def _amount(value: str) -> str:
    match = _AMOUNT.search(value.replace(",", ""))
    if match is None:
        return "0"
    sign, whole, cents = match.groups()
    whole = whole.lstrip("0")[:10] or "0"
    return f"{sign}{whole}" + (f".{cents[:2]}" if cents else "")


def _name(value: str) -> str:
    han = _keep(value, rf"[{_HAN}·]", 10)
    return han or _keep(value, r"[A-Za-z .'\-]", 20).strip() or "师傅"


def _car(value: str) -> str:
    """A plate: its first character may be Han (the province), the rest letters and digits."""
    head = _keep(value, rf"[{_HAN}A-Za-z0-9]", 1)
    rest = _keep(value[value.find(head) + 1 :] if head else "", r"[A-Za-z0-9]", 7)
    return (head + rest) or "0"


def _number(value: str) -> str:
    match = re.search(r"[-+]?\d+(?:\.\d+)?", value)
    return (match.group(0)[:32].rstrip(".") if match else "0") or "0"


FIT = {
    "thing": lambda v: _cut(" ".join(v.split()), 20) or EMPTY,
    "character_string": lambda v: _keep(v, r"[!-~]", 32) or EMPTY,
    "phrase": lambda v: _keep(v, rf"[{_HAN}]", 5) or "无",
    "name": _name,
    "number": _number,
    "letter": lambda v: _keep(v, r"[A-Za-z]", 32) or "x",
    "symbol": lambda v: _keep(v, rf"[^A-Za-z0-9\s{_HAN}]", 5) or EMPTY,
    "phone_number": lambda v: _keep(v, r"[0-9+\-() ]", 17).strip() or "0",
    "car_number": _car,
    "time": _time,
    "date": _time,
    "amount": _amount,
}


def fit(key: str, value: object) -> str:
    """`value` as the field `key`'s kind accepts it: datetimes as China time, fen (int) for
    amounts, anything else as text cut and filtered to the kind's rule."""
    kind = kind_of(key)
    if isinstance(value, datetime):
        value = china_time(value)
    elif kind == "amount" and isinstance(value, int):
        value = yuan(value)
    return FIT[kind](str(value))


def fit_all(data: dict[str, object]) -> dict[str, str]:
    return {key: fit(key, value) for key, value in data.items()}
