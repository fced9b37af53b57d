"""The order state machine, row by row, with no services: every (status × action × caller)
gives the next status or the refusal CONTRACT §5 names. Written from the contract, not from
actors/transitions.py, so the two are checked against each other."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from actors.dispatch.plan import State, state_of
from actors.results import ok
from actors.transitions import (
    ASSIGNED,
    CLIENT_ACTIONS,
    EFFECTS,
    GUARDS,
    LIVE,
    STATUSES,
    TABLE,
    TERMINAL,
    Decision,
    decide,
    payment_status,
)

NOW = datetime(2026, 11, 29, 12, 0, 0)
CUSTOMER_ID, OTHER_CUSTOMER_ID = 10, 11
ASSIGNEE, HOLDER, CROWD, STRANGER = 7, 8, 9, 5  # provider ids

CALLERS = {
    "customer": {"role": "customer", "userId": CUSTOMER_ID},
    "other_customer": {"role": "customer", "userId": OTHER_CUSTOMER_ID},
    "assignee": {"role": "provider", "userId": 107, "providerId": ASSIGNEE},
    "holder": {"role": "provider", "userId": 108, "providerId": HOLDER},  # the one offer
    "crowd": {"role": "provider", "userId": 109, "providerId": CROWD},  # a grab broadcast
    "stranger": {"role": "provider", "userId": 105, "providerId": STRANGER},
    "dispatcher": {"role": "dispatcher", "userId": 1},
    "admin": {"role": "admin", "userId": 2},
    "system": {"role": "system", "userId": None},
}
STAFF = {"dispatcher", "admin"}
PROVIDERS = {"assignee", "holder", "crowd", "stranger"}
CUSTOMERS = {"customer", "other_customer"}
CANCELLERS = {"customer"} | STAFF

# CONTRACT §5: every allowed move, (status, action) → (next status, who may make it).
ALLOWED = {
    ("pending", "grab"): ("accepted", {"crowd"}),
    ("pending", "accept"): ("accepted", {"holder"}),
    ("pending", "decline"): ("pending", {"holder"}),
    ("pending", "assign"): ("pending", STAFF),
    ("pending", "cancel"): ("cancelled", CANCELLERS),
    ("pending", "offer_timeout"): ("pending", {"system"}),
    ("pending", "expire"): ("expired", {"system"}),
    ("accepted", "depart"): ("departed", {"assignee"}),
    ("accepted", "decline"): ("pending", {"assignee"}),  # hand back before arriving
    ("accepted", "cancel"): ("cancelled", CANCELLERS),
    ("departed", "arrive"): ("arrived", {"assignee"}),
    ("departed", "decline"): ("pending", {"assignee"}),
    ("departed", "cancel"): ("cancelled", CANCELLERS),
    ("arrived", "quote"): ("arrived", {"assignee"}),
    ("arrived", "confirm-quote"): ("in_progress", {"customer"}),
    ("arrived", "start"): ("in_progress", {"assignee"}),
    ("arrived", "cancel"): ("cancelled", CANCELLERS),
    ("in_progress", "complete"): ("completed", {"assignee"}),
}
# CONTRACT §6: the order's paymentStatus follows its payments, whatever its status.
PAY = ("payment_opened", "paid", "payment_failed", "payment_closed")
PAYMENT_MOVES = (*PAY, "refund_requested", "refunded", "refund_failed")
ALLOWED.update({(s, a): (s, {"system"}) for s in STATUSES for a in PAYMENT_MOVES})
# CONTRACT §10: the dispatch chain's steps, its assignment, a scheduled order's reminder and
# no-show (the system's moves; each an order event).
DISPATCH_MOVES = ("dispatch", "auto_assign", "slot_reminder", "no_show")
ALLOWED.update(
    {
        ("pending", "dispatch"): ("pending", {"system"}),
        ("pending", "auto_assign"): ("accepted", {"system"}),
        ("accepted", "slot_reminder"): ("accepted", {"system"}),
        ("accepted", "no_show"): ("pending", {"system"}),
    }
)
# Issue #11: staff start the chain again, or move an order a provider holds to another one.
ALLOWED.update(
    {
        ("pending", "redispatch"): ("pending", STAFF),
        ("accepted", "reassign"): ("pending", STAFF),
        ("departed", "reassign"): ("pending", STAFF),
    }
)
# Which kind of caller may ever make each action (else 403, whatever the status).
MAY_EVER = {
    "grab": PROVIDERS,
    "accept": PROVIDERS,
    "decline": PROVIDERS,
    "depart": PROVIDERS,
    "arrive": PROVIDERS,
    "quote": PROVIDERS,
    "start": PROVIDERS,
    "complete": PROVIDERS,
    "confirm-quote": CUSTOMERS,
    "cancel": CUSTOMERS | STAFF,
    "assign": STAFF,
    "redispatch": STAFF,
    "reassign": STAFF,
    "offer_timeout": {"system"},
    "expire": {"system"},
    **{action: {"system"} for action in (*PAYMENT_MOVES, *DISPATCH_MOVES)},
}
ACTIONS = sorted(MAY_EVER)
ARGS = {
    "quote": {"amount": 8800},
    "assign": {"providerId": HOLDER},
    "reassign": {"providerId": HOLDER},
    "cancel": {"reason": "x"},
    **{a: {"paymentStatus": "paid", "detail": {"paymentId": 3}} for a in PAYMENT_MOVES},
    "dispatch": {"state": "{}", "detail": {"stage": "batches"}},
    "auto_assign": {"providerId": HOLDER},
    "slot_reminder": {"minutes": 30},
}


def order(status: str, action: str) -> dict:
    """An order in `status` that passes the action's guards (guards are tested apart)."""
    has_provider = status in ASSIGNED or status == "completed"
    return {
        "id": 1,
        "status": status,
        "customer_id": CUSTOMER_ID,
        "provider_id": ASSIGNEE if has_provider else None,
        "offered_provider_id": HOLDER if status == "pending" and action != "grab" else None,
        "dispatch_mode": "grab" if action == "grab" else "direct",
        "quoted_amount": 9900 if action == "confirm-quote" else None,
        "estimated_amount": 5000,
        "seq": 3,
    }


