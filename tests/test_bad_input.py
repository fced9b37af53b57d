"""Bad input anywhere it is accepted is a 4xx with the error shape of CONTRACT §2, never a
500, and changes nothing: every POST/PATCH route of the OpenAPI document gets malformed
bodies, wrong types, unknown enums, out-of-range numbers, 10 MB strings and wrong content
types; unknown routes and methods get JSON errors; every Socket.IO event gets garbage."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass

import httpx
import orjson
import pymysql
import pytest
from conftest import MYSQL_URL, Socket, World

from adapters.mysql import MysqlDsn

MISSING_ID = 2**31 + 7  # no such row: a body that happens to be valid meets a 404
BIG = 10 * 1024 * 1024
CODE = re.compile(r"^[a-z][a-z0-9_]*$")
TABLES = [
    "users",
    "providers",
    "services",
    "areas",
    "orders",
    "order_events",
    "messages",
    "payments",
    "reviews",
    "idempotency_keys",
    "audit_log",
]
CHECKSUMMED = ["users", "services", "areas"]  # nothing in the background writes these
# Valid values where a schema alone can't tell (patterns, codes that must not log anyone in).
SAMPLES = {
    "contactPhone": "13800138000",
    "certificateNo": "ABCD1234",
    "code": "sandbox-bad-input",
    "username": "no-such-user",
    "phoneCode": "sandbox-phone-13800138000",
}
GARBAGE = {"a": [{"b": {"c": [None, 1, "x", [[]]]}}]}


@dataclass
class Route:
    method: str
    path: str  # with ids filled in
    role: str
    schema: dict | None  # the request body's object schema, refs resolved

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Probe:
    route: Route
    what: str
    response: httpx.Response
    field: str | None = None  # a 422 must name it


class Sweep:
    """The routes under test, a token per role, and the database as it was before."""

    def __init__(self, base: str, tokens: dict[str, str], routes: list[Route], doc: dict):
        self.base = base
        self.targets: dict[str, int] = {}  # table -> a real row id, for PATCHes
        self.before: dict = {}
        # No keep-alive: after a 500 the server drops the connection, which would fail the
        # next, innocent request on it.
        limits = httpx.Limits(max_keepalive_connections=0)
        self.http = httpx.AsyncClient(base_url=base, timeout=60, limits=limits)
        self.tokens = tokens
        self.routes = routes
        self.doc = doc

    def headers(self, role: str | None, **extra) -> dict:
        out = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return {**out, **extra}

    async def send(self, route: Route, what: str, field: str | None = None, **kw) -> Probe:
        headers = self.headers(route.role, **kw.pop("headers", {}))
        if "json" in kw:
            kw["content"] = json.dumps(kw.pop("json"), ensure_ascii=False).encode()
            headers.setdefault("Content-Type", "application/json")
        r = await self.http.request(route.method, route.path, headers=headers, **kw)
        return Probe(route, what, r, field)


def error_problems(p: Probe, allowed: tuple[int, ...] = ()) -> list[str]:
    """What is wrong with a response to bad input (empty when it is a proper 4xx)."""
    r, where = p.response, f"{p.route.name} [{p.what}] → {p.response.status_code}"
    if not 400 <= r.status_code < 500 or (allowed and r.status_code not in allowed):
        return [f"{where}: {r.text[:300]}"]
    if not r.headers.get("content-type", "").startswith("application/json"):
        return [f"{where}: content-type {r.headers.get('content-type')}"]
    try:
        err = r.json()["error"]
        assert isinstance(err["message"], str) and err["message"]
        assert isinstance(err["code"], str) and CODE.match(err["code"])
    except Exception:
        return [f"{where}: not the error shape: {r.text[:300]}"]
    if r.status_code == 422 and p.field and p.field not in err["message"]:
        return [f"{where}: the 422 does not name {p.field!r}: {err['message']}"]
    return []


def _resolve(schema: dict, doc: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _plain(schema: dict, doc: dict) -> dict:
    """The non-null branch of an `X | None` schema."""
    schema = _resolve(schema, doc)
    for branch in schema.get("anyOf", []):
        if branch.get("type") != "null":
            return _resolve(branch, doc)
    return schema


def sample(schema: dict, doc: dict, name: str = "") -> object:
    """A value the schema accepts."""
    if name in SAMPLES:
        return SAMPLES[name]
    s = _plain(schema, doc)
    if "enum" in s:
        return s["enum"][0]
    kind = s.get("type")
    if kind == "string":
        if s.get("format") == "date-time":
            return "2031-01-01T08:00:00Z"
        return "x" * max(1, s.get("minLength", 1))
    if kind == "integer":
        return max(1, s.get("minimum", 1))
    if kind == "number":
        if "minimum" in s and "maximum" in s:
            return (s["minimum"] + s["maximum"]) / 2
        return 1.0
    if kind == "boolean":
        return True
    if kind == "array":
        if "prefixItems" in s:
            return [sample(item, doc) for item in s["prefixItems"]]
        return [sample(s["items"], doc) for _ in range(max(1, s.get("minItems", 1)))]
    if kind == "object":
        return {k: sample(v, doc, k) for k, v in s.get("properties", {}).items()}
    raise AssertionError(f"no sample for {name}: {s}")


def wrong_values(schema: dict, doc: dict) -> list[tuple[str, object]]:
    """(label, value) pairs of the wrong type, none of which pydantic's lax mode coerces."""
    s = _plain(schema, doc)
    kind = s.get("type")
    out: list[tuple[str, object]] = [("nested garbage", GARBAGE)]
    if kind == "string":
        out += [("list", ["x"]), ("bool", True)]
        if s.get("format") != "date-time":  # a number is a valid unix time there
            out.append(("number", 12345))
        else:
            out.append(("not a time", "yesterday-ish"))
        if s.get("pattern"):
            out.append(("pattern mismatch", "!!"))
    elif kind in ("integer", "number"):
        out += [("string", "abc"), ("list", [1]), ("object", {})]
        if kind == "integer":
            out.append(("fraction", 1.5))
    elif kind == "boolean":
        out += [("string", "maybe"), ("number", 2), ("list", [])]
    elif kind == "array":
        out += [("string", "abc"), ("object", {"a": 1}), ("number", 5)]
        item = _resolve(s.get("items", {}), doc)
        out.append(("bad item", [{"x": 1}] if item.get("type") != "object" else ["x"]))
    return out


