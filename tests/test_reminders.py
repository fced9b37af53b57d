"""Reminders for completed orders left unpaid (actors/reminders.py): WeChat subscribe messages
through the sandbox, each (order, n) attempted once and recorded, on a hub of its own whose
reminders come seconds (not days) after completion."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from datetime import datetime

import httpx
import pytest
from conftest import MYSQL_URL, REDIS_URL, World
from test_payments import cashier, completed_order
from waiting import arrival, until

from adapters.mysql import Database
from adapters.reminders import ReminderStore
from adapters.settings import SANDBOX_TEMPLATE_PAYMENT_DUE

INTERVALS = (3, 5, 7)  # seconds after completion
DB_URL = MYSQL_URL + "_reminders"


@pytest.fixture(scope="module")
async def reminding(hub_factory):
    hub = hub_factory(
        MYSQL_URL=DB_URL,
        REDIS_URL=REDIS_URL.rsplit("/", 1)[0] + "/13",
        HUB_PAY_REMINDERS_S=",".join(map(str, INTERVALS)),
    )
    world = World(hub.url)
    yield world
    await world.close()


class _Named:
    """`world` for test_payments.completed_order, whose customer is one we name (the sandbox
    knows users by the name they logged in with)."""

    def __init__(self, world: World, customer):
        self._world, self._customer = world, customer

    def __getattr__(self, attr):
        return getattr(self._world, attr)

    async def customer(self, name=None):
        return self._customer


async def _completed(world: World, consents: int) -> tuple[str, object, dict, float]:
    """A named customer's order walked to completed, with `consents` to the payment-due
    template given first: (name, customer, order, when it completed)."""
    name = f"rem-{uuid.uuid4().hex[:10]}"
    customer = await world.customer(name)
    if consents:  # WeChat records the consents, and the mini program tells the hub
        await _sandbox(
            world.sandbox,
            "POST",
            "/sandbox/subscribe/consent",
            json={
                "code": f"sandbox-{name}",
                "templateId": SANDBOX_TEMPLATE_PAYMENT_DUE,
                "count": consents,
            },
        )
        for _ in range(consents):
            await customer.api.ok("POST", "/api/me/subscriptions", {"accepted": ["payment_due"]})
    _, _, order = await completed_order(_Named(world, customer))
    return name, customer, order, time.monotonic()


async def _sandbox(base: str, method: str, path: str, **kw) -> dict:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        r = await http.request(method, path, **kw)
    assert r.status_code == 200, r.text
    return r.json()


async def _delivered(world: World, name: str, everything: bool = False) -> list[dict]:
    params = {"code": f"sandbox-{name}", **({"all": "1"} if everything else {})}
    return (await _sandbox(world.sandbox, "GET", "/sandbox/subscribe-messages", params=params))[
        "items"
    ]


async def _rows(order_id: int) -> list[tuple]:
    """The order's payment_reminders: (n, result)."""
    db = await Database.connect(DB_URL, maxsize=1)
    try:
        return [(r["n"], r["result"]) for r in await ReminderStore(db).of_order(order_id)]
    finally:
        await db.close()


async def _all_recorded(order_id: int, timeout: float = 40) -> list[tuple]:
    async def done():
        rows = await _rows(order_id)
        return rows if len(rows) == len(INTERVALS) and "sending" not in dict(rows).values() else []

    return await until(done, f"{len(INTERVALS)} reminders of order {order_id}", timeout, 0.3)


@pytest.fixture
def world(reminding, sandbox):
    reminding.sandbox = sandbox
    return reminding


async def test_with_consent_each_reminder_arrives_once(world):
    staff = await world.socket(await world.admin_user())
    name, customer, order, _ = await _completed(world, consents=5)
    oid = order["id"]
    assert order["status"] == "completed" and order["paymentStatus"] == "unpaid"
    assert await _all_recorded(oid) == [(1, "sent"), (2, "sent"), (3, "sent")]
    for n in (1, 2, 3):
        alert = await arrival(staff, "console.update", kind="payment_due", orderId=oid, n=n)
        assert alert["type"] == "alert" and alert["result"] == "sent"
    items = await _delivered(world, name)
    assert len(items) == 3
    for item in items:
        assert item["templateId"] == SANDBOX_TEMPLATE_PAYMENT_DUE
        assert item["page"] == f"pages/user/payment?id={oid}"
        values = {k: v["value"] for k, v in item["data"].items()}
        assert values["character_string1"] == order["orderNo"]
        assert values["amount3"] == f"¥{order['price']['final'] / 100:.2f}"
        assert set(values) == {"character_string1", "thing2", "amount3", "time4", "thing5"}
        text = json.dumps(item, ensure_ascii=False)
        assert "13800138000" not in text and "人民大道" not in text  # no phone, no address
    at = [datetime.fromisoformat(item["at"].replace("Z", "+00:00")) for item in items]
    assert (at[2] - at[0]).total_seconds() >= INTERVALS[2] - INTERVALS[0] - 2
    await asyncio.sleep(3)  # nothing more comes, nothing is sent twice
    assert len(await _delivered(world, name)) == 3
    assert len(await _rows(oid)) == 3
    left = await _sandbox(
        world.sandbox, "GET", "/sandbox/subscribe/consent", params={"code": f"sandbox-{name}"}
    )
    assert left["balances"] == {SANDBOX_TEMPLATE_PAYMENT_DUE: 2}
    mine = await customer.api.ok("GET", "/api/me/subscriptions")
    assert mine["balances"]["payment_due"] == 2


async def test_without_consent_none_is_sent(world):
    name, _, order, _ = await _completed(world, consents=0)
    none = "no_consent"  # the hub holds no consent: WeChat is not even asked
    assert await _all_recorded(order["id"]) == [(1, none), (2, none), (3, none)]
    assert await _delivered(world, name, everything=True) == []


async def test_a_paid_order_gets_none(world):
    name, customer, order, completed_at = await _completed(world, consents=3)
    prepay = await customer.api.ok("POST", "/api/payments", {"orderId": order["id"]}, status=201)
    await cashier(world.sandbox, prepay["paymentParams"])

    async def paid() -> bool:
        got = await customer.api.ok("GET", f"/api/orders/{order['id']}")
        return got["paymentStatus"] == "paid"

    await until(paid, timeout=INTERVALS[0], what="the order paid before its first reminder")
    await asyncio.sleep(max(0.0, completed_at + INTERVALS[-1] + 2 - time.monotonic()))
    assert await _rows(order["id"]) == []
    assert await _delivered(world, name, everything=True) == []


@pytest.mark.slow
async def test_hosts_killed_between_reminders_neither_lose_nor_repeat_one(world):
    name, _, order, _ = await _completed(world, consents=5)
    oid = order["id"]

    async def first_sent() -> bool:
        return dict(await _rows(oid)).get(1) == "sent"

    await until(first_sent, f"reminder 1 of order {oid} sent", 20, 0.2)
    admin = await world.admin()
    for host in (await admin.ok("GET", "/api/admin/hosts"))["items"]:
        os.kill(host["pid"], signal.SIGKILL)
    rows = dict(await _all_recorded(oid, timeout=90))
    # Ray restarts the hosts, which read what was recorded: 2 may have gone by while they
    # were down (then only the latest due is sent), never anything twice.
    assert rows[1] == "sent" and rows[3] == "sent" and rows[2] in ("sent", "skipped")
    sent = [n for n, result in rows.items() if result == "sent"]
    assert len(await _delivered(world, name)) == len(sent)
