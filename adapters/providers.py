"""Providers in MySQL: the profile row, presence and location, and the order counters.

The provider actors keep presence and location in memory and write them here; the hub's
routes read and write profiles (apply, verify, list) here too.
"""

from __future__ import annotations

import orjson

from adapters.mysql import Database

# A statement to run inside an order's transaction (see adapters.orders.record).
Statement = tuple[str, tuple]


async def load(db: Database, provider_id: int) -> dict | None:
    return await db.fetch_one("SELECT * FROM providers WHERE id = %s", (provider_id,))


async def load_many(db: Database, provider_ids: list[int]) -> list[dict]:
    """Many providers' rows in one query (a restarted host reloading its present ones)."""
    if not provider_ids:
        return []
    marks = ", ".join(["%s"] * len(provider_ids))
    return await db.fetch_all(f"SELECT * FROM providers WHERE id IN ({marks})", provider_ids)


async def present_ids(db: Database) -> list[int]:
    """Providers that were online or busy when their host last wrote them."""
    rows = await db.fetch_all("SELECT id FROM providers WHERE work_status <> 'offline'")
    return [r["id"] for r in rows]


async def positions(db: Database) -> list[dict]:
    """Online and busy providers with their last position (written on going online and
    every few seconds after): the console's map before live updates arrive."""
    return await db.fetch_all(
        "SELECT id, work_status, last_lat, last_lng, location_at FROM providers"
        " WHERE work_status <> 'offline' AND last_lat IS NOT NULL ORDER BY id"
    )


async def save_presence(
    db: Database,
    provider_id: int,
    work_status: str,
    lat: float | None,
    lng: float | None,
    fixed: bool = False,
) -> None:
    """`fixed`: the position is a fresh fix (going online): its time is kept too."""
    at = ", location_at = UTC_TIMESTAMP(3)" if fixed else ""
    await db.execute(
        f"UPDATE providers SET work_status = %s, last_lat = %s, last_lng = %s{at} WHERE id = %s",
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


# --- the hub's routes: applications, verification, the console's list, reviews -----------


async def for_user(db: Database, user_id: int) -> dict | None:
    """The provider profile a user applied for, if any."""
    return await db.fetch_one("SELECT * FROM providers WHERE user_id = %s", (user_id,))


async def apply(db: Database, user_id: int, papers: dict) -> int:
    """A new application, pending verification; returns the provider id. A certificate
    registered to another provider raises a duplicate-key error."""
    _, provider_id = await db.execute(
        "INSERT INTO providers (name, certificate_no, certificate_type, skills,"
        " service_areas, user_id) VALUES (%s, %s, %s, %s, %s, %s)",
        (*_papers(papers), user_id),
    )
    return provider_id


async def reapply(db: Database, provider_id: int, papers: dict) -> None:
    """New papers for a rejected application: pending verification again."""
    await db.execute(
        "UPDATE providers SET name = %s, certificate_no = %s, certificate_type = %s,"
        " skills = %s, service_areas = %s, verification = 'pending' WHERE id = %s",
        (*_papers(papers), provider_id),
    )


def _papers(papers: dict) -> tuple:
    """An application's columns in the order `apply` and `reapply` name them."""
    return (
        papers["name"],
        papers["certificate_no"],
        papers["certificate_type"],
        orjson.dumps(papers["skills"]).decode(),
        orjson.dumps(papers["service_areas"]).decode(),
    )


async def set_verification(
    db: Database, provider_id: int, verdict: str, note: str, verified_by: int
) -> None:
    await db.execute(
        "UPDATE providers SET verification = %s, verification_note = %s, verified_by = %s,"
        " verified_at = UTC_TIMESTAMP(3) WHERE id = %s",
        (verdict, note, verified_by, provider_id),
    )


async def page(
    db: Database, verification: str | None, limit: int, offset: int
) -> tuple[list[dict], int]:
    """Providers newest first, all or those with one verification status; and their total."""
    where, args = ("WHERE verification = %s", [verification]) if verification else ("", [])
    total = await db.fetch_one(f"SELECT COUNT(*) AS n FROM providers {where}", args)
    rows = await db.fetch_all(
        f"SELECT * FROM providers {where} ORDER BY id DESC LIMIT %s OFFSET %s",
        [*args, limit, offset],
    )
    return rows, total["n"]