def bad_numbers(schema: dict, doc: dict) -> list[tuple[str, object]]:
    s = _plain(schema, doc)
    if s.get("type") == "array":  # lists of ids
        return [(f"item {label}", [v]) for label, v in bad_numbers(s.get("items", {}), doc)]
    if s.get("type") not in ("integer", "number"):
        return []
    out: list[tuple[str, object]] = [("huge", 10**30), ("huge negative", -(10**30))]
    if "minimum" in s:
        out.append(("below minimum", s["minimum"] - 1))
    if "maximum" in s:
        out.append(("above maximum", s["maximum"] + 1))
    return out


def properties(route: Route, doc: dict) -> dict[str, dict]:
    return route.schema.get("properties", {}) if route.schema else {}


def valid_body(route: Route, doc: dict) -> dict:
    return sample(route.schema, doc) if route.schema else {}


def _counts() -> dict:
    dsn = MysqlDsn.parse(MYSQL_URL)
    conn = pymysql.connect(**dsn.connect_kwargs(db_key="database"), autocommit=True)
    try:
        with conn.cursor() as cur:
            out = {}
            for table in TABLES:
                cur.execute(f"SELECT COUNT(*) FROM `{table}`")
                out[table] = cur.fetchone()[0]
            for table in CHECKSUMMED:
                cur.execute(f"CHECKSUM TABLE `{table}`")
                out[f"checksum {table}"] = cur.fetchone()[1]
            return out
    finally:
        conn.close()


@pytest.fixture(scope="module")
async def sweep(hub):
    world = World(hub.url)
    customer = await world.customer()
    provider = await world.provider(approve=True)
    admin = await world.admin()
    tokens = {"customer": customer.token, "provider": provider.token, "admin": admin.token}
    # Real targets for the PATCH-with-null checks, made before the counts are taken.
    target_service = await admin.ok(
        "POST",
        "/api/admin/services",
        {
            "category": "zz-bad-input",
            "name": uuid.uuid4().hex[:8],
            "basePrice": 1,
            "durationMin": 1,
        },
    )
    target_area = next(a for a in await admin.ok("GET", "/api/areas"))
    async with httpx.AsyncClient(base_url=hub.url) as anon:
        doc = (await anon.get("/api/openapi.json")).json()
    routes = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if method not in ("post", "patch"):
                continue
            roles = op.get("x-roles")
            role = next((r for r in roles if r in tokens), None) if roles else None
            assert roles is None or role, f"no token for {method} {path} ({roles})"
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            schema = _resolve(body["schema"], doc) if body else None
            routes.append(
                Route(method.upper(), path.replace("{id}", str(MISSING_ID)), role, schema)
            )
    assert len(routes) >= 15, [r.name for r in routes]
    s = Sweep(hub.url, tokens, routes, doc)
    s.targets = {"services": target_service["id"], "areas": target_area["id"]}
    s.before = _counts()
    yield s
    await s.http.aclose()
    await world.close()


