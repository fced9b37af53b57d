"""The service catalog and the service areas in MySQL, and which area a point lies in.

The hub's catalog routes read and edit them here; order creation asks `area_at`; the demo
seed adds its rows with `add_missing` (synchronous, like the migrations).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import orjson
import pymysql

from adapters.mysql import Database, MysqlDsn

# What a PATCH may change. Column names go into the SQL text, so only these are accepted.
SERVICE_COLUMNS = (
    "category",
    "name",
    "description",
    "base_price",
    "duration_min",
    "dispatch_lead_min",
    "active",
)
AREA_COLUMNS = (
    "name",
    "city",
    "center_lat",
    "center_lng",
    "boundary",
    "deposit_amount",
    "active",
)


# --- services -----------------------------------------------------------------------------


async def active_services(db: Database) -> list[dict]:
    return await db.fetch_all("SELECT * FROM services WHERE active ORDER BY category, id")


async def all_services(db: Database) -> list[dict]:
    """Disabled ones included (the admin's list)."""
    return await db.fetch_all("SELECT * FROM services ORDER BY category, id")


async def service(db: Database, service_id: int) -> dict | None:
    return await db.fetch_one("SELECT * FROM services WHERE id = %s", (service_id,))


async def add_service(
    db: Database, category: str, name: str, description: str, base_price: int, duration_min: int
) -> int:
    """Returns the new id; a category and name that exist raise a duplicate-key error."""
    _, service_id = await db.execute(
        "INSERT INTO services (category, name, description, base_price, duration_min)"
        " VALUES (%s, %s, %s, %s, %s)",
        (category, name, description, base_price, duration_min),
    )
    return service_id


async def update_service(db: Database, service_id: int, changes: dict) -> None:
    await _update(db, "services", SERVICE_COLUMNS, service_id, changes)


async def active_service_ids(db: Database, ids: Iterable[int]) -> set[int]:
    """Those of `ids` that are services still offered."""
    return await _active_ids(db, "services", ids)


# --- areas --------------------------------------------------------------------------------


async def active_areas(db: Database) -> list[dict]:
    return await db.fetch_all("SELECT * FROM areas WHERE active ORDER BY id")


async def area(db: Database, area_id: int) -> dict | None:
    return await db.fetch_one("SELECT * FROM areas WHERE id = %s", (area_id,))


async def add_area(
    db: Database,
    name: str,
    city: str,
    center_lat: float,
    center_lng: float,
    boundary: list,
    deposit_amount: int = 0,
) -> int:
    """Returns the new id; a name that exists raises a duplicate-key error."""
    _, area_id = await db.execute(
        "INSERT INTO areas (name, city, center_lat, center_lng, boundary, deposit_amount)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (name, city, center_lat, center_lng, orjson.dumps(boundary).decode(), deposit_amount),
    )
    return area_id


async def update_area(db: Database, area_id: int, changes: dict) -> None:
    await _update(db, "areas", AREA_COLUMNS, area_id, changes)


async def active_area_ids(db: Database, ids: Iterable[int]) -> set[int]:
    """Those of `ids` that are areas still served."""
    return await _active_ids(db, "areas", ids)


async def area_at(db: Database, lat: float, lng: float) -> dict | bool | None:
    """The active area (id, name, boundary) containing the point; None when no areas are set
    up; False when areas exist and the point is in none of them."""
    rows = await db.fetch_all("SELECT id, name, boundary FROM areas WHERE active")
    if not rows:
        return None
    for row in rows:
        if point_in_polygon(lat, lng, orjson.loads(row["boundary"])):
            return row
    return False


def point_in_polygon(lat: float, lng: float, polygon: list) -> bool:
    """Ray casting over (lat, lng) vertices: areas are a city's districts, small enough to
    treat as flat."""
    inside = False
    j = len(polygon) - 1
    for i in range(len(polygon)):
        (yi, xi), (yj, xj) = polygon[i], polygon[j]
        if (yi > lat) != (yj > lat) and lng < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


# --- shared -------------------------------------------------------------------------------


async def _update(
    db: Database, table: str, columns: tuple[str, ...], row_id: int, changes: dict
) -> None:
    """Set the given columns of one row; lists are stored as JSON."""
    if unknown := set(changes) - set(columns):
        raise ValueError(f"not a column of {table} one may change: {sorted(unknown)}")
    if not changes:
        return
    sets = ", ".join(f"{column} = %s" for column in changes)
    args = [orjson.dumps(v).decode() if isinstance(v, list) else v for v in changes.values()]
    await db.execute(f"UPDATE {table} SET {sets} WHERE id = %s", (*args, row_id))


async def _active_ids(db: Database, table: str, ids: Iterable[int]) -> set[int]:
    ids = list(ids)
    if not ids:
        return set()
    rows = await db.fetch_all(
        f"SELECT id FROM {table} WHERE active AND id IN ({','.join(['%s'] * len(ids))})", ids
    )
    return {r["id"] for r in rows}


# --- demo data ----------------------------------------------------------------------------


def add_missing(mysql_url: str, services: Iterable[tuple], areas: Iterable[tuple]) -> None:
    """Add the services (category, name, description, base price, minutes) and areas (name,
    city, centre lat, centre lng, boundary, deposit) whose unique names are not there yet: for demo
    data, so running it again changes nothing. Synchronous: it runs before any event loop."""
    dsn = MysqlDsn.parse(mysql_url)
    conn = pymysql.connect(**dsn.connect_kwargs(db_key="database"), autocommit=True)
    with contextlib.closing(conn), conn.cursor() as cur:
        for category, name, description, price, minutes in services:
            cur.execute(
                "INSERT IGNORE INTO services (category, name, description, base_price,"
                " duration_min) VALUES (%s, %s, %s, %s, %s)",
                (category, name, description, price, minutes),
            )
        for name, city, lat, lng, boundary, deposit in areas:
            cur.execute(
                "INSERT IGNORE INTO areas (name, city, center_lat, center_lng, boundary,"
                " deposit_amount) VALUES (%s, %s, %s, %s, %s, %s)",
                (name, city, lat, lng, orjson.dumps(boundary).decode(), deposit),
            )
