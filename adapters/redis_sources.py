"""The MySQL rows Redis's derived structures are rebuilt from when a hub starts
(actors/rebuild.py): which database this is, the providers, and their last positions."""

from __future__ import annotations

from adapters.mysql import Database


async def database_identity(db: Database) -> str:
    """When this database's first migration was applied, to the millisecond: a database
    dropped and created again gets a new one; a restored dump keeps the original's."""
    row = await db.fetch_one("SELECT applied_at FROM schema_migrations WHERE version = 1")
    return row["applied_at"].isoformat() if row else ""


async def providers_in(db: Database, ids: list[int]) -> dict[int, dict]:
    """The provider rows of these ids that exist, by id."""
    if not ids:
        return {}
    rows = await db.fetch_all(
        f"SELECT * FROM providers WHERE id IN ({', '.join(['%s'] * len(ids))})", tuple(ids)
    )
    return {r["id"]: r for r in rows}


async def present_providers(db: Database) -> list[dict]:
    """Approved providers that were online or busy when last written, with a position: the
    ones dispatch may list."""
    return await db.fetch_all(
        "SELECT * FROM providers WHERE verification = 'approved'"
        " AND work_status <> 'offline' AND last_lat IS NOT NULL AND last_lng IS NOT NULL"
    )


async def positions_of(db: Database, ids: list[int]) -> dict[int, tuple[float, float]]:
    """The last written (lat, lng) of these providers, where known."""
    if not ids:
        return {}
    rows = await db.fetch_all(
        "SELECT id, last_lat, last_lng FROM providers WHERE last_lat IS NOT NULL"
        f" AND id IN ({', '.join(['%s'] * len(ids))})",
        tuple(ids),
    )
    return {r["id"]: (r["last_lat"], r["last_lng"]) for r in rows}
