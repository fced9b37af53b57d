"""Dispatch in MySQL: the policies staff edit, the decisions with their explanations, and the
facts an order's dispatch reads once (its service's timing, the areas, the customer's past
providers). The engine itself is pure (actors/dispatch/)."""

from __future__ import annotations

import orjson

from adapters.mysql import Database

Statement = tuple[str, tuple]  # runs inside an order's transaction (adapters.orders.record)


def _json(value):
    return orjson.loads(value) if isinstance(value, str | bytes) else value


class DispatchStore:
    def __init__(self, db: Database):
        self.db = db

    # --- policies ----------------------------------------------------------------------------

    async def policies(self) -> list[dict]:
        rows = await self.db.fetch_all(
            "SELECT area_id, service_id, config, updated_by, updated_at FROM dispatch_policies"
            " ORDER BY area_id, service_id"
        )
        return [{**r, "config": _json(r["config"])} for r in rows]

    async def save_policy(self, area_id: int, service_id: int, config: dict, by: int) -> None:
        await self.db.execute(
            "INSERT INTO dispatch_policies (area_id, service_id, config, updated_by)"
            " VALUES (%s, %s, %s, %s) ON DUPLICATE KEY UPDATE config = VALUES(config),"
            " updated_by = VALUES(updated_by)",
            (area_id, service_id, orjson.dumps(config).decode(), by),
        )

    async def delete_policy(self, area_id: int, service_id: int) -> bool:
        count, _ = await self.db.execute(
            "DELETE FROM dispatch_policies WHERE area_id = %s AND service_id = %s",
            (area_id, service_id),
        )
        return count > 0

    # --- decisions ---------------------------------------------------------------------------

    @staticmethod
    def decision(order_id: int, stage: str, explanation: dict) -> Statement:
        """The decision row, written after the order's UPDATE in the same transaction: it
        takes the seq of the event that carries the decision out."""
        return (
            "INSERT INTO dispatch_decisions (order_id, seq, stage, explanation)"
            " SELECT id, seq, %s, %s FROM orders WHERE id = %s",
            (stage, orjson.dumps(explanation).decode(), order_id),
        )

    async def decisions(self, order_id: int) -> list[dict]:
        rows = await self.db.fetch_all(
            "SELECT seq, stage, explanation, created_at FROM dispatch_decisions"
            " WHERE order_id = %s ORDER BY id",
            (order_id,),
        )
        return [{**r, "explanation": _json(r["explanation"])} for r in rows]

    # --- what an order's dispatch reads once -------------------------------------------------

    async def service_timing(self, service_id: int) -> dict:
        """{duration_min, dispatch_lead_min} of a service (defaults when it is gone)."""
        row = await self.db.fetch_one(
            "SELECT duration_min, dispatch_lead_min FROM services WHERE id = %s", (service_id,)
        )
        return row or {"duration_min": 60, "dispatch_lead_min": 60}

    async def area_polygons(self) -> dict[int, list]:
        rows = await self.db.fetch_all("SELECT id, boundary FROM areas WHERE active")
        return {r["id"]: _json(r["boundary"]) for r in rows}

    async def previous_providers(self, customer_id: int) -> list[int]:
        """Providers who completed an order for this customer (the most recent 20)."""
        rows = await self.db.fetch_all(
            "SELECT provider_id, MAX(completed_at) AS last FROM orders WHERE customer_id = %s"
            " AND status = 'completed' AND provider_id IS NOT NULL GROUP BY provider_id"
            " ORDER BY last DESC LIMIT 20",
            (customer_id,),
        )
        return [r["provider_id"] for r in rows]

    async def slots_of(self, provider_id: int, statuses: tuple[str, ...]) -> list[dict]:
        """The provider's orders in these statuses with what a schedule check needs."""
        return await self.slots_of_many([provider_id], statuses)

    async def slots_of_many(self, provider_ids: list[int], statuses: tuple[str, ...]) -> list[dict]:
        """slots_of for many providers in one query; each row names its `provider_id`."""
        if not provider_ids:
            return []
        return await self.db.fetch_all(
            "SELECT o.id, o.provider_id, o.scheduled_at, o.lat, o.lng, s.duration_min"
            " FROM orders o JOIN services s ON s.id = o.service_id"
            f" WHERE o.provider_id IN ({', '.join(['%s'] * len(provider_ids))})"
            f" AND o.status IN ({', '.join(['%s'] * len(statuses))})",
            (*provider_ids, *statuses),
        )
