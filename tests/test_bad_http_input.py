"""Bad input over HTTP is a 4xx with the error shape of CONTRACT §2, never a 5xx, and changes
nothing: every POST/PATCH route of the OpenAPI document gets malformed bodies, wrong types,
unknown enums, out-of-range numbers, 10 MB strings and wrong content types; bad query
parameters, unknown routes and wrong methods get JSON errors too."""

from __future__ import annotations

import httpx
import orjson
import pytest
from bad_input import (
    BIG,
    GARBAGE,
    JSON_CT,
    MISSING_ID,
    Probe,
    Route,
    bad_numbers,
    error_problems,
    open_sweep,
    plain,
    wrong_values,
)


@pytest.fixture
async def sweep(hub):
    async with open_sweep(hub.url) as s:
        yield s


async def test_malformed_bodies(sweep):
    problems = []
    for route in sweep.routes:
        required = bool(route.schema and route.schema.get("required"))
        cases = [
            ("missing body", {}, (422,) if required else (404,)),
            ("empty object", {"json": {}}, (422,) if required else (404,)),
            ("not JSON", {"content": b"\xff{not json", "headers": JSON_CT}, (400,)),
            ("truncated JSON", {"content": b'{"a": ', "headers": JSON_CT}, (400,)),
            ("JSON array", {"json": [1, "x", None]}, (422,)),
            ("JSON string", {"json": "hello"}, (422,)),
            ("JSON null", {"content": b"null", "headers": JSON_CT}, (422,)),
            ("deep nesting", {"content": b"[" * 5000 + b"]" * 5000, "headers": JSON_CT}, ()),
            ("NaN", {"content": b'{"lat": NaN}', "headers": JSON_CT}, (400,)),
            ("nested garbage", {"json": GARBAGE}, (422,) if required else (404,)),
        ]
        for what, kw, allowed in cases:
            problems += error_problems(await sweep.send(route, what, **kw), allowed)
    sweep.report(problems)


async def test_wrong_content_types(sweep):
    problems = []
    for route in sweep.routes:
        body = sweep.valid_body(route)
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
    sweep.report(problems)


async def test_wrong_types_for_each_field(sweep):
    def wrong(route, name, schema):
        required = name in route.schema.get("required", [])
        return [*wrong_values(schema, sweep.doc), *([("null", None)] if required else [])]

    problems, _ = await sweep.field_values(wrong)
    for route, name, _schema in sweep.fields():
        if name in route.schema.get("required", []):
            body = sweep.valid_body(route)
            body.pop(name)
            p = await sweep.send(route, f"{name}: missing", name, json=body)
            problems += error_problems(p, (422,))
    sweep.report(problems)


async def test_unknown_enum_values(sweep):
    def unknown(route, name, schema):
        if "enum" not in plain(schema, sweep.doc):
            return []
        return [(f"= {value!r}", value) for value in ("bogus", "", "CUSTOMER", "admin", 1)]

    problems, sent = await sweep.field_values(unknown)
    assert sent >= 4 * 5  # role, certificateType, urgency, dispatchMode
    sweep.report(problems)


async def test_out_of_range_numbers(sweep):
    problems, sent = await sweep.field_values(lambda _r, _n, schema: bad_numbers(schema, sweep.doc))
    assert sent >= 20
    sweep.report(problems)


async def test_ten_megabyte_strings(sweep):
    problems = []
    big = "x" * BIG
    for route in sweep.routes:
        props = sweep.properties(route)
        strings = [n for n, s in props.items() if plain(s, sweep.doc).get("type") == "string"]
        name = strings[0] if strings else "blob"
        body = {**sweep.valid_body(route), name: big}
        p = await sweep.send(route, f"10 MB {name}", name, json=body)
        problems += error_problems(p, (413, 422))
    # The same without a Content-Length (chunked): the hub must stop reading, not buffer it.
    route = next(r for r in sweep.routes if r.path == "/api/orders")

    async def chunks():
        yield b'{"address": "'
        for _ in range(BIG // (64 * 1024)):
            yield b"x" * (64 * 1024)
        yield b'"}'

    p = await sweep.send(route, "10 MB chunked", content=chunks(), headers=JSON_CT)
    problems += error_problems(p, (413,))
    sweep.report(problems)


async def test_overlong_strings_are_422_naming_the_field(sweep):
    def overlong(route, name, schema):
        s = plain(schema, sweep.doc)
        if s.get("type") != "string" or "maxLength" not in s:
            return []
        return [("too long", "字" * (s["maxLength"] + 1))]

    problems, sent = await sweep.field_values(overlong)
    assert sent >= 10
    sweep.report(problems)


async def test_explicit_null_in_a_patch_is_not_a_500(sweep):
    """`{"name": null}` on a real row: refused (422) or ignored, never a failed UPDATE."""
    problems = []
    for route in sweep.routes:
        if route.method != "PATCH":
            continue
        table = route.path.split("/")[3]
        path = route.path.replace(str(MISSING_ID), str(sweep.targets[table]))
        for name in sweep.properties(route):
            p = await sweep.send(
                Route("PATCH", path, "admin", None), f"{name}: null", json={name: None}
            )
            if p.response.status_code != 200:
                problems += error_problems(p, (422,))
    sweep.report(problems)


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
    sweep.report(problems)


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
    sweep.report(problems)


def test_the_check_refuses_5xx_and_the_internal_code():
    """The sweeps above would catch a server error: a 5xx, whatever its body, or an error
    whose code is `internal`, fails the check; a proper 422 passes it."""
    route = Route("POST", "/api/orders", "customer", None)
    internal = {"error": {"code": "internal", "message": "internal error"}}
    for status in (500, 502, 503):
        assert error_problems(Probe(route, "check", httpx.Response(status, json=internal)))
    assert error_problems(Probe(route, "check", httpx.Response(400, json=internal)))
    assert error_problems(Probe(route, "check", httpx.Response(400, text="oops")))
    proper = {"error": {"code": "validation_error", "message": "lat: field required"}}
    answer = httpx.Response(422, json=proper)
    assert error_problems(Probe(route, "check", answer, "lat"), (422,)) == []
    assert error_problems(Probe(route, "check", answer, "lng"), (422,))  # must name the field
