"""What the bad-input tests share: the routes of the OpenAPI document with a token for each,
values a schema accepts or refuses, what a proper refusal looks like (CONTRACT §2: a 4xx with
`{"error": {"code", "message"}}`, never a 5xx nor the `internal` code), and a snapshot of the
database to show that bad input changed nothing."""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from dataclasses import dataclass, field

import httpx
import pymysql
from conftest import MYSQL_URL, World

from adapters.mysql import MysqlDsn

MISSING_ID = 2**31 + 7  # no such row: a body that happens to be valid meets a 404
BIG = 10 * 1024 * 1024
CODE = re.compile(r"^[a-z][a-z0-9_]*$")
CHECKSUMMED = ["users", "services", "areas"]  # nothing in the background writes these
# Valid values where a schema alone can't tell (patterns, codes that must not log anyone in).
SAMPLES = {
    "contactPhone": "13800138000",
    "certificateNo": "ABCD1234",
    "code": "sandbox-bad-input",
    "username": "no-such-user",
    "phoneCode": "sandbox-phone-13800138000",
    "phone": "13800138000",
    "smsCode": "123456",
}
GARBAGE = {"a": [{"b": {"c": [None, 1, "x", [[]]]}}]}
JSON_CT = {"Content-Type": "application/json"}


@dataclass
class Route:
    method: str
    path: str  # with ids filled in
    role: str | None
    schema: dict | None  # the request body's object schema, refs resolved
    wechat: bool = False  # WeChat Pay calls it: refusals are WeChat's {"code": "FAIL", message}

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Probe:
    route: Route
    what: str
    response: httpx.Response
    field: str | None = None  # a 422 must name it


# --- what a proper refusal is --------------------------------------------------------------------


def error_shape_problem(err: object) -> str | None:
    """Why `err` is not a proper error object for bad input (None when it is one)."""
    if not isinstance(err, dict):
        return "no error object"
    code, message = err.get("code"), err.get("message")
    if not isinstance(code, str) or not CODE.match(code):
        return f"bad error code {code!r}"
    if code == "internal":
        return "an internal error"
    if not isinstance(message, str) or not message:
        return "no error message"
    return None


def error_problems(p: Probe, allowed: tuple[int, ...] = ()) -> list[str]:
    """What is wrong with a response to bad input (empty when it is a proper 4xx)."""
    r, where = p.response, f"{p.route.name} [{p.what}] → {p.response.status_code}"
    if p.route.wechat:  # the signature is checked before anything else: any 4xx refuses
        allowed = ()
    if not 400 <= r.status_code < 500 or (allowed and r.status_code not in allowed):
        return [f"{where}: {r.text[:300]}"]
    if not r.headers.get("content-type", "").startswith("application/json"):
        return [f"{where}: content-type {r.headers.get('content-type')}"]
    try:
        body = r.json()
    except ValueError:
        return [f"{where}: not JSON: {r.text[:300]}"]
    if p.route.wechat:
        fail = isinstance(body, dict) and body.get("code") == "FAIL" and body.get("message")
        return [] if fail else [f"{where}: not WeChat's FAIL answer: {r.text[:300]}"]
    err = body.get("error") if isinstance(body, dict) else None
    if why := error_shape_problem(err):
        return [f"{where}: {why}: {r.text[:300]}"]
    if r.status_code == 422 and p.field and p.field not in err["message"]:
        return [f"{where}: the 422 does not name {p.field!r}: {err['message']}"]
    return []


def ack_problem(ack: object, ignores_data: bool = False) -> str | None:
    """Why a Socket.IO ack to bad input is wrong (None when right): a refusal with the error
    shape, or `{"ok": true, ...}` from an event that ignores its data."""
    if not isinstance(ack, dict):
        return "not an object"
    if ignores_data:
        return None if ack.get("ok") is True else "not ok"
    if ack.get("ok") is not False:
        return "not a refusal"
    return error_shape_problem(ack.get("error"))


def report(problems: list[str]) -> None:
    assert not problems, f"{len(problems)} bad answer(s):\n" + "\n".join(problems[:40])


# --- values a schema accepts or refuses ----------------------------------------------------------


