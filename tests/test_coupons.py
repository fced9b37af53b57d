"""CONTRACT §12, templates and claiming: staff set coupons up and see their counts; under a rush
of 1,000 claims from 300 customers a stock of 100 gives exactly 100 and nobody holds two;
new-customer coupons come with the first login; staff give coupons to chosen customers."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from db import rows

from hub.auth import TokenService
from hub.secret_files import jwt_secret


def when(seconds: float) -> str:
    """An ISO time `seconds` from now (negative: in the past)."""
    at = datetime.now(UTC) + timedelta(seconds=seconds)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def template(world, **fields) -> dict:
    """A template made by the admin: 10 yuan off from 0, 1 each, valid for a day, unless told."""
    body = {
        "name": f"券-{uuid.uuid4().hex[:6]}",
        "kind": "threshold",
        "amountOff": 1000,
        "stock": 100,
        "perUser": 1,
        "validDays": 1,
        **fields,
    }
    admin = await world.admin()
    return await admin.ok("POST", "/api/admin/coupons", body, status=201)


async def counts(world, template_id: int) -> dict:
    return await (await world.admin()).ok("GET", f"/api/admin/coupons/{template_id}")


async def test_staff_set_up_pause_and_end_templates(world):
    admin = await world.admin()
    made = await template(world, name="满100减10", threshold=10000, stock=5)
    assert made["kind"] == "threshold" and made["threshold"] == 10000 and made["status"] == "active"
    assert (made["issued"], made["claimed"], made["used"], made["cost"], made["left"]) == (
        0,
        0,
        0,
        0,
        5,
    )
    discount = await template(
        world, kind="discount", amountOff=None, percentOff=20, maxOff=3000, validTo=when(3600)
    )
    assert discount["percentOff"] == 20 and discount["validDays"] == 1
    bad = [
        {"name": "x", "kind": "threshold", "stock": 1, "validDays": 1},  # no amountOff
        {"name": "x", "kind": "discount", "stock": 1, "validDays": 1},  # no percentOff
        {"name": "x", "kind": "threshold", "amountOff": 1, "stock": 1},  # no validity
        {"name": "x", "kind": "threshold", "amountOff": 1, "stock": 0, "validDays": 1},
    ]
    for body in bad:
        r = await admin.call("POST", "/api/admin/coupons", body)
        assert r.status_code == 422, (body, r.text)
    customer = await world.customer()
    r = await customer.api.call("POST", "/api/admin/coupons", bad[0])
    assert r.status_code == 403
    listed = await admin.ok("GET", "/api/admin/coupons")
    assert {made["id"], discount["id"]} <= {t["id"] for t in listed["items"]}

    path = f"/api/admin/coupons/{made['id']}"
    assert (await admin.ok("PATCH", path, {"status": "paused"}))["status"] == "paused"
    r = await customer.api.call("POST", f"/api/coupons/{made['id']}/claim")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "not_eligible")
    assert made["id"] not in {
        t["id"] for t in (await customer.api.ok("GET", "/api/coupons"))["items"]
    }
    assert (await admin.ok("PATCH", path, {"status": "active"}))["status"] == "active"
    got = await customer.api.ok("POST", f"/api/coupons/{made['id']}/claim", status=201)
    assert got["status"] == "usable" and got["templateId"] == made["id"] and got["validTo"]
    r = await customer.api.call("POST", f"/api/coupons/{made['id']}/claim")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "limit_reached")
    assert (await admin.ok("PATCH", path, {"status": "ended"}))["status"] == "ended"
    r = await admin.call("PATCH", path, {"status": "active"})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "template_ended")
    mine = await customer.api.ok("GET", "/api/me/coupons?status=expired")
    assert [c["id"] for c in mine["items"]] == [got["id"]]  # an ended campaign's coupons expire
    assert (await customer.api.ok("GET", "/api/me/coupons?status=usable"))["total"] == 0
    after = await counts(world, made["id"])
    assert (after["issued"], after["claimed"], after["expired"], after["left"]) == (1, 1, 1, 4)
    r = await admin.call("GET", "/api/admin/coupons/999999999")
    assert r.status_code == 404


def customer_tokens(hub, count: int) -> list[str]:
    """`count` customers made straight in the database, each with a token the hub signs with:
    300 WeChat logins would take the test longer than the rush it is about."""
    tag = uuid.uuid4().hex[:8]
    openids = [f"rush-{tag}-{i}" for i in range(count)]
    values = ", ".join(["('customer', %s, '抢券')"] * count)
    rows(f"INSERT INTO users (role, openid, nickname) VALUES {values}", tuple(openids))
    ids = rows("SELECT id FROM users WHERE openid LIKE %s ORDER BY id", (f"rush-{tag}-%",))
    secret = jwt_secret(Path(hub.env["ORDERHUB_STATE_DIR"]), hub.env.get("HUB_SECRET"))
    tokens = TokenService(secret, 3600)
    return [tokens.issue(user_id, "customer") for (user_id,) in ids]


async def test_a_rush_of_1000_claims_gives_exactly_the_stock(hub, world):
    made = await template(world, stock=100, perUser=1)
    tokens = customer_tokens(hub, 300)
    # Idle connections are let go after 2 s, before the hub's keep-alive timeout (5 s) closes
    # them under a request (a ReadError on a loaded machine).
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200, keepalive_expiry=2)
    http = httpx.AsyncClient(base_url=hub.url, timeout=120, limits=limits)

    async def claim(token: str):
        auth = {"Authorization": f"Bearer {token}"}
        r = await http.post(f"/api/coupons/{made['id']}/claim", headers=auth)
        return r.status_code, (r.json().get("error") or {}).get("code")

    started = time.monotonic()
    results = await asyncio.gather(*(claim(tokens[i % 300]) for i in range(1000)))
    print(f"\n[coupons] 1,000 claims over HTTP: {time.monotonic() - started:.2f} s")
    await http.aclose()
    won = [r for r in results if r[0] == 201]
    assert len(won) == 100, sorted(set(results))
    assert {r for r in results if r[0] != 201} <= {(409, "out_of_stock"), (409, "limit_reached")}
    held = rows(
        "SELECT user_id, COUNT(*) FROM user_coupons WHERE template_id = %s GROUP BY user_id",
        (made["id"],),
    )
    assert len(held) == 100 and all(n == 1 for _, n in held)  # nobody holds two
    after = await counts(world, made["id"])
    assert (after["issued"], after["claimed"], after["left"]) == (100, 100, 0)
    late = await world.customer()
    r = await late.api.call("POST", f"/api/coupons/{made['id']}/claim")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "out_of_stock")


async def test_new_customers_get_theirs_at_the_first_login(world):
    made = await template(world, newCustomerOnly=True, stock=1000)
    name = f"c-{uuid.uuid4().hex[:10]}"
    fresh = await world.customer(name)
    mine = await fresh.api.ok("GET", "/api/me/coupons?status=usable")
    assert [c["source"] for c in mine["items"] if c["templateId"] == made["id"]] == ["welcome"]
    again = await world.customer(name)  # a second login gives nothing more
    mine = await again.api.ok("GET", "/api/me/coupons")
    assert len([c for c in mine["items"] if c["templateId"] == made["id"]]) == 1

    old = await world.customer()
    await world.order(old)  # no longer new
    r = await old.api.call("POST", f"/api/coupons/{made['id']}/claim")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "not_eligible")
    offered = await old.api.ok("GET", "/api/coupons")
    assert made["id"] not in {t["id"] for t in offered["items"]}
    admin = await world.admin()  # the other tests' new customers need none
    await admin.ok("PATCH", f"/api/admin/coupons/{made['id']}", {"status": "ended"})


async def test_staff_issue_a_template_to_chosen_customers(world):
    admin = await world.admin()
    made = await template(world, stock=2, perUser=1)
    a, b, c = await world.customer(), await world.customer(), await world.customer()
    provider = await world.login(f"p-{uuid.uuid4().hex[:8]}", "provider")
    body = {"userIds": [a.user_id, b.user_id, a.user_id, provider.user_id, c.user_id]}
    got = await admin.ok("POST", f"/api/admin/coupons/{made['id']}/issue", body)
    assert [x["userId"] for x in got["issued"]] == [a.user_id, b.user_id]
    assert {(x["userId"], x["code"]) for x in got["refused"]} == {
        (provider.user_id, "not_a_customer"),
        (c.user_id, "out_of_stock"),
    }
    mine = await a.api.ok("GET", "/api/me/coupons?status=usable")
    assert [x["source"] for x in mine["items"] if x["templateId"] == made["id"]] == ["grant"]
    other = await b.api.ok("GET", "/api/me/coupons")
    assert all(x["id"] != mine["items"][0]["id"] for x in other["items"])
    after = await counts(world, made["id"])
    assert (after["issued"], after["claimed"], after["left"]) == (2, 0, 0)
