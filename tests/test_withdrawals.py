"""Earnings and withdrawals against the real stack (CONTRACT §9). Earnings are seeded by posting
payments straight into the test database with adapters.ledger (paid long enough ago to be
withdrawable, or just now to be held); then withdrawals go through the hub: concurrent ones
never overdraw, admins approve or reject, providers cancel, nobody else sees them, and the
ledger always sums to 0."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import timedelta

import pytest
from conftest import MYSQL_URL

from adapters import ledger
from adapters.clock import utcnow
from adapters.mysql import Database
from hub.app import ROUTERS
from hub.routes import earnings

mounted = pytest.mark.skipif(
    earnings.router not in ROUTERS,
    reason="hub/routes/earnings.py is not mounted yet (hub/app.py ROUTERS)",
)
WEEK_S = 7 * 24 * 3600


@pytest.fixture
async def db(hub, monkeypatch):
    monkeypatch.setenv("HUB_EARNINGS_HOLD_S", str(WEEK_S))
    database = await Database.connect(MYSQL_URL, maxsize=2)
    yield database
    assert await ledger.total(database) == 0, "the ledger does not sum to 0"
    await database.close()


def unreal() -> int:
    return 10**15 + secrets.randbelow(10**15)  # no real payment, order or refund has such an id


async def post(db: Database, statements) -> None:
    async with db.transaction() as cur:
        for statement in statements:
            await cur.execute(*statement)


async def earn(db: Database, provider_id: int | None, amount: int, days_ago: float = 8) -> dict:
    """A payment of `amount` fen posted for the provider (20 % fee), paid `days_ago`."""
    paid_at = utcnow() - timedelta(days=days_ago)
    payment = {"id": unreal(), "order_id": unreal(), "amount": amount, "paid_at": paid_at}
    await post(db, ledger.payment_entries(payment, provider_id, 2000))
    return payment


async def money(user) -> tuple[int, int, int, int]:
    """(balance, pending, requested, withdrawn)."""
    got = await user.api.ok("GET", "/api/me/earnings")
    return got["balance"], got["pending"], got["requested"], got["withdrawn"]


async def withdraw(user, amount, status: int = 201) -> dict:
    return await user.api.ok("POST", "/api/me/withdrawals", {"amount": amount}, status=status)


def refusal(r) -> tuple[int, str]:
    return r.status_code, r.json()["error"]["code"]


@mounted
async def test_concurrent_withdrawals_never_overdraw(world, db):
    provider = await world.provider()
    await earn(db, provider.provider_id, 10_000)
    got = await provider.api.ok("GET", "/api/me/earnings")
    assert (got["balance"], got["pending"], got["withdrawn"], got["total"]) == (8000, 0, 0, 1)
    assert [(i["kind"], i["amount"]) for i in got["items"]] == [("payment", 8000)]

    body = {"amount": 5000}
    answers = await asyncio.gather(
        *[provider.api.call("POST", "/api/me/withdrawals", body) for _ in range(2)]
    )
    assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
    lost = next(r for r in answers if r.status_code == 409)
    assert refusal(lost) == (409, "insufficient_balance")
    assert lost.json()["error"]["balance"] == 3000

    burst = await asyncio.gather(
        *[provider.api.call("POST", "/api/me/withdrawals", {"amount": 1000}) for _ in range(10)]
    )
    codes = sorted(r.status_code for r in burst)
    assert codes == [201] * 3 + [409] * 7, [r.text for r in burst]
    assert await money(provider) == (0, 0, 8000, 0)
    mine = await provider.api.ok("GET", "/api/me/withdrawals")
    assert mine["total"] == 4 and {w["status"] for w in mine["items"]} == {"requested"}


@mounted
async def test_admins_approve_or_reject_and_providers_cancel(world, db):
    provider = await world.provider()
    admin = await world.admin_user()
    await earn(db, provider.provider_id, 10_000)

    first = await withdraw(provider, 3000)
    assert (first["status"], first["amount"], first["providerId"]) == (
        "requested",
        3000,
        provider.provider_id,
    )
    r = await provider.api.call("POST", f"/api/admin/withdrawals/{first['id']}/approve", {})
    assert r.status_code == 403
    done = await admin.api.ok(
        "POST", f"/api/admin/withdrawals/{first['id']}/approve", {"note": "paid out"}
    )
    assert (done["status"], done["note"]) == ("approved", "paid out")
    assert done["decidedBy"] == admin.user_id
    assert done["decidedAt"]
    assert await money(provider) == (5000, 0, 0, 3000)
    for move in ("approve", "reject"):
        r = await admin.api.call(
            "POST", f"/api/admin/withdrawals/{first['id']}/{move}", {"note": "again"}
        )
        assert refusal(r) == (409, "invalid_transition")

    second = await withdraw(provider, 2000)
    r = await admin.api.call("POST", f"/api/admin/withdrawals/{second['id']}/reject", {})
    assert r.status_code == 422  # a rejection says why
    no = await admin.api.ok(
        "POST", f"/api/admin/withdrawals/{second['id']}/reject", {"note": "wrong bank card"}
    )
    assert (no["status"], no["note"]) == ("rejected", "wrong bank card")
    assert (await money(provider))[0] == 5000

    third = await withdraw(provider, 1000)
    assert (await money(provider))[0] == 4000
    back = await provider.api.ok("POST", f"/api/me/withdrawals/{third['id']}/cancel")
    assert back["status"] == "cancelled"
    r = await provider.api.call("POST", f"/api/me/withdrawals/{third['id']}/cancel")
    assert refusal(r) == (409, "invalid_transition")
    assert await money(provider) == (5000, 0, 0, 3000)

    pid = provider.provider_id
    listed = await admin.api.ok("GET", f"/api/admin/withdrawals?providerId={pid}")
    assert [w["status"] for w in listed["items"]] == ["cancelled", "rejected", "approved"]
    approved = await admin.api.ok("GET", f"/api/admin/withdrawals?status=approved&providerId={pid}")
    assert [w["id"] for w in approved["items"]] == [first["id"]]
    kinds = [i["kind"] for i in (await provider.api.ok("GET", "/api/me/earnings"))["items"]]
    assert kinds == [
        "withdrawal_cancelled",
        "withdrawal",
        "withdrawal_rejected",
        "withdrawal",
        "withdrawal",
        "payment",
    ]


@mounted
async def test_another_provider_sees_nothing_of_it(world, db):
    owner, other = await world.provider(), await world.provider()
    await earn(db, owner.provider_id, 5000)
    mine = await withdraw(owner, 1000)
    assert (await owner.api.ok("GET", f"/api/me/withdrawals/{mine['id']}"))["id"] == mine["id"]
    for method, path in (
        ("GET", f"/api/me/withdrawals/{mine['id']}"),
        ("POST", f"/api/me/withdrawals/{mine['id']}/cancel"),
        ("GET", "/api/me/withdrawals/999999999"),
    ):
        r = await other.api.call(method, path)
        assert refusal(r) == (404, "not_found"), (method, path)
    assert (await other.api.ok("GET", "/api/me/withdrawals"))["items"] == []
    got = await other.api.ok("GET", "/api/me/earnings")
    assert (got["balance"], got["items"]) == (0, [])
    r = await other.api.call("POST", "/api/me/withdrawals", {"amount": 1})
    assert refusal(r) == (409, "insufficient_balance")
    assert (await owner.api.ok("GET", f"/api/me/withdrawals/{mine['id']}"))["status"] == "requested"


@mounted
async def test_bad_amounts_and_held_earnings(world, db):
    provider = await world.provider()
    await earn(db, provider.provider_id, 10_000, days_ago=0)
    assert await money(provider) == (0, 8000, 0, 0)
    for bad in (0, -5, 1.5, "100", True, None, 10**11):
        r = await provider.api.call("POST", "/api/me/withdrawals", {"amount": bad})
        assert refusal(r) == (422, "validation_error"), bad
    r = await provider.api.call("POST", "/api/me/withdrawals", {})
    assert refusal(r) == (422, "validation_error")
    r = await provider.api.call("POST", "/api/me/withdrawals", {"amount": 1})
    assert refusal(r) == (409, "insufficient_balance")  # earned, but still held
    customer = await world.customer()
    r = await customer.api.call("POST", "/api/me/withdrawals", {"amount": 1})
    assert r.status_code == 403
    r = await customer.api.call("GET", "/api/me/earnings")
    assert r.status_code == 403


@mounted
async def test_the_fee_rate_is_set_per_service(world, db):
    admin = await world.admin()
    service = await admin.ok(
        "POST",
        "/api/admin/services",
        {"category": "zz-fees", "name": uuid.uuid4().hex[:8], "basePrice": 100, "durationMin": 5},
    )
    sid = service["id"]
    fees = {s["id"]: s["feeRateBp"] for s in await admin.ok("GET", "/api/admin/service-fees")}
    assert fees[sid] == 2000
    got = await admin.ok("PATCH", f"/api/admin/services/{sid}/fee", {"feeRateBp": 1250})
    assert (got["id"], got["feeRateBp"]) == (sid, 1250)
    fees = {s["id"]: s["feeRateBp"] for s in await admin.ok("GET", "/api/admin/service-fees")}
    assert fees[sid] == 1250
    for bad in (10_001, -1, 12.5, "1000", None):
        r = await admin.call("PATCH", f"/api/admin/services/{sid}/fee", {"feeRateBp": bad})
        assert refusal(r) == (422, "validation_error"), bad
    r = await admin.call("PATCH", "/api/admin/services/999999999/fee", {"feeRateBp": 100})
    assert refusal(r) == (404, "not_found")
    provider = await world.provider()
    r = await provider.api.call("PATCH", f"/api/admin/services/{sid}/fee", {"feeRateBp": 100})
    assert r.status_code == 403
    assert await ledger.fee_rate_for_order(db, 999_999_999) == ledger.DEFAULT_FEE_RATE_BP
    await admin.ok("PATCH", f"/api/admin/services/{sid}", {"active": False})


async def test_postings_read_back_for_refunds_and_releases(db):
    """What the order actor reads before posting a refund or a release: the adapter alone."""
    pid = unreal()  # the ledger names providers; it does not need their rows
    paid = await earn(db, pid, 1001, days_ago=1)
    posting = await ledger.posting_of(db, paid["id"])
    assert posting == {
        "provider_id": pid,
        "fee_rate_bp": 2000,
        "refunded_before": 0,
        "available_at": posting["available_at"],
    }
    assert posting["available_at"] > utcnow()
    for amount in (333, 668):
        await post(db, ledger.refund_entries({"id": unreal(), "amount": amount}, paid, **posting))
        posting = await ledger.posting_of(db, paid["id"])
    assert posting["refunded_before"] == 1001
    assert await ledger.posting_of(db, unreal()) is None

    deposit = await earn(db, None, 500)
    assert await ledger.held_of_order(db, deposit["order_id"]) == {deposit["id"]: 500}
    assert (await ledger.posting_of(db, deposit["id"]))["provider_id"] is None
    await post(db, ledger.refund_entries({"id": unreal(), "amount": 100}, deposit, None, 2000))
    held = await ledger.held_of_order(db, deposit["order_id"])
    assert held == {deposit["id"]: 400}
    await post(db, ledger.release_entries(deposit, held[deposit["id"]], pid, 2000))
    assert await ledger.held_of_order(db, deposit["order_id"]) == {}
    posting = await ledger.posting_of(db, deposit["id"])
    assert (posting["provider_id"], posting["refunded_before"]) == (pid, 100)
    await post(db, ledger.refund_entries({"id": unreal(), "amount": 400}, deposit, **posting))
    rows = await db.fetch_all(
        "SELECT account, SUM(amount) AS total FROM ledger_entries WHERE payment_id IN (%s, %s)"
        " GROUP BY account",
        (paid["id"], deposit["id"]),
    )
    assert {r["account"]: int(r["total"]) for r in rows} == {
        "wechat_clearing": 0,
        "platform_fee": 0,
        "provider": 0,
        "order_held": 0,
    }