def resolve(schema: dict, doc: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def plain(schema: dict, doc: dict) -> dict:
    """The non-null branch of an `X | None` schema."""
    schema = resolve(schema, doc)
    for branch in schema.get("anyOf", []):
        if branch.get("type") != "null":
            return resolve(branch, doc)
    return schema


def sample(schema: dict, doc: dict, name: str = "") -> object:
    """A value the schema accepts."""
    if name in SAMPLES:
        return SAMPLES[name]
    s = plain(schema, doc)
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
    s = plain(schema, doc)
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
        item = resolve(s.get("items", {}), doc)
        out.append(("bad item", [{"x": 1}] if item.get("type") != "object" else ["x"]))
    return out


def bad_numbers(schema: dict, doc: dict) -> list[tuple[str, object]]:
    s = plain(schema, doc)
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


# --- the database, before and after --------------------------------------------------------------


def snapshot() -> dict:
    """Row counts of every table of the test database, and checksums of the quiet ones."""
    dsn = MysqlDsn.parse(MYSQL_URL)
    conn = pymysql.connect(**dsn.connect_kwargs(db_key="database"), autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
                (dsn.database,),
            )
            tables = sorted(row[0] for row in cur.fetchall())
            assert set(CHECKSUMMED) <= set(tables), tables
            out = {}
            for table in tables:
                cur.execute(f"SELECT COUNT(*) FROM `{table}`")
                out[table] = cur.fetchone()[0]
            for table in CHECKSUMMED:
                cur.execute(f"CHECKSUM TABLE `{table}`")
                out[f"checksum {table}"] = cur.fetchone()[1]
            return out
    finally:
        conn.close()


# --- the sweep -----------------------------------------------------------------------------------


@dataclass
class Sweep:
    """The routes under test, a token per role, and the database as it was before the test."""

    base: str
    tokens: dict[str, str]
    routes: list[Route]
    doc: dict
    targets: dict[str, int]  # table -> a real row id, for PATCHes
    http: httpx.AsyncClient
    before: dict = field(default_factory=dict)

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

    def properties(self, route: Route) -> dict[str, dict]:
        return route.schema.get("properties", {}) if route.schema else {}

    def fields(self):
        """(route, field name, field schema) for every field of every body under test."""
        for route in self.routes:
            for name, schema in self.properties(route).items():
                yield route, name, schema

    def valid_body(self, route: Route) -> dict:
        return sample(route.schema, self.doc) if route.schema else {}

    async def field_values(self, values_for) -> tuple[list[str], int]:
        """Send every route its valid body with one field set to each of the (label, value)
        pairs `values_for(route, name, schema)` gives; each answer must be a 422 naming the
        field. Returns the problems and how many bodies were sent."""
        problems, sent = [], 0
        for route, name, schema in self.fields():
            for label, value in values_for(route, name, schema):
                sent += 1
                body = {**self.valid_body(route), name: value}
                p = await self.send(route, f"{name}: {label}", name, json=body)
                problems += error_problems(p, (422,))
        return problems, sent

    def report(self, problems: list[str]) -> None:
        """Every answer was a proper refusal, and the database is as it was."""
        report(problems)
        after = snapshot()
        changed = {k: (self.before.get(k), v) for k, v in after.items() if self.before.get(k) != v}
        assert not changed, f"bad input changed the database: {changed}"


def _routes(doc: dict, tokens: dict[str, str]) -> list[Route]:
    """Every POST and PATCH of the document, with a token that may call it, ids not found."""
    routes = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if method not in ("post", "patch"):
                continue
            roles = op.get("x-roles")
            role = next((r for r in roles if r in tokens), None) if roles else None
            assert roles is None or role, f"no token for {method} {path} ({roles})"
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            schema = resolve(body["schema"], doc) if body else None
            routes.append(
                Route(
                    method.upper(),
                    path.replace("{id}", str(MISSING_ID)),
                    role,
                    schema,
                    bool(op.get("x-wechat-callback")),
                )
            )
    assert len(routes) >= 15, [r.name for r in routes]
    return routes


@contextlib.asynccontextmanager
async def open_sweep(base: str):
    """A sweep against the hub at `base`: its users and PATCH targets are made first, then the
    database is snapshot, so `Sweep.report` sees only what the test itself changed."""
    world = World(base)
    # No keep-alive: after a 500 the server drops the connection, which would fail the next,
    # innocent request on it.
    http = httpx.AsyncClient(
        base_url=base, timeout=60, limits=httpx.Limits(max_keepalive_connections=0)
    )
    users = []
    try:
        users += [await world.customer(), await world.provider(approve=True)]
        customer, provider = users
        admin = await world.admin()
        tokens = {"customer": customer.token, "provider": provider.token, "admin": admin.token}
        service = {"category": "zz-bad-input", "name": uuid.uuid4().hex[:8]}
        target_service = await admin.ok(
            "POST", "/api/admin/services", {**service, "basePrice": 1, "durationMin": 1}
        )
        target_area = (await admin.ok("GET", "/api/areas"))[0]
        coupon = {"name": "bad-input", "kind": "threshold", "amountOff": 1, "stock": 1}
        target_coupon = await admin.ok(
            "POST", "/api/admin/coupons", {**coupon, "validDays": 1}, status=201
        )
        doc = (await http.get("/api/openapi.json")).json()
        sweep = Sweep(
            base,
            tokens,
            _routes(doc, tokens),
            doc,
            {
                "services": target_service["id"],
                "areas": target_area["id"],
                "coupons": target_coupon["id"],
            },
            http,
        )
        sweep.before = snapshot()
        yield sweep
    finally:
        await http.aclose()
        await world.close()
        for user in users:
            await user.api.close()