def is_party(caller: str, status: str, action: str) -> bool:
    """CONTRACT §5/§2: whose order it is (anyone else gets a 404)."""
    if caller in STAFF or caller == "system" or caller == "customer":
        return True
    if caller == "assignee":
        return status in ASSIGNED or status == "completed"
    if caller == "holder":  # a grab order has no single offer holder (see order())
        return status == "pending" and action != "grab"
    if caller == "crowd":
        return status == "pending" or action == "grab"
    return False


def expected(status: str, action: str, caller: str) -> tuple[str, str]:
    """('moved', next status) or ('refused', 'STATUS code')."""
    if caller not in MAY_EVER[action]:
        return "refused", "403 forbidden"
    if not is_party(caller, status, action):
        return "refused", "404 not_found"
    allowed = ALLOWED.get((status, action))
    if allowed and caller in allowed[1]:
        return "moved", allowed[0]
    if action in ("grab", "accept") and caller == "assignee" and status in ASSIGNED:
        return "unchanged", status  # a retry after a lost answer: the order as it stands
    if action == "grab":
        if status in ("cancelled", "expired"):
            return "refused", f"409 order_{status}"
        if caller == "assignee":
            return "refused", "409 invalid_transition"  # it is already theirs
        return "refused", "409 already_taken"
    if action in ("accept", "decline") and status == "pending" and caller == "crowd":
        return "refused", "409 not_offered"
    return "refused", "409 invalid_transition"


GRID = [(s, a, c) for s in STATUSES for a in ACTIONS for c in CALLERS]


@pytest.mark.parametrize(("status", "action", "caller"), GRID)
def test_every_row(status, action, caller):
    row = order(status, action)
    got = decide(row, CALLERS[caller], action, ARGS.get(action, {}), {CROWD}, NOW)
    if isinstance(got, Decision):
        outcome = ("moved", got.to)
        assert got.changes.get("status", status) == got.to
    elif got["ok"]:
        outcome = ("unchanged", status) if got.get("unchanged") else ("?", got)
    else:
        assert got["ok"] is False
        outcome = ("refused", f"{got['status']} {got['error']['code']}")
    assert outcome == expected(status, action, caller)


