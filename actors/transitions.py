"""The order state machine: the one place that decides what may happen to an order.

It holds the statuses, the table (status, action) → Rule(next status, roles, guards), the
guards as named predicates, who is a party to an order, and each action's effects: what the
change writes and what the order actor does once it is written. `decide` applies all of it to
an order row and is pure (no I/O), so every row of the table is unit-tested without services.

Refusals, in the order they are checked (CONTRACT §5): a role that may never do the action
→ 403; a caller who is not a party to the order → 404; a status whose row does not allow the
action → 409 (a grab says why: `already_taken`, `order_cancelled`, `order_expired`); a
failed guard → its own 409.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

from actors.dispatch.plan import State, dumps, offered_to, state_of
from actors.results import fail, not_found, ok

CUSTOMER, PROVIDER, SYSTEM = "customer", "provider", "system"
STAFF = ("dispatcher", "admin")
ROLES = (CUSTOMER, PROVIDER, *STAFF, SYSTEM)

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


class Rule(NamedTuple):
    to: str
    roles: frozenset[str]
    guards: tuple[str, ...] = ()


def _r(to: str, *roles: str, guards: tuple[str, ...] = ()) -> Rule:
    flat = [r for role in roles for r in (STAFF if role == "staff" else (role,))]
    return Rule(to, frozenset(flat), guards)


CANCEL = _r("cancelled", CUSTOMER, "staff")
HAND_BACK = _r("pending", PROVIDER)  # the assignee gives the order back before arriving

TABLE: dict[tuple[str, str], Rule] = {
    ("pending", "grab"): _r("accepted", PROVIDER, guards=("open_to_grab",)),
    ("pending", "accept"): _r("accepted", PROVIDER, guards=("holds_offer",)),
    ("pending", "decline"): _r("pending", PROVIDER, guards=("holds_offer",)),
    ("pending", "assign"): _r("pending", "staff"),
    ("pending", "offer_timeout"): _r("pending", SYSTEM),
    ("pending", "expire"): _r("expired", SYSTEM),
    ("pending", "cancel"): CANCEL,
    ("accepted", "depart"): _r("departed", PROVIDER),
    ("accepted", "decline"): HAND_BACK,
    ("accepted", "cancel"): CANCEL,
    ("departed", "arrive"): _r("arrived", PROVIDER),
    ("departed", "decline"): HAND_BACK,
    ("departed", "cancel"): CANCEL,
    ("arrived", "quote"): _r("arrived", PROVIDER),  # again to revise, until confirmed
    ("arrived", "confirm-quote"): _r("in_progress", CUSTOMER, guards=("has_quote",)),
    ("arrived", "start"): _r("in_progress", PROVIDER, guards=("no_open_quote",)),
    ("arrived", "cancel"): CANCEL,
    ("in_progress", "complete"): _r("completed", PROVIDER),
    # dispatch (CONTRACT §10): each step of the chain, an assignment when it gets there, and
    # a scheduled order's reminder and no-show
    ("pending", "dispatch"): _r("pending", SYSTEM),
    ("pending", "auto_assign"): _r("accepted", SYSTEM),
    ("accepted", "slot_reminder"): _r("accepted", SYSTEM),
    ("accepted", "no_show"): _r("pending", SYSTEM),
    # staff take over (issue #11): the chain again from its start (a pinned order, or staff
    # wanting it), and an order a provider holds offered to another one instead
    ("pending", "redispatch"): _r("pending", "staff"),
    ("accepted", "reassign"): _r("pending", "staff", guards=("another_provider",)),
    ("departed", "reassign"): _r("pending", "staff", guards=("another_provider",)),
}

# paymentStatus follows the order's payments (CONTRACT §6): moves made by the system in any
# status, changing no status, each an order event (detail.action names the move).
PAYMENT_EVENTS = (
    "payment_opened",
    "paid",
    "payment_failed",
    "payment_closed",
    "refund_requested",
    "refunded",
    "refund_failed",
)
for _status in STATUSES:
    for _action in PAYMENT_EVENTS:
        TABLE[(_status, _action)] = _r(_status, SYSTEM)

# Actions a client may name in POST /api/orders/{id}/{action} (system ones are internal).
CLIENT_ACTIONS = frozenset(a for (_, a), rule in TABLE.items() if rule.roles - {SYSTEM})

_ROLES_FOR: dict[str, frozenset[str]] = {}
for (_status, _action), _rule in TABLE.items():
    _ROLES_FOR[_action] = _ROLES_FOR.get(_action, frozenset()) | _rule.roles


def roles_for(action: str) -> frozenset[str]:
    """Every role that may do this action in some status."""
    return _ROLES_FOR.get(action, frozenset())


# --- guards: named predicates over (order row, provider id of the caller, the action's args) ---


class Guard(NamedTuple):
    holds: Callable[[dict, int | None, dict], bool]
    code: str
    message: str


GUARDS: dict[str, Guard] = {
    "open_to_grab": Guard(
        lambda o, pid, x: o["dispatch_mode"] == "grab" and state_of(o).stage in ("", "grab"),
        "not_grabbable",
        "this order is not open to grab (it is dispatched, or its grab window closed)",
    ),
    "holds_offer": Guard(
        lambda o, pid, x: pid is not None and pid in offered_to(o),
        "not_offered",
        "this order is not offered to you to accept or decline",
    ),
    "has_quote": Guard(
        lambda o, pid, x: o["quoted_amount"] is not None,
        "no_quote",
        "there is no quote to confirm yet",
    ),
    "no_open_quote": Guard(
        lambda o, pid, x: o["quoted_amount"] is None,
        "quote_pending",
        "the customer must confirm the quote first",
    ),
    "another_provider": Guard(
        lambda o, pid, x: x.get("providerId") != o["provider_id"],
        "same_provider",
        "the order is already this provider's",
    ),
}


def is_party(order: dict, actor: dict, action: str, crowd: set[int]) -> bool:
    """Staff and the system see every order; a customer their own. A provider is a party
    while holding it; while it is pending, when holding a personal offer of it (direct,
    assigned, or in the current batch) or in the crowd a grab offer went to; and for a grab,
    a crowd member always (a loser hears why it lost). Anyone else gets a 404."""
    role = actor["role"]
    if role in STAFF or role == SYSTEM:
        return True
    if role == CUSTOMER:
        return actor["userId"] == order["customer_id"]
    pid = actor.get("providerId")
    if role != PROVIDER or pid is None:
        return False
    if pid == order["provider_id"]:
        return True
    if order["status"] == "pending" and pid in offered_to(order):
        return True
    return pid in crowd and (order["status"] == "pending" or action == "grab")


def _retaken(order: dict, actor: dict, action: str) -> bool:
    """A grab or accept by the provider already on the order: a retry after its answer was lost
    (a dropped socket, a hub process gone, MySQL lost mid-commit). It answers with the order as
    it is, so the app learns it holds the order and its seq, instead of a 409 it cannot read."""
    pid = actor.get("providerId")
    return (
        action in ("grab", "accept")
        and pid is not None
        and order["provider_id"] == pid
        and order["status"] in ASSIGNED
    )


def _grab_refusal(order: dict, pid: int | None) -> dict:
    status = order["status"]
    if status in ("cancelled", "expired"):
        return fail(409, f"order_{status}", f"this order was {status}")
    if order["provider_id"] is not None and order["provider_id"] != pid:
        return fail(409, "already_taken", "another provider took this order")
    return fail(409, "invalid_transition", f"cannot grab an order that is {status}")


# --- effects: what each action writes, and what the actor does once it is written ------------


class Effect(NamedTuple):
    stamp: str | None = None  # the column set to the time of the change
    writes: Callable[[dict, dict, dict], dict] | None = None  # (order, actor, args) → columns
    detail: Callable[[dict, dict, dict], dict] | None = None  # (order, actor, args) → detail
    then: tuple[str, ...] = ()  # follow-ups, in order, run by OrderActor after the write


def _by(actor: dict) -> str:
    return "staff" if actor["role"] in STAFF else actor["role"]


def _final(o: dict) -> int:
    return o["quoted_amount"] or o["estimated_amount"]


def _taken_by(o: dict, pid: int) -> dict:
    """The winner holds the order; nobody holds an offer of it any more."""
    done = replace(state_of(o), offered=())
    return {"provider_id": pid, "offered_provider_id": None, "dispatch": dumps(done)}


def _refused(o: dict, a: dict) -> dict:
    """The one offer (direct, assigned) or this provider's place in the batch is given up."""
    pid = a.get("providerId")
    if pid is not None and pid != o["offered_provider_id"]:
        return {"dispatch": dumps(state_of(o).without_offer(pid))}
    return {"offered_provider_id": None}


