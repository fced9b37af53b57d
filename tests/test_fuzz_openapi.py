"""Schemathesis against `/api/openapi.json` (CONTRACT §2: the document is part of the
contract): every operation, called as every role (customer, provider, admin) and without a
token, with bodies, queries and ids generated from its schemas — no 5xx, and every answer as
documented (a documented status, JSON, the documented schema). Bounded: one example per
operation and role, then a few more while a time budget lasts; seeded, so a run repeats.

It runs against a hub of its own (its own database): valid generated bodies do change things
(areas, policies, services …) that the other tests' hub must not see changed."""

from __future__ import annotations

import asyncio
import time

import httpx
import orjson
import pytest
import schemathesis
from conftest import MYSQL_URL, REDIS_URL, World
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import checks

EXAMPLES = 3  # per operation and role
BUDGET_S = 15.0  # for the extra examples after round one; what gets none is printed
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
async def fuzzed(hub_factory):
    hub = hub_factory(
        MYSQL_URL=MYSQL_URL + "_fuzz",
        REDIS_URL=REDIS_URL.rsplit("/", 1)[0] + "/14",
        HUB_GRABS_PER_MIN=100000,
    )
    world = World(hub.url)
    customer, provider = await world.customer(), await world.provider()
    admin = await world.admin()
    tokens = {"customer": customer.token, "provider": provider.token, "admin": admin.token}
    async with httpx.AsyncClient(base_url=hub.url) as http:
        doc = (await http.get("/api/openapi.json")).json()
    yield hub.url, tokens, doc
    await world.close()


def _without_prefix_items(node):
    """The document with each `prefixItems` (pydantic's tuples, such as a boundary's
    [lat, lng] pairs) as plain `items` of their one type: schemathesis 4 turns `prefixItems`
    into a list under `items` and then refuses its own schema ("Invalid Schema Object")."""
    if isinstance(node, list):
        return [_without_prefix_items(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _without_prefix_items(v) for k, v in node.items() if k != "prefixItems"}
    if "prefixItems" in node:
        kinds = {orjson.dumps(item) for item in node["prefixItems"]}
        out["items"] = node["prefixItems"][0] if len(kinds) == 1 else {}
    return out


def _fuzz(base: str, tokens: dict[str, str | None], doc: dict) -> tuple[list[str], int, list]:
    """Round one: one example for every operation as every role; then more examples each,
    while the budget lasts. Returns the problems, the calls made, and what round two missed."""
    schema = schemathesis.openapi.from_dict(_without_prefix_items(doc))
    operations = [result.ok() for result in schema.get_all_operations()]
    problems: list[str] = []
    skipped: list[str] = []
    calls = 0
    for examples, round_seed in ((1, 1), (EXAMPLES - 1, 2)):
        deadline = time.monotonic() + BUDGET_S  # round two's budget (round one is whole)
        for op in operations:
            for role, token in tokens.items():
                if round_seed > 1 and time.monotonic() > deadline:
                    skipped.append(f"{op.label} as {role}")
                    continue
                calls += _prober(op, base, role, token, problems, examples, round_seed)()
    return problems, calls, skipped


def _titles(exc: BaseException) -> list[str]:
    """The one-line names of the failed checks in a schemathesis failure (group)."""
    if isinstance(exc, BaseExceptionGroup):
        return [t for sub in exc.exceptions for t in _titles(sub)]
    return [getattr(exc, "title", None) or str(exc).strip().split("\n")[0][:160]]


def _prober(op, base, role: str, token: str | None, problems: list, examples: int, at: int):
    """A hypothesis test of `op` as `role`; calling it runs it and returns how many calls."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    made = 0

    @seed(at)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=op.as_strategy())
    def probe(case):
        nonlocal made
        made += 1
        response = case.call(base_url=base, headers=headers, timeout=30)
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # a failed check: kept, not shrunk
            why = "; ".join(_titles(exc))
            problems.append(
                f"{op.label} as {role} → {response.status_code}: {why} | {response.text[:200]}"
            )

    def run() -> int:
        probe()
        return made

    return run


async def test_every_operation_as_every_role_answers_as_documented(fuzzed):
    base, tokens, doc = fuzzed
    roles = {**tokens, "anonymous": None}
    started = time.monotonic()
    problems, calls, skipped = await asyncio.to_thread(_fuzz, base, roles, doc)
    took = time.monotonic() - started
    print(f"\n[fuzz] {calls} calls in {took:.1f} s, {len(problems)} problems,", end=" ")
    print(f"{len(skipped)} operation × role without more examples for time")
    if skipped:
        print("[fuzz] one example only: " + ", ".join(skipped[:20]))
    unique = sorted(set(problems))
    assert not unique, f"{len(unique)} answer(s) not as documented:\n" + "\n".join(unique[:60])