def test_the_table_is_the_contract():
    """Nothing allowed that the contract does not list, and every action is named."""
    assert {k: v.to for k, v in TABLE.items()} == {k: v[0] for k, v in ALLOWED.items()}
    system_only = {"offer_timeout", "expire", *PAYMENT_MOVES, *DISPATCH_MOVES}
    assert CLIENT_ACTIONS == set(ACTIONS) - system_only
    assert set(STATUSES) == set(LIVE) | TERMINAL and not set(LIVE) & TERMINAL


@pytest.mark.parametrize(
    ("guard", "status", "action", "caller", "change"),
    [
        ("open_to_grab", "pending", "grab", "holder", {"dispatch_mode": "direct"}),
        ("holds_offer", "pending", "accept", "crowd", {}),
        ("holds_offer", "pending", "decline", "crowd", {}),
        ("has_quote", "arrived", "confirm-quote", "customer", {"quoted_amount": None}),
        ("no_open_quote", "arrived", "start", "assignee", {"quoted_amount": 9900}),
        ("another_provider", "accepted", "reassign", "admin", {"provider_id": HOLDER}),
    ],
)
def test_each_guard_refuses(guard, status, action, caller, change):
    row = {**order(status, action), **change}
    crowd = {CROWD, HOLDER}
    got = decide(row, CALLERS[caller], action, ARGS.get(action, {}), crowd, NOW)
    assert not isinstance(got, Decision)
    assert (got["status"], got["error"]["code"]) == (409, GUARDS[guard].code)


def test_every_guard_is_tested_and_used():
    used = {g for rule in TABLE.values() for g in rule.guards}
    assert used == set(GUARDS)
    tested = {case[0] for case in test_each_guard_refuses.pytestmark[0].args[1]}
    assert tested == set(GUARDS)


def test_grab_refusals_say_why():
    """already_taken only when another provider holds it; an ended order says so."""
    crowd = {CROWD}
    grab = CALLERS["crowd"]
    taken = {**order("accepted", "grab")}
    assert decide(taken, grab, "grab", {}, crowd, NOW)["error"]["code"] == "already_taken"
    for status in ("cancelled", "expired"):
        ended = {**order(status, "grab"), "provider_id": None}
        assert decide(ended, grab, "grab", {}, crowd, NOW)["error"]["code"] == f"order_{status}"
    mine = {**order("accepted", "grab"), "provider_id": CROWD}
    assert decide(mine, grab, "grab", {}, crowd, NOW) == {"ok": True, "unchanged": True}


def test_effects_write_what_the_action_means():
    grab = decide(order("pending", "grab"), CALLERS["crowd"], "grab", {}, {CROWD}, NOW)
    assert grab.changes.pop("dispatch")  # the chain's state, with no offer left out
    assert grab.changes == {
        "status": "accepted",
        "accepted_at": NOW,
        "provider_id": CROWD,
        "offered_provider_id": None,
    }
    assert grab.then == ("stop_dispatch", "withdraw_taken", "watch_slot")
    back = decide(order("departed", "decline"), CALLERS["assignee"], "decline", {}, set(), NOW)
    assert back.changes["provider_id"] is None and back.detail["providerId"] == ASSIGNEE
    assert back.then == ("release_provider", "dispatch_again")
    row = {**order("in_progress", "complete"), "quoted_amount": 12000}
    done = decide(row, CALLERS["assignee"], "complete", {}, set(), NOW)
    assert done.changes["final_amount"] == 12000 and done.then == ("end",)
    cancel = decide(
        order("pending", "cancel"), CALLERS["admin"], "cancel", ARGS["cancel"], set(), NOW
    )
    assert cancel.changes["cancel_by"] == "staff" and cancel.detail == {"reason": "x"}
    row = {**order("accepted", "reassign"), "dispatch": '{"stage": "batches", "tried": [3]}'}
    moved = decide(row, CALLERS["admin"], "reassign", ARGS["reassign"], set(), NOW)
    assert moved.changes["provider_id"] is None and moved.changes["offered_provider_id"] == HOLDER
    assert state_of(moved.changes).tried == (3, ASSIGNEE)  # not offered it again by the chain
    assert moved.detail == {"providerId": HOLDER, "fromProviderId": ASSIGNEE}
    assert moved.then == ("release_provider", "reassigned")
    row = {**order("pending", "redispatch"), "dispatch": '{"stage": "alert", "pinned": true}'}
    again = decide(row, CALLERS["dispatcher"], "redispatch", {}, set(), NOW)
    assert again.changes["dispatch_mode"] == "auto"  # a direct order joins the chain
    assert state_of(again.changes) == State() and again.changes["offered_provider_id"] is None
    assert again.detail == {"previousStage": "alert"} and again.then == ("redispatch",)


