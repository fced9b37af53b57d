"""Figures /metrics computes from the stores at scrape time (hub/metrics.py): what the Ray
hosts do is visible in MySQL and Redis, so no host has to export anything itself."""

from __future__ import annotations

from adapters.mysql import Database
from adapters.redis import Keys

# The order events a dispatch ends in (or moves on with): how orders got their provider.
DISPATCH_ACTIONS = (
    "dispatch",
    "grab",
    "accept",
    "decline",
    "offer_timeout",
    "auto_assign",
    "assign",
    "no_show",
    "expire",
)


async def orders_by_status(db: Database) -> dict[str, int]:
    rows = await db.fetch_all("SELECT status, COUNT(*) AS n FROM orders GROUP BY status")
    return {r["status"]: int(r["n"]) for r in rows}


async def dispatch_events_after(db: Database, after_id: int) -> tuple[dict[str, int], int]:
    """Dispatch events written after event id `after_id`, by action, and the last id seen
    (callers keep running totals: one scan of the new rows per scrape, not of the table)."""
    marks = ", ".join(["%s"] * len(DISPATCH_ACTIONS))
    rows = await db.fetch_all(
        "SELECT action, COUNT(*) AS n, MAX(id) AS top FROM order_events"
        f" WHERE id > %s AND action IN ({marks}) GROUP BY action",
        (after_id, *DISPATCH_ACTIONS),
    )
    top = max([after_id, *[int(r["top"]) for r in rows]])
    return {r["action"]: int(r["n"]) for r in rows}, top


async def open_offers(redis, keys: Keys) -> int:
    """Offers standing in the providers' halls (entries of their offer hashes)."""
    total, batch = 0, []
    async for key in redis.scan_iter(match=keys.offers(0)[:-1] + "*", count=1000):
        batch.append(key)
        if len(batch) >= 500:
            total += await _hlens(redis, batch)
            batch = []
    if batch:
        total += await _hlens(redis, batch)
    return total


async def _hlens(redis, keys: list[str]) -> int:
    pipe = redis.pipeline(transaction=False)
    for key in keys:
        pipe.hlen(key)
    return sum(await pipe.execute())


async def host_histograms(redis, key: str) -> dict[tuple[str, str], dict]:
    """The Ray hosts' timings (actors/metrics.py HostFigures): (store, label) →
    {"buckets": {le: count}, "sum": seconds}; fields are `store|label|le` and `store|label|sum`."""
    out: dict[tuple[str, str], dict] = {}
    for field, value in (await redis.hgetall(key)).items():
        store, label, le = field.rsplit("|", 2)
        entry = out.setdefault((store, label), {"buckets": {}, "sum": 0.0})
        if le == "sum":
            entry["sum"] = float(value)
        else:
            entry["buckets"][le] = float(value)
    return out
