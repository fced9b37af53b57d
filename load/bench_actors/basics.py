"""What every part of the actor bench shares: its error, its log line, millisecond time
stamps and running many calls with bounded concurrency."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

ADMIN_PASSWORD = "bench-admin-pw-1"  # of the bench's own hubs (their scratch database)


class BenchError(RuntimeError):
    pass


def say(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def iso_ms(ts: float) -> str:
    return (
        datetime.fromtimestamp(ts, UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")
        + "Z"
    )


async def run_all(n: int, fn, concurrency: int) -> tuple[list, list[BaseException]]:
    """fn(i) for i in range(n), at most `concurrency` at a time; (results, errors)."""
    results: list = [None] * n
    errors: list[BaseException] = []
    todo = iter(range(n))

    async def worker():
        for i in todo:
            try:
                results[i] = await fn(i)
            except Exception as exc:
                errors.append(exc)

    await asyncio.gather(*[worker() for _ in range(max(1, min(concurrency, n)))])
    return results, errors


def error_summary(errors: list[BaseException], limit: int = 3) -> list[str]:
    return [f"{type(e).__name__}: {e}"[:400] for e in errors[:limit]]


async def all_or_fail(what: str, n: int, fn, concurrency: int) -> list:
    """run_all, raising BenchError when any call failed (set-up steps: all must succeed)."""
    results, errors = await run_all(n, fn, concurrency)
    if errors:
        raise BenchError(f"{what} failed ({len(errors)} of {n}): {error_summary(errors)}")
    return results
