"""CONTRACT §4: providers are pending until an admin approves them, only admins verify,
applications are checked, and no phone number is stored in the clear."""

from __future__ import annotations

import uuid

import pymysql
import redis as redis_sync
from conftest import MYSQL_URL, REDIS_URL, Api, World

from adapters.mysql import MysqlDsn
from adapters.redis import Keys
from hub.accounts import ensure_staff

ONLINE = {"lat": 20.031, "lng": 110.301}


def _error(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["message"] and (code is None or err["code"] == code), err
    return err


async def _apply(world: World, user, **extra):
    services = await world.ensure_catalog()
    body = {
        "name": "李师傅",
        "skills": [services[0]["id"]],
        "certificateNo": uuid.uuid4().hex[:12],
        "certificateType": "low_voltage",
        "serviceAreas": [a["id"] for a in world.areas],
        **extra,
    }
    return await user.api.call("POST", "/api/providers/apply", body)


async def test_pending_until_approved(world, hub):
    provider = await world.provider(approve=False)
    anon = Api(hub.url)
    profile = await anon.ok("GET", f"/api/providers/{provider.provider_id}")
    assert profile["verification"] == "pending" and profile["id"] == provider.provider_id
    assert set(profile) >= {"id", "name", "rating", "completedOrders", "skills", "verification"}

    sock = await world.socket(provider)
    ack = await sock.call("provider.online", ONLINE)
    assert ack["ok"] is False and ack["error"]["code"] == "not_verified", ack

    admin = await world.admin()
    await admin.ok(
        "POST", f"/api/admin/providers/{provider.provider_id}/verify", {"approved": True}
    )
    profile = await anon.ok("GET", f"/api/providers/{provider.provider_id}")
    assert profile["verification"] == "approved"
    assert (await sock.call("provider.online", ONLINE))["ok"]
    await sock.call("provider.offline")
    await anon.close()


async def test_rejection_note_is_visible_to_the_provider(world):
    provider = await world.provider(approve=False)
    admin = await world.admin()
    note = "证书照片不清晰，请重新上传"
    out = await admin.ok(
        "POST",
        f"/api/admin/providers/{provider.provider_id}/verify",
        {"approved": False, "note": note},
    )
    assert out["verification"] == "rejected"
    me = await provider.api.ok("GET", "/api/me")
    assert me["provider"]["verification"] == "rejected"
    assert me["provider"]["verificationNote"] == note
    sock = await world.socket(provider)
    ack = await sock.call("provider.online", ONLINE)
    assert ack["ok"] is False and ack["error"]["code"] == "not_verified", ack

    # A rejected applicant may apply again: pending once more, same profile.
    r = await _apply(world, provider)
    assert r.status_code == 201, r.text
    assert r.json() == {"providerId": provider.provider_id, "verification": "pending"}


async def test_only_admins_verify_and_edit_the_catalog(world, hub):
    provider = await world.provider(approve=False)
    customer = await world.customer()
    name = f"disp-{uuid.uuid4().hex[:8]}"
    ensure_staff(MYSQL_URL, name, "disp-pw-1", "dispatcher")
    anon = Api(hub.url)
    login = await anon.ok("POST", "/api/auth/login", {"username": name, "password": "disp-pw-1"})
    dispatcher = Api(hub.url, login["token"])
    verify = f"/api/admin/providers/{provider.provider_id}/verify"
    service = {"category": "zz-test", "name": f"x-{uuid.uuid4().hex[:6]}", "basePrice": 1}
    service["durationMin"] = 30

    for api in (customer.api, provider.api, dispatcher):
        _error(await api.call("POST", verify, {"approved": True}), 403, "forbidden")
        _error(await api.call("POST", "/api/admin/services", service), 403, "forbidden")
    _error(await anon.call("POST", verify, {"approved": True}), 401)

    profile = await anon.ok("GET", f"/api/providers/{provider.provider_id}")
    assert profile["verification"] == "pending"
    names = {s["name"] for s in await anon.ok("GET", "/api/services")}
    assert service["name"] not in names
    for api in (anon, dispatcher):
        await api.close()


async def test_application_is_checked(world):
    provider = await world.provider(approve=False)
    r = await _apply(world, provider)
    err = _error(r, 409, "already_applied")
    assert err["providerId"] == provider.provider_id

    fresh = await world.login(f"p-{uuid.uuid4().hex[:10]}", "provider")
    err = _error(await _apply(world, fresh, skills=[2**40, 2**40 + 1]), 422, "validation_error")
    assert "skills" in err["message"]
    err = _error(await _apply(world, fresh, serviceAreas=[2**40]), 422, "validation_error")
    assert "serviceAreas" in err["message"]
    me = await fresh.api.ok("GET", "/api/me")
    assert me["provider"] is None


def _rows(tables: list[str]) -> list[tuple[str, dict]]:
    dsn = MysqlDsn.parse(MYSQL_URL)
    conn = pymysql.connect(**dsn.connect_kwargs(db_key="database"))
    try:
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            out = []
            for table in tables:
                cur.execute(f"SELECT * FROM `{table}`")
                out += [(table, row) for row in cur.fetchall()]
            return out
    finally:
        conn.close()


def _holds(value, digits: str) -> bool:
    if isinstance(value, bytes | bytearray):
        return digits.encode() in value
    return value is not None and digits in str(value)


async def test_no_plaintext_phone_at_rest(world):
    customer = await world.customer()
    bound = await customer.api.ok(
        "POST", "/api/auth/bind-phone", {"phoneCode": "sandbox-phone-13800138000"}
    )
    assert bound["user"]["phone"] == "138****8000"
    provider = await world.provider()
    psock = await world.socket(provider)
    assert (await psock.call("provider.online", ONLINE))["ok"]
    order = await world.order(customer, contactPhone="13912345678")
    assert order["contactPhone"] == "139****5678"
    await psock.wait_for("order.offer", orderId=order["id"])  # the offer is in Redis now
    got = await customer.api.ok("GET", f"/api/orders/{order['id']}")
    assert got["contactPhone"] == "139****5678"
    assert "13912345678" not in str(got) and "13800138000" not in str(got)

    # Every column of every row that could hold a phone: users, orders and what is logged.
    tables = ["users", "orders", "order_events", "audit_log", "idempotency_keys", "messages"]
    rows = _rows(tables)
    mine = [r for t, r in rows if t == "users" and r["id"] == customer.user_id]
    assert mine and mine[0]["phone_masked"] == "138****8000" and mine[0]["phone_enc"]
    order_row = next(r for t, r in rows if t == "orders" and r["id"] == order["id"])
    assert order_row["contact_phone_masked"] == "139****5678"
    leaks = [
        (table, row.get("id"), column)
        for table, row in rows
        for column, value in row.items()
        for digits in ("13912345678", "13800138000")
        if _holds(value, digits)
    ]
    assert not leaks, f"plaintext phone in MySQL: {leaks}"

    # Nor in Redis (actors and offers keep order data there).
    r = redis_sync.from_url(REDIS_URL)
    found, scanned = [], set()
    for key in r.scan_iter(count=1000):
        scanned.add(key.decode())
        kind = r.type(key).decode()
        if kind == "string":
            values = [r.get(key)]
        elif kind == "hash":
            values = [*r.hgetall(key).keys(), *r.hgetall(key).values()]
        elif kind == "stream":
            values = [v for _, entry in r.xrange(key) for kv in entry.items() for v in kv]
        elif kind == "list":
            values = r.lrange(key, 0, -1)
        elif kind == "set":
            values = list(r.smembers(key))
        elif kind == "zset":
            values = r.zrange(key, 0, -1)
        else:
            values = []
        found += [key for v in values if _holds(v, "13912345678") or _holds(v, "13800138000")]
    r.close()
    # The scan went through the order's data: the offer made to the provider.
    assert Keys.for_database(MYSQL_URL).offers(provider.provider_id) in scanned
    assert not found, f"plaintext phone in Redis: {found}"
    await customer.api.ok("POST", f"/api/orders/{order['id']}/cancel", {"reason": "test"})
    await psock.call("provider.offline")
