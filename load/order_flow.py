"""The order state machine as the load clients and the relay need it, read from the hub's
own table (actors/transitions.py) so that they follow the hub when it changes."""

from __future__ import annotations

from actors.transitions import ASSIGNED, STATUSES, SYSTEM, TABLE

# What a client (any role but the hub itself) may do: (status, action) -> next status.
CLIENT_FLOW: dict[tuple[str, str], str] = {
    key: rule.to for key, rule in TABLE.items() if rule.roles - {SYSTEM}
}


def statuses_where(role: str, action: str) -> tuple[str, ...]:
    """The statuses in which `role` may do `action`, in the table's status order."""
    return tuple(
        s for s in STATUSES if (rule := TABLE.get((s, action))) is not None and role in rule.roles
    )


def provider_walk(status: str) -> list[str]:
    """The provider's actions that take an assigned order from `status` to completed: at
    each status the provider's rule that moves it the least far forward (a quote stays in
    place and a hand-back goes back, so neither is on the way)."""
    order = {s: i for i, s in enumerate(STATUSES)}
    walk = []
    while status in ASSIGNED:
        ahead = [
            (order[rule.to], action, rule.to)
            for (at, action), rule in TABLE.items()
            if at == status and "provider" in rule.roles and order[rule.to] > order[status]
        ]
        if not ahead:
            break
        _, action, status = min(ahead)
        walk.append(action)
    return walk