def _report(problems: list[str]) -> None:
    assert not problems, f"{len(problems)} bad answer(s):\n" + "\n".join(problems[:40])


async def test_malformed_bodies(sweep):
    problems = []
    for route in sweep.routes:
        required = bool(route.schema and route.schema.get("required"))
        cases = [
            ("missing body", {}, (422,) if required else (404,)),
            ("empty object", {"json": {}}, (422,) if required else (404,)),
            ("not JSON", {"content": b"\xff{not json", "headers": _json_ct()}, (400,)),
            ("truncated JSON", {"content": b'{"a": ', "headers": _json_ct()}, (400,)),
            ("JSON array", {"json": [1, "x", None]}, (422,)),
            ("JSON string", {"json": "hello"}, (422,)),
            ("JSON null", {"content": b"null", "headers": _json_ct()}, (422,)),
            ("deep nesting", {"content": b"[" * 5000 + b"]" * 5000, "headers": _json_ct()}, ()),
            ("NaN", {"content": b'{"lat": NaN}', "headers": _json_ct()}, (400,)),
            ("nested garbage", {"json": GARBAGE}, (422,) if required else (404,)),
        ]
        for what, kw, allowed in cases:
            problems += error_problems(await sweep.send(route, what, **kw), allowed)
    _report(problems)


def _json_ct() -> dict:
    return {"Content-Type": "application/json"}


async def test_wrong_content_types(sweep):
    problems = []
    for route in sweep.routes:
        body = valid_body(route, sweep.doc)
        form = {k: str(v) for k, v in body.items()} or {"a": "b"}
        probes = [
            await sweep.send(route, "form-encoded", data=form),
            await sweep.send(
                route,
                "text/plain",
                content=orjson.dumps(body),
                headers={"Content-Type": "text/plain"},
            ),
            await sweep.send(
                route,
                "multipart",
                files={"f": ("a.txt", b"hello")},
            ),
        ]
        for p in probes:
            problems += error_problems(p, (415,))
    _report(problems)


async def test_wrong_types_for_each_field(sweep):
    problems = []
    for route in sweep.routes:
        for name, schema in properties(route, sweep.doc).items():
            for label, value in wrong_values(schema, sweep.doc):
                body = {**valid_body(route, sweep.doc), name: value}
                p = await sweep.send(route, f"{name}: {label}", name, json=body)
                problems += error_problems(p, (422,))
            if name in route.schema.get("required", []):
                body = {**valid_body(route, sweep.doc), name: None}
                p = await sweep.send(route, f"{name}: null", name, json=body)
                problems += error_problems(p, (422,))
                body = valid_body(route, sweep.doc)
                body.pop(name)
                p = await sweep.send(route, f"{name}: missing", name, json=body)
                problems += error_problems(p, (422,))
    _report(problems)


async def test_unknown_enum_values(sweep):
    problems, seen = [], 0
    for route in sweep.routes:
        for name, schema in properties(route, sweep.doc).items():
            if "enum" not in _plain(schema, sweep.doc):
                continue
            seen += 1
            for value in ("bogus", "", "CUSTOMER", "admin", 1):
                body = {**valid_body(route, sweep.doc), name: value}
                p = await sweep.send(route, f"{name}={value!r}", name, json=body)
                problems += error_problems(p, (422,))
    assert seen >= 4  # role, certificateType, urgency, dispatchMode
    _report(problems)


async def test_out_of_range_numbers(sweep):
    problems, seen = [], 0
    for route in sweep.routes:
        for name, schema in properties(route, sweep.doc).items():
            for label, value in bad_numbers(schema, sweep.doc):
                seen += 1
                body = {**valid_body(route, sweep.doc), name: value}
                p = await sweep.send(route, f"{name}: {label}", name, json=body)
                problems += error_problems(p, (422,))
    assert seen >= 20
    _report(problems)


