"""Authorization matrix generated from the route table (the OpenAPI document is built from the
same declarations as the routing, hub/openapi.py): every route that needs a role × every role
× someone else's object answers as CONTRACT §2 says —

- no token, or a token that is not ours: 401;
- a role the route does not take: 403;
- a role it takes, on an object of another user: 404 (never a 403: no existence oracle).

Only what the route table cannot tell is written here: which kind of object a path's `{id}`
names (OBJECTS, made by the fixture for another user) and which kinds no user owns
(NOT_OWNED). A new route with an `{id}` of a new kind fails `test_every_route_is_in_the_matrix`
with what to add; PENDING holds routes other engineers added the day this was written, for the
lead to review (it should be emptied)."""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import timedelta

import httpx
import pytest
from bad_input import resolve, sample
from conftest import MYSQL_URL, World

from adapters import ledger
from adapters.clock import utcnow
from adapters.mysql import Database
from hub.accounts import ensure_staff

ROLES = ("customer", "provider", "dispatcher", "admin")  # the accounts the fixture makes
STAFF = {"admin", "dispatcher"}
# The segment before `{id}` → the kind of object the fixture makes for another user.
OBJECTS = {
    "orders": "order",
    "payments": "payment",
    "reviews": "review",
    "complaints": "complaint",
    "withdrawals": "withdrawal",
}
# Kinds no user owns: any user of the route's roles may name any of them.
NOT_OWNED = {
    "providers": "public provider profiles",
    "coupons": "coupons on offer to every customer (claiming one is the customer's own act)",
}
# Routes added by others on the day this matrix was made, not yet given an entry above.
PENDING: set[str] = set()


def _routes(doc: dict) -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, op)
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
        if op.get("x-roles")
    ]


def _kind(path: str) -> str | None:
    """The segment naming what `{id}` is (…/orders/{id}/… → orders), or None."""
    found = re.search(r"/([a-z-]+)/\{id\}", path)
    return found.group(1) if found else None


def _body(op: dict, doc: dict):
    """A valid body: its required fields, each with a value its schema takes."""
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if not content:
        return None
    schema = resolve(content["schema"], doc)
    required = schema.get("required", [])
    props = schema.get("properties", {})
    return {k: sample(v, doc, k) for k, v in props.items() if k in required}


@pytest.fixture(scope="module")
async def matrix(hub):
    """Owner A's objects of every kind; B (customer), Q (provider) and staff to ask for them."""
    world = World(hub.url)
    owner, provider = await world.customer(), await world.provider()
    other_customer, other_provider = await world.customer(), await world.provider()
    admin = await world.admin()
    dispatcher = await _dispatcher(hub.url)
    psock = await world.socket(provider)
    assert (await psock.call("provider.online", {"lat": 20.03, "lng": 110.3}))["ok"]
    await world.order(other_customer)  # the asker's own list is not empty
    order = await world.order(owner)
    await psock.wait_for("order.offer", orderId=order["id"])
    assert (await psock.call("order.grab", {"orderId": order["id"]}))["ok"]
    for action in ("depart", "arrive", "start", "complete"):
        await provider.api.ok("POST", f"/api/orders/{order['id']}/{action}")
    await psock.call("provider.offline")
    stars = {"rating": 5, "serviceRating": 5, "qualityRating": 5, "speedRating": 5}
    review = await owner.api.ok("POST", f"/api/orders/{order['id']}/review", stars, status=201)
    complaint = await owner.api.ok(
        "POST",
        f"/api/orders/{order['id']}/complaints",
        {"kind": "other", "text": "测试投诉"},
        status=201,
    )
    payment = await owner.api.ok("POST", "/api/payments", {"orderId": order["id"]}, status=201)
    withdrawal = await _withdrawal(provider)
    objects = {
        "order": order["id"],
        "payment": payment["paymentId"],
        "review": review["id"],
        "complaint": complaint["id"],
        "withdrawal": withdrawal["id"],
    }
    async with httpx.AsyncClient(base_url=hub.url, timeout=60) as http:
        doc = (await http.get("/api/openapi.json")).json()
        tokens = {
            "customer": other_customer.token,
            "provider": other_provider.token,
            "dispatcher": dispatcher,
            "admin": admin.token,
        }
        yield http, doc, tokens, objects
    await world.close()


async def _dispatcher(base: str) -> str:
    """A dispatcher's token: the account made as `python -m hub migrate` makes the admin."""
    name, password = f"bola-{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    await asyncio.to_thread(ensure_staff, MYSQL_URL, name, password, "dispatcher")
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        r = await http.post("/api/auth/login", json={"username": name, "password": password})
        assert r.status_code == 200, r.text
        return r.json()["token"]