_TAKE = Effect(
    stamp="accepted_at",
    writes=lambda o, a, x: _taken_by(o, a["providerId"]),
    detail=lambda o, a, x: {"providerId": a["providerId"]},
    then=("stop_dispatch", "withdraw_taken", "watch_slot"),
)
_REFUSE_OFFER = Effect(
    writes=lambda o, a, x: _refused(o, a),
    detail=lambda o, a, x: {"providerId": a.get("providerId") or o["offered_provider_id"]},
    then=("withdraw_declined", "dispatch_next"),
)
_HAND_BACK = Effect(
    writes=lambda o, a, x: {"provider_id": None, "accepted_at": None, "departed_at": None},
    detail=lambda o, a, x: {"providerId": o["provider_id"], "reason": x.get("reason", "")},
    then=("release_provider", "dispatch_again"),
)
_START = Effect(
    stamp="started_at",
    detail=lambda o, a, x: {} if o["quoted_amount"] is None else {"amount": o["quoted_amount"]},
)

# (status it leaves, action) → Effect; an action alone when its effect is the same everywhere.
EFFECTS: dict[str | tuple[str, str], Effect] = {
    "grab": _TAKE,
    "accept": _TAKE,
    "decline": _REFUSE_OFFER,
    ("accepted", "decline"): _HAND_BACK,
    ("departed", "decline"): _HAND_BACK,
    "offer_timeout": _REFUSE_OFFER,
    "assign": Effect(
        writes=lambda o, a, x: {
            "offered_provider_id": x["providerId"],
            "dispatch": dumps(replace(state_of(o), offered=(), pinned=False)),
        },
        detail=lambda o, a, x: {"providerId": x["providerId"]},
        then=("offer_assigned",),
    ),
    "redispatch": Effect(  # a direct order joins the chain as an auto one
        writes=lambda o, a, x: {
            "offered_provider_id": None,
            "dispatch_mode": "auto" if o["dispatch_mode"] == "direct" else o["dispatch_mode"],
            "dispatch": dumps(State()),
        },
        detail=lambda o, a, x: {"previousStage": state_of(o).stage},
        then=("redispatch",),
    ),
    "reassign": Effect(  # the provider on it leaves; the new one gets a personal offer
        writes=lambda o, a, x: {
            "provider_id": None,
            "accepted_at": None,
            "departed_at": None,
            "offered_provider_id": x["providerId"],
            "dispatch": dumps(
                replace(state_of(o), offered=(), tried=(*state_of(o).tried, o["provider_id"]))
            ),
        },
        detail=lambda o, a, x: {"providerId": x["providerId"], "fromProviderId": o["provider_id"]},
        then=("release_provider", "reassigned"),
    ),
    "expire": Effect(then=("end",)),
    "dispatch": Effect(
        writes=lambda o, a, x: {"dispatch": x["state"], "offered_provider_id": None},
        detail=lambda o, a, x: x["detail"],
    ),
    "auto_assign": Effect(
        stamp="accepted_at",
        writes=lambda o, a, x: _taken_by(o, x["providerId"]),
        detail=lambda o, a, x: {"providerId": x["providerId"], "assigned": "auto"},
        then=("stop_dispatch", "withdraw_taken", "watch_slot"),
    ),
    "slot_reminder": Effect(
        writes=lambda o, a, x: {"dispatch": dumps(replace(state_of(o), reminded=True))},
        detail=lambda o, a, x: {"providerId": o["provider_id"], "minutes": x["minutes"]},
    ),
    "no_show": Effect(
        writes=lambda o, a, x: {"provider_id": None, "accepted_at": None},
        detail=lambda o, a, x: {"providerId": o["provider_id"], "reason": "no_show"},
        then=("release_provider", "dispatch_again"),
    ),
    "depart": Effect(stamp="departed_at"),
    "arrive": Effect(stamp="arrived_at"),
    "quote": Effect(
        stamp="quoted_at",
        writes=lambda o, a, x: {"quoted_amount": x["amount"]},
        detail=lambda o, a, x: {"amount": x["amount"]},
    ),
    "confirm-quote": _START,
    "start": _START,
    "complete": Effect(
        stamp="completed_at",
        writes=lambda o, a, x: {"final_amount": _final(o)},
        detail=lambda o, a, x: {"finalAmount": _final(o)},
        then=("end",),
    ),
    "cancel": Effect(
        stamp="cancelled_at",
        writes=lambda o, a, x: {"cancel_reason": x.get("reason", ""), "cancel_by": _by(a)},
        detail=lambda o, a, x: {"reason": x.get("reason", "")},
        then=("refund_deposit", "end"),
    ),
}


