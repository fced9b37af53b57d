"""The pool of virtual numbers (隐私号 X) per area and each order's binding, in MySQL.

A number is one row of `virtual_numbers`; the order holding it is its `order_id` (UNIQUE), taken
by a conditional UPDATE (`order_id IS NULL`), so two orders can never hold one number, whatever
the concurrency. `number_bindings` says where each order's binding stands (schema 0009).
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime
from pathlib import Path

import pymysql

from adapters.mysql import Database, MysqlDsn
from adapters.phones import PhoneVault

LIVE_STATES = ("binding", "bound")
NO_BINDING = ("no_number", "no_phone", "failed", "released")


def phone_vault(state_dir: Path) -> PhoneVault:
    """The hub's phone vault, for actors: HUB_PHONE_KEY, else the key the hub made on its first
    start in the state dir (hub/secret_files.py phone_key)."""
    env = os.environ.get("HUB_PHONE_KEY")
    raw = env or (Path(state_dir) / "phone-key").read_text().strip()
    return PhoneVault(bytes.fromhex(raw))


class NumberStore:
    def __init__(self, db: Database):
        self.db = db

    # --- the pool ---------------------------------------------------------------------------

    async def add(self, numbers: list[str], area_id: int | None) -> int:
        """Numbers into the pool (ones already there are left as they are); how many were new."""
        return await self.db.executemany(
            "INSERT IGNORE INTO virtual_numbers (number, area_id) VALUES (%s, %s)",
            [(n, area_id) for n in numbers],
        )

    async def pool(self, area_id: int | None = None) -> list[dict]:
        where, args = ("WHERE area_id <=> %s", (area_id,)) if area_id is not None else ("", ())
        return await self.db.fetch_all(
            f"SELECT number, area_id, order_id, taken_at FROM virtual_numbers {where} ORDER BY id",
            args,
        )

    async def take(
        self, order_id: int, area_id: int | None, avoid: list[str] | None = None
    ) -> str | None:
        """A free number of the order's area (an order in no area: of the pool without an area)
        for the order; None when there is none. The UPDATE only takes a row whose order_id is
        still NULL."""
        skip = [*(avoid or ()), ""]  # numbers Alibaba Cloud refused for this pair
        n, _ = await self.db.execute(
            "UPDATE virtual_numbers SET order_id = %s, taken_at = CURRENT_TIMESTAMP(3)"
            " WHERE order_id IS NULL AND area_id <=> %s AND number NOT IN %s"
            " ORDER BY id LIMIT 1",
            (order_id, area_id, skip),
        )
        if n != 1:
            return None
        row = await self.db.fetch_one(
            "SELECT number FROM virtual_numbers WHERE order_id = %s", (order_id,)
        )
        return row["number"] if row else None

    async def give_back(self, order_id: int) -> None:
        await self.db.execute(
            "UPDATE virtual_numbers SET order_id = NULL, taken_at = NULL WHERE order_id = %s",
            (order_id,),
        )

    # --- bindings ---------------------------------------------------------------------------

    async def binding(self, order_id: int) -> dict | None:
        return await self.db.fetch_one(
            "SELECT * FROM number_bindings WHERE order_id = %s", (order_id,)
        )

    async def start(self, order_id: int) -> bool:
        """A binding begins (state binding, no number yet) unless one is live or being
        released; False then."""
        await self.db.execute(
            "INSERT INTO number_bindings (order_id, state) VALUES (%s, 'binding')"
            " ON DUPLICATE KEY UPDATE number = IF(state IN %s, NULL, number),"
            " subs_id = IF(state IN %s, NULL, subs_id), release_at = IF(state IN %s, NULL,"
            " release_at), expires_at = IF(state IN %s, NULL, expires_at),"
            " state = IF(state IN %s, 'binding', state)",
            (order_id, *[NO_BINDING] * 5),
        )
        row = await self.binding(order_id)
        return row is not None and row["state"] == "binding" and row["number"] is None

    async def set_state(self, order_id: int, state: str, **cols) -> None:
        sets = ", ".join(["state = %s", *(f"{k} = %s" for k in cols)])
        await self.db.execute(
            f"UPDATE number_bindings SET {sets} WHERE order_id = %s",
            (state, *cols.values(), order_id),
        )

    async def releasing(self, order_id: int, release_at: datetime) -> dict | None:
        """A live binding is to be released at `release_at` (one without a number ends now);
        the row as it now stands."""
        await self.db.execute(
            "UPDATE number_bindings SET state = IF(number IS NULL, 'released', 'releasing'),"
            " release_at = %s WHERE order_id = %s AND state IN ('binding', 'bound')",
            (release_at, order_id),
        )
        await self.db.execute(
            "UPDATE number_bindings SET state = 'released' WHERE order_id = %s"
            " AND state IN ('no_number', 'no_phone', 'failed')",
            (order_id,),
        )
        return await self.binding(order_id)

    async def released(self, order_id: int) -> None:
        """The number goes back to the pool with the binding's end, in one transaction."""
        async with self.db.transaction() as cur:
            await cur.execute(
                "UPDATE virtual_numbers SET order_id = NULL, taken_at = NULL WHERE order_id = %s",
                (order_id,),
            )
            await cur.execute(
                "UPDATE number_bindings SET state = 'released' WHERE order_id = %s",
                (order_id,),
            )

    async def parties(self, order_id: int) -> dict | None:
        """What a binding needs: the order's status and area, the customer's contact phone and
        the provider's bound phone (both encrypted, the latter NULL when none is bound)."""
        return await self.db.fetch_one(
            "SELECT o.id, o.order_no, o.status, o.area_id, o.customer_id, o.provider_id,"
            " o.contact_phone_enc, o.contact_phone_hash, u.phone_enc AS provider_phone_enc,"
            " u.phone_hash AS provider_phone_hash"
            " FROM orders o LEFT JOIN providers p ON p.id = o.provider_id"
            " LEFT JOIN users u ON u.id = p.user_id WHERE o.id = %s",
            (order_id,),
        )

    async def to_resume(self, statuses: tuple[str, ...]) -> list[dict]:
        """After a restart: bindings to release (releasing, or live on an order no longer in
        `statuses`) and orders in `statuses` with no live binding: {order_id, state, status}."""
        marks = ", ".join(["%s"] * len(statuses))
        return await self.db.fetch_all(
            "SELECT o.id AS order_id, o.status, b.state FROM orders o"
            " LEFT JOIN number_bindings b ON b.order_id = o.id"
            f" WHERE (o.status IN ({marks}) AND (b.state IS NULL OR b.state = 'releasing'))"
            " OR b.state = 'releasing'"
            f" OR (b.state IN ('binding', 'bound') AND o.status NOT IN ({marks}))",
            (*statuses, *statuses),
        )


def seed_pool(mysql_url: str, by_area_name: dict[str, list[str]]) -> int:
    """Demo data (`python -m hub seed`): numbers for the areas of those names; idempotent."""
    dsn = MysqlDsn.parse(mysql_url)
    conn = pymysql.connect(**dsn.connect_kwargs(db_key="database"), autocommit=True)
    added = 0
    with contextlib.closing(conn), conn.cursor() as cur:
        for name, numbers in by_area_name.items():
            cur.execute("SELECT id FROM areas WHERE name = %s ORDER BY id LIMIT 1", (name,))
            row = cur.fetchone()
            if row is None:
                continue
            added += cur.executemany(
                "INSERT IGNORE INTO virtual_numbers (number, area_id) VALUES (%s, %s)",
                [(n, row[0]) for n in numbers],
            )
    return added
