"""Garbage sent to every Socket.IO event is refused with the error shape of CONTRACT §2 (an
`internal` error is a failure, like a 5xx over HTTP), keeps the socket connected, and changes
nothing in the database."""

from __future__ import annotations

import pytest
from bad_input import GARBAGE, MISSING_ID, ack_problem, open_sweep
from conftest import Socket


@pytest.fixture
async def sweep(hub):
    async with open_sweep(hub.url) as s:
        yield s


EVENTS = {
    "provider.online": "provider",
    "location.update": "provider",
    "order.grab": "provider",
    "hall.snapshot": "provider",
    "order.watch": "customer",
    "chat.send": "customer",
    "heartbeat": "customer",
}
IGNORE_DATA = {"heartbeat", "hall.snapshot"}  # they take `{}`: any data is ignored, ack ok
SOCKET_GARBAGE = [
    None,
    "a string",
    ["a", "list"],
    42,
    True,
    GARBAGE,
    {"lat": "north", "lng": None},
    {"lat": 91, "lng": 181},
    {"orderId": "abc"},
    {"orderId": -1},
    {"orderId": 10**30},
    {"orderId": MISSING_ID},
    {"orderId": MISSING_ID, "text": ["x"], "clientMsgId": {}},
    {"orderId": MISSING_ID, "text": "x" * 5000, "clientMsgId": "m"},
    {"orderId": MISSING_ID, "afterSeq": -5},
]


async def test_socket_events_with_garbage(sweep):
    socks: dict[str, Socket] = {}
    for role in ("customer", "provider"):
        socks[role] = Socket()
        await socks[role].connect(sweep.base, sweep.tokens[role])
    problems = []
    try:
        for event, role in EVENTS.items():
            for data in SOCKET_GARBAGE:
                ack = await socks[role].sio.call(event, data, timeout=15)
                if why := ack_problem(ack, ignores_data=event in IGNORE_DATA):
                    problems.append(f"{event} {str(data)[:60]!r} → {why}: {str(ack)[:200]}")
        for role, sock in socks.items():
            assert sock.sio.connected, f"the {role} socket was dropped"
            assert (await sock.call("heartbeat"))["ok"]
    finally:
        for sock in socks.values():
            await sock.close()
    sweep.report(problems)


async def test_socket_event_with_extra_arguments_is_answered(sweep):
    sock = Socket()
    await sock.connect(sweep.base, sweep.tokens["customer"])
    try:
        ack = await sock.sio.call("heartbeat", ({}, "extra"), timeout=3)
        assert ack_problem(ack, ignores_data=True) is None, ack
        assert sock.sio.connected
    finally:
        await sock.close()


def test_the_check_refuses_an_internal_error_ack():
    """The sweep above would catch a handler that failed: the `internal` ack the hub sends
    then, or no proper refusal at all, fails the check; a proper refusal passes it."""
    internal = {"ok": False, "error": {"code": "internal", "message": "internal error"}}
    assert ack_problem(internal)
    assert ack_problem(internal, ignores_data=True)
    assert ack_problem({"ok": True})  # garbage accepted
    assert ack_problem({"ok": False, "error": {"code": "Bad Code", "message": "x"}})
    assert ack_problem({"ok": False, "error": {"code": "not_found", "message": ""}})
    assert ack_problem(None)
    refusal = {"ok": False, "error": {"code": "validation_error", "message": "orderId: bad"}}
    assert ack_problem(refusal) is None
    assert ack_problem({"ok": True, "serverTime": "t"}, ignores_data=True) is None