_PAYMENT = Effect(
    writes=lambda o, a, x: {"payment_status": x["paymentStatus"]},
    detail=lambda o, a, x: x["detail"],
)
EFFECTS.update({action: _PAYMENT for action in PAYMENT_EVENTS})


def payment_status(payments: list[dict]) -> str:
    """The order's paymentStatus from its payments' kinds and statuses."""
    held = {(p["kind"], p["status"]) for p in payments}
    states = {status for _, status in held}
    if "refunding" in states:
        return "refunding"
    if held & {("full", "paid"), ("balance", "paid")}:
        return "paid"
    if ("deposit", "paid") in held:
        return "deposit_paid"
    if "refunded" in states:
        return "refunded"
    return "paying" if "open" in states else "unpaid"


def effect_of(status: str, action: str) -> Effect:
    return EFFECTS.get((status, action)) or EFFECTS[action]


class Decision(NamedTuple):
    to: str
    changes: dict  # columns to write
    detail: dict  # the order event's detail
    then: tuple[str, ...]


def decide(
    order: dict, actor: dict, action: str, args: dict, crowd: set[int], now: datetime
) -> Decision | dict:
    """What `action` by `actor` does to `order` now: a Decision, or a refusal (results.fail)."""
    role = actor["role"]
    if role not in roles_for(action):
        return fail(403, "forbidden", f"a {role} cannot {action} an order")
    if not is_party(order, actor, action, crowd):
        return not_found()
    status = order["status"]
    rule = TABLE.get((status, action))
    if rule is None or role not in rule.roles:
        if _retaken(order, actor, action):
            return ok(unchanged=True)
        if action == "grab":
            return _grab_refusal(order, actor.get("providerId"))
        return fail(409, "invalid_transition", f"cannot {action} an order that is {status}")
    for name in rule.guards:
        guard = GUARDS[name]
        if not guard.holds(order, actor.get("providerId"), args):
            return fail(409, guard.code, guard.message)
    effect = effect_of(status, action)
    changes = {"status": rule.to} if rule.to != status else {}
    if effect.stamp:
        changes[effect.stamp] = now
    if effect.writes:
        changes.update(effect.writes(order, actor, args))
    detail = effect.detail(order, actor, args) if effect.detail else {}
    return Decision(rule.to, changes, detail, effect.then)