async def test_ten_megabyte_strings(sweep):
    problems = []
    big = "x" * BIG
    for route in sweep.routes:
        props = properties(route, sweep.doc)
        strings = [n for n, s in props.items() if _plain(s, sweep.doc).get("type") == "string"]
        name = strings[0] if strings else "blob"
        body = {**valid_body(route, sweep.doc), name: big}
        p = await sweep.send(route, f"10 MB {name}", name, json=body)
        problems += error_problems(p, (413, 422))
    # The same without a Content-Length (chunked): the hub must stop reading, not buffer it.
    route = next(r for r in sweep.routes if r.path == "/api/orders")

    async def chunks():
        yield b'{"address": "'
        for _ in range(BIG // (64 * 1024)):
            yield b"x" * (64 * 1024)
        yield b'"}'

    p = await sweep.send(route, "10 MB chunked", content=chunks(), headers=_json_ct())
    problems += error_problems(p, (413,))
    _report(problems)


async def test_overlong_strings_are_422_naming_the_field(sweep):
    problems = []
    for route in sweep.routes:
        for name, schema in properties(route, sweep.doc).items():
            s = _plain(schema, sweep.doc)
            if s.get("type") == "string" and "maxLength" in s:
                body = {**valid_body(route, sweep.doc), name: "字" * (s["maxLength"] + 1)}
                p = await sweep.send(route, f"{name}: too long", name, json=body)
                problems += error_problems(p, (422,))
    _report(problems)


async def test_explicit_null_in_a_patch_is_not_a_500(sweep):
    """`{"name": null}` on a real row: refused (422) or ignored, never a failed UPDATE."""
    problems = []
    admin = sweep.tokens["admin"]
    for route in sweep.routes:
        if route.method != "PATCH":
            continue
        table = route.path.split("/")[3]
        path = route.path.replace(str(MISSING_ID), str(sweep.targets[table]))
        for name in properties(route, sweep.doc):
            r = await sweep.http.patch(
                path, json={name: None}, headers={"Authorization": f"Bearer {admin}"}
            )
            if r.status_code not in (200, 422):
                problems.append(f"PATCH {path} {{{name!r}: null}} → {r.status_code} {r.text[:200]}")
    _report(problems)


async def test_bad_query_parameters(sweep):
    cases = [
        ("customer", "/api/orders?status=bogus", "status"),
        ("customer", "/api/orders?page=0", "page"),
        ("customer", "/api/orders?page=abc", "page"),
        ("customer", "/api/orders?limit=100000000000000000000000000", "limit"),
        ("customer", "/api/orders?limit=-1", "limit"),
        ("admin", "/api/admin/providers?verification=maybe", "verification"),
        ("customer", f"/api/orders/{MISSING_ID}/messages?afterSeq=-1", "afterSeq"),
    ]
    problems = []
    for role, path, field in cases:
        route = Route("GET", path, role, None)
        problems += error_problems(await sweep.send(route, "query", field), (422,))
    _report(problems)


async def test_unknown_routes_and_wrong_methods(sweep):
    cases = [
        ("GET", "/api/nope", "customer", 404),
        ("POST", "/api/nope", "customer", 404),
        ("GET", "/nope", None, 404),
        ("GET", "/api/orders/abc", "customer", 404),
        ("GET", "/api/orders/-1", "customer", 404),
        ("GET", "/api/orders/0", "customer", 404),
        ("GET", "/api/orders/99999999999999999999999999", "customer", 404),
        ("POST", "/api/orders/99999999999999999999999999/cancel", "customer", 404),
        ("GET", "/api/providers/99999999999999999999999999", None, 404),
        ("POST", "/api/orders/1/fly", "customer", 404),
        ("DELETE", "/api/orders", "customer", 405),
        ("PUT", "/api/services", None, 405),
        ("PATCH", "/api/orders", "customer", 405),
        ("GET", "/api/auth/login", None, 405),
        ("DELETE", "/api/admin/services/1", "admin", 405),
    ]
    problems = []
    for method, path, role, status in cases:
        route = Route(method, path, role, None)
        p = await sweep.send(route, "route", json={})
        problems += error_problems(p, (status,))
    _report(problems)


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
                where = f"{event} {str(data)[:60]!r} → {str(ack)[:200]}"
                if event in IGNORE_DATA:
                    if not (isinstance(ack, dict) and ack.get("ok") is True):
                        problems.append(where)
                    continue
                try:
                    assert ack["ok"] is False
                    assert CODE.match(ack["error"]["code"]) and ack["error"]["message"]
                    assert ack["error"]["code"] != "internal"
                except Exception:
                    problems.append(where)
        for role, sock in socks.items():
            assert sock.sio.connected, f"the {role} socket was dropped"
            assert (await sock.call("heartbeat"))["ok"]
    finally:
        for sock in socks.values():
            await sock.close()
    _report(problems)


async def test_socket_event_with_extra_arguments_is_answered(sweep):
    sock = Socket()
    await sock.connect(sweep.base, sweep.tokens["customer"])
    try:
        ack = await sock.sio.call("heartbeat", ({}, "extra"), timeout=3)
        assert isinstance(ack, dict) and "ok" in ack, ack
        assert sock.sio.connected
    finally:
        await sock.close()


async def test_zz_the_sweep_changed_nothing(sweep):
    """Runs last in this module: no row was added, and no catalog or user row changed."""
    after = _counts()
    changed = {k: (sweep.before[k], after[k]) for k in after if after[k] != sweep.before[k]}
    assert not changed, f"bad input changed the database: {changed}"