async def _withdrawal(provider) -> dict:
    """A withdrawal of the owner's provider: earnings posted to the ledger a week ago (as
    tests/test_withdrawals.py does), then withdrawn through the hub."""
    db = await Database.connect(MYSQL_URL, maxsize=1)
    try:
        unreal = 10**15 + secrets.randbelow(10**15)
        paid = {"id": unreal, "order_id": unreal, "amount": 10000, "paid_at": utcnow()}
        paid["paid_at"] -= timedelta(days=30)
        async with db.transaction() as cur:
            for statement in ledger.payment_entries(paid, provider.provider_id, 2000):
                await cur.execute(*statement)
    finally:
        await db.close()
    return await provider.api.ok("POST", "/api/me/withdrawals", {"amount": 1000}, status=201)


def test_every_route_is_in_the_matrix(hub):
    """A route whose `{id}` names a kind of object the matrix does not know fails here, with
    what its author must add."""
    doc = httpx.get(f"{hub.url}/api/openapi.json", timeout=30).json()
    unknown = []
    for method, path, op in _routes(doc):
        kind, roles = _kind(path), set(op["x-roles"])
        if kind is None or roles <= STAFF or f"{method} {path}" in PENDING:
            continue
        if kind not in OBJECTS and kind not in NOT_OWNED:
            unknown.append(f"{method} {path} ({kind!r}, roles {sorted(roles)})")
    assert not unknown, (
        "routes whose {id} names an object the authorization matrix does not know:\n  "
        + "\n  ".join(unknown)
        + "\nIn tests/test_bola.py add the kind to OBJECTS (and make one for another user in "
        "the `matrix` fixture) or, if no user owns such objects, to NOT_OWNED with why."
    )


async def test_no_token_and_foreign_tokens_are_401(matrix):
    http, doc, _tokens, objects = matrix
    forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    problems = []
    for method, path, _op in _routes(doc):
        url = path.replace("{id}", str(objects["order"]))
        for headers in ({}, {"Authorization": f"Bearer {forged}"}, {"Authorization": "Basic x"}):
            r = await http.request(method, url, headers=headers, json={})
            if r.status_code != 401 or r.json().get("error", {}).get("code") is None:
                problems.append(f"{method} {path} {list(headers.values())} → {r.status_code}")
    assert not problems, "\n".join(problems)


async def test_a_role_the_route_does_not_take_is_403(matrix):
    http, doc, tokens, objects = matrix
    problems = []
    for method, path, op in _routes(doc):
        url = path.replace("{id}", str(objects["order"]))
        for role in ROLES:
            if role in op["x-roles"]:
                continue
            r = await http.request(
                method, url, headers={"Authorization": f"Bearer {tokens[role]}"}, json={}
            )
            if r.status_code != 403:
                problems.append(f"{method} {path} as {role} → {r.status_code} {r.text[:120]}")
    assert not problems, "\n".join(problems)


async def test_someone_elses_object_is_404(matrix):
    """Every route taking a customer or a provider, on an object of another user, with a body
    that would be valid: 404 (staff see every object: not asked)."""
    http, doc, tokens, objects = matrix
    problems, asked = [], 0
    for method, path, op in _routes(doc):
        kind = _kind(path)
        if kind not in OBJECTS or f"{method} {path}" in PENDING:
            continue
        url = path.replace("{id}", str(objects[OBJECTS[kind]]))
        for role in ("customer", "provider"):
            if role not in op["x-roles"]:
                continue
            asked += 1
            r = await http.request(
                method,
                url,
                headers={"Authorization": f"Bearer {tokens[role]}"},
                json=_body(op, doc),
            )
            if r.status_code != 404:
                problems.append(f"{method} {path} as {role} → {r.status_code} {r.text[:160]}")
    assert asked >= 20, asked
    assert not problems, f"{len(problems)} of {asked}:\n" + "\n".join(problems)


# Lists of one's own objects: (route, role asking, kind of the items' `id`, whether the asker
# has one of its own there). The other user's page must not hold the owner's object.
LISTS = [
    ("/api/orders", "customer", "order", True),
    ("/api/orders", "provider", "order", False),
    ("/api/me/withdrawals", "provider", "withdrawal", False),
]


async def test_lists_hold_only_ones_own_objects(matrix):
    http, _doc, tokens, objects = matrix
    for path, role, kind, has_own in LISTS:
        r = await http.get(path, headers={"Authorization": f"Bearer {tokens[role]}"})
        assert r.status_code == 200, f"{path} as {role} → {r.status_code} {r.text[:200]}"
        ids = [item["id"] for item in r.json()["items"]]
        assert objects[kind] not in ids, f"{path} as {role} lists another user's {kind}"
        assert bool(ids) == has_own, f"{path} as {role}: {ids}"
