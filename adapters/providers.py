"""Providers in MySQL: the profile row, presence and location, and the order counters.

The provider actors keep presence and location in memory and write them here; the hub's
routes read and write profiles (apply, verify, list) here too.
"""

from __future__ import annotations

from adapters.mysql import Database

# A statement to run inside an order's transaction (see adapters.orders.record).
Statement = tuple[str, tuple]


async def load(db: Database, provider_id: int) -> dict | None:
    return await db.fetch_one("SELECT * FROM providers WHERE id = %s", (provider_id,))


async def present_ids(db: Database) -> list[int]:
    """Providers that were online or busy when their host last wrote them."""
    rows = await db.fetch_all("SELECT id FROM providers WHERE work_status <> 'offline'")
    return [r["id"] for r in rows]


async def save_presence(
    db: Database, provider_id: int, work_status: str, lat: float | None, lng: float | None
) -> None:
    await db.execute(
        "UPDATE providers SET work_status = %s, last_lat = %s, last_lng = %s WHERE id = %s",
        (work_status, lat, lng, provider_id),
    )


async def save_locations(db: Database, fixes: list[tuple[float, float, int]]) -> None:
    """A batch of last positions, (lat, lng, provider id) each."""
    await db.executemany(
        "UPDATE providers SET last_lat = %s, last_lng = %s, location_at = UTC_TIMESTAMP(3)"
        " WHERE id = %s",
        fixes,
    )


def count_assignment(provider_id: int) -> Statement:
    return ("UPDATE providers SET total_orders = total_orders + 1 WHERE id = %s", (provider_id,))


def count_completion(provider_id: int, amount: int) -> Statement:
    return (
        "UPDATE providers SET completed_orders = completed_orders + 1,"
        " total_earnings = total_earnings + %s WHERE id = %s",
        (amount, provider_id),
    )
