"""The order state machine: the one table that decides what may happen to an order.

(status, action) → Rule(next status, roles that may do it, guard). A guard names an extra
condition checked by the order actor (see OrderActor._guards). Everything not in the table
is refused: by role (403) when the role may never do the action, else by state (409).
"""

from __future__ import annotations

from typing import NamedTuple

CUSTOMER, PROVIDER, SYSTEM = "customer", "provider", "system"

STATUSES = (
    "pending",
    "accepted",
    "departed",
    "arrived",
    "in_progress",
    "completed",
    "cancelled",
    "expired",
)
TERMINAL = frozenset({"completed", "cancelled", "expired"})
ASSIGNED = ("accepted", "departed", "arrived", "in_progress")  # a provider is on the order
LIVE = ("pending", *ASSIGNED)  # not ended: an actor holds the order
STAFF = ("dispatcher", "admin")


class Rule(NamedTuple):
    to: str
    roles: frozenset[str]
    guard: str | None = None


def _r(to: str, *roles: str, guard: str | None = None) -> Rule:
    flat = []
    for role in roles:
        flat.extend(STAFF if role == "staff" else (role,))
    return Rule(to, frozenset(flat), guard)


CANCEL = _r("cancelled", CUSTOMER, "staff")

TABLE: dict[tuple[str, str], Rule] = {
    ("pending", "grab"): _r("accepted", PROVIDER, guard="open_to_grab"),
    ("pending", "accept"): _r("accepted", PROVIDER, guard="holds_offer"),
    ("pending", "decline"): _r("pending", PROVIDER, guard="holds_offer"),
    ("pending", "assign"): _r("pending", "staff"),
    ("pending", "offer_timeout"): _r("pending", SYSTEM),
    ("pending", "expire"): _r("expired", SYSTEM),
    ("pending", "cancel"): CANCEL,
    ("accepted", "depart"): _r("departed", PROVIDER),
    ("accepted", "cancel"): CANCEL,
    ("departed", "arrive"): _r("arrived", PROVIDER),
    ("departed", "cancel"): CANCEL,
    ("arrived", "quote"): _r("arrived", PROVIDER, guard="not_confirmed"),
    ("arrived", "confirm-quote"): _r("in_progress", CUSTOMER, guard="has_quote"),
    ("arrived", "start"): _r("in_progress", PROVIDER, guard="no_open_quote"),
    ("arrived", "cancel"): CANCEL,
    ("in_progress", "complete"): _r("completed", PROVIDER),
}

# Actions a client may name in POST /api/orders/{id}/{action} (system ones are internal).
CLIENT_ACTIONS = frozenset(a for (_, a), rule in TABLE.items() if rule.roles - {SYSTEM})

_ROLES_FOR: dict[str, frozenset[str]] = {}
for (_status, _action), _rule in TABLE.items():
    _ROLES_FOR[_action] = _ROLES_FOR.get(_action, frozenset()) | _rule.roles


def roles_for(action: str) -> frozenset[str]:
    """Every role that may do this action in some status."""
    return _ROLES_FOR.get(action, frozenset())


def may_ever(role: str, action: str) -> bool:
    """False when no state lets this role do this action (a 403, no need to look further)."""
    return role in roles_for(action)


def rule_for(status: str, action: str, role: str) -> Rule | None:
    rule = TABLE.get((status, action))
    return rule if rule and role in rule.roles else None
