"""Time as the API shows it: ISO-8601 UTC with milliseconds and a Z."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

# China Standard Time: WeChat's times, and the day a trade bill or a reminder speaks of.
CHINA = timezone(timedelta(hours=8))


def utcnow() -> datetime:
    """Naive UTC, as stored in DATETIME(3) columns."""
    return datetime.now(UTC).replace(tzinfo=None)


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt.isoformat(timespec="milliseconds") + "Z"


def epoch(dt: datetime | None) -> float | None:
    """Epoch seconds of a naive-UTC column value (None stays None)."""
    if dt is None:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()