@pytest.mark.parametrize(
    ("payments", "status"),
    [
        ([], "unpaid"),
        ([("full", "open")], "paying"),
        ([("full", "closed")], "unpaid"),
        ([("full", "failed"), ("full", "open")], "paying"),
        ([("full", "paid")], "paid"),
        ([("deposit", "paid")], "deposit_paid"),
        ([("deposit", "paid"), ("balance", "open")], "deposit_paid"),
        ([("deposit", "paid"), ("balance", "paid")], "paid"),
        ([("deposit", "refunded")], "refunded"),
        ([("full", "paid"), ("deposit", "refunding")], "refunding"),
    ],
)
def test_payment_status_follows_the_payments(payments, status):
    assert payment_status([{"kind": k, "status": s} for k, s in payments]) == status


def test_a_payment_event_changes_only_the_payment_status():
    args = ARGS["paid"]
    got = decide(order("completed", "paid"), CALLERS["system"], "paid", args, set(), NOW)
    assert got.changes == {"payment_status": "paid"} and got.detail == {"paymentId": 3}


def test_every_follow_up_is_one_the_actor_runs():
    from actors.order import FOLLOW_UPS

    named = {step for effect in EFFECTS.values() for step in effect.then}
    assert named == set(FOLLOW_UPS)


def test_sql_enum_lists_the_statuses():
    """The orders.status ENUM in the migrations is the state machine's status list."""
    schema = "\n".join(
        p.read_text() for p in sorted((Path(__file__).parents[1] / "adapters/schema").glob("*.sql"))
    )
    enums = re.findall(r"\bstatus ENUM\(([^)]*)\)[^,]*DEFAULT 'pending'", schema)
    assert enums, "no orders.status ENUM found in adapters/schema"
    assert tuple(re.findall(r"'([a-z_]+)'", enums[-1])) == STATUSES


def test_refusals_are_plain_dicts():
    """Answers cross Ray: plain dicts in the CONTRACT §2 shape."""
    refused = decide(order("completed", "cancel"), CALLERS["customer"], "cancel", {}, set(), NOW)
    assert set(refused) == set(ok()) | {"status", "error"}


def test_a_batch_offer_is_held_by_each_provider_in_the_batch():
    """CONTRACT §10: batches offer to K providers at once; each may accept or decline, and a
    grab order whose grab window closed is no longer open to grab."""
    batch = '{"stage": "batches", "batch": 1, "offered": [8, 9], "tried": [8, 9]}'
    row = {**order("pending", "accept"), "offered_provider_id": None, "dispatch": batch}
    row["dispatch_mode"] = "auto"
    took = decide(row, CALLERS["crowd"], "accept", {}, set(), NOW)
    assert took.to == "accepted" and took.changes["provider_id"] == CROWD
    assert '"offered":[]' in took.changes["dispatch"]
    said_no = decide(row, CALLERS["holder"], "decline", {}, set(), NOW)
    assert said_no.to == "pending" and '"offered":[9]' in said_no.changes["dispatch"]
    assert said_no.detail == {"providerId": HOLDER}
    outsider = decide(row, CALLERS["stranger"], "accept", {}, set(), NOW)
    assert outsider["status"] == 404
    closed = {**order("pending", "grab"), "dispatch": '{"stage": "batches"}'}
    late = decide(closed, CALLERS["crowd"], "grab", {}, {CROWD}, NOW)
    assert (late["status"], late["error"]["code"]) == (409, "not_grabbable")
