"""Where a provider's position may go: the one place that decides (the table is in
docs/privacy.md; every path that sends a position asks here).

- offered providers: the distance and the district, while the offer stands; never a point;
- the order's customer: its provider's fix, from `accepted` to `in_progress` only;
- other providers (even ones that watch the order): nothing;
- anybody once the order has ended or gone back to `pending`: nothing;
- staff: every online provider's fix, always; each access written to the audit log.

How it holds:
- positions travel only as `provider.location` to the room `order:{id}:track`, which only the
  order's customer and staff join when they watch (`watch_rooms`); the other watchers of the
  order (a provider it was offered to) are in `order:{id}` only;
- a host sends a fix for an order only while the provider holds it (from the grab, accept or
  assignment, `ProviderActor.reserve`, until `release`), and an order that leaves the tracked
  statuses releases its provider before it announces the change (`tracking_ends`): no fix is
  published after the event that ends the phase;
- offers carry `offer_view` only, and a provider who holds an offer and reads the order sees
  it through `order_view` (the customer's address as precisely as the offer);
- staff see positions in `console.update` (room `staff`), in an order they watch and in
  GET /api/admin/providers/positions; each of those is an audit-log row (`staff_access`).
"""

from __future__ import annotations

import logging

from actors.transitions import ASSIGNED
from adapters import audit

log = logging.getLogger("orderhub.privacy")

TRACKED = frozenset(ASSIGNED)  # accepted, departed, arrived, in_progress


def track_room(order_id: int) -> str:
    return f"order:{order_id}:track"


def watch_rooms(order_id: int, *, staff: bool, customer: bool) -> list[str]:
    """The rooms a watcher of the order joins: everyone its events, only the order's customer
    and staff its provider's position."""
    rooms = [f"order:{order_id}"]
    if staff or customer:
        rooms.append(track_room(order_id))
    return rooms


def all_watch_rooms(order_id: int) -> list[str]:
    """Every room a watch may have joined (what unwatch leaves)."""
    return watch_rooms(order_id, staff=True, customer=True)


def location_events(provider_id: int, fix: dict, orders) -> list[tuple[str, dict, str]]:
    """A provider's fix as the events that may carry it: one `provider.location` per order the
    provider holds (held only while the order is in TRACKED), to that order's track room."""
    return [
        (
            "provider.location",
            {
                "orderId": oid,
                "providerId": provider_id,
                "lat": fix["lat"],
                "lng": fix["lng"],
                "at": fix["at"],
            },
            track_room(oid),
        )
        for oid in orders
    ]


def tracking_ends(before: str, after: str) -> bool:
    """The order leaves the statuses in which its customer sees the provider."""
    return before in TRACKED and after not in TRACKED


def offer_view(order: dict, distance_m: float) -> dict:
    """What an offer tells a provider about where the job is: how far, which district."""
    return {"distanceM": round(distance_m), "address": order["district"]}


def order_view(order: dict, *, full: bool) -> dict:
    """An order (its JSON) as its viewer may see it: in full for its customer, its provider
    and staff; as precisely as an offer for a provider who only holds one (the district, the
    point to 0.01° ≈ 1 km, no contact)."""
    if full:
        return order
    return {
        **order,
        "address": order["district"],
        "lat": round(order["lat"], 2),
        "lng": round(order["lng"], 2),
        "contactName": "",
        "contactPhone": "",
    }


async def staff_access(db, me, what: str, target_type: str, target_id: int | None, ip: str):
    """Staff looked at positions: who, what, when (the audit log). With MySQL away the look is
    written to the log instead, and staff keep their console (they run the outage)."""
    try:
        await audit.record(
            db,
            actor_id=me.user_id,
            actor_role=me.role,
            action=f"privacy.{what}",
            target_type=target_type,
            target_id=target_id,
            detail={},
            ip=ip,
        )
    except Exception as exc:
        fields = {"user": me.user_id, "what": what, "target": target_id, "error": repr(exc)}
        log.warning("privacy: staff access not in the audit log", extra={"fields": fields})
