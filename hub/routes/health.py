"""Liveness, readiness and the OpenAPI document."""

from __future__ import annotations

import asyncio

from hub.api import Call, Router
from hub.errors import ApiError

router = Router("health")


@router.route("GET", "/api/health")
async def health(call: Call):
    """200 once the hub can serve."""
    return {"status": "ok"}


@router.route("GET", "/api/ready")
async def ready(call: Call):
    """200 only when MySQL, Redis and Ray all answer; else 503 naming which do not."""
    hub = call.hub

    async def mysql():
        await hub.db.fetch_one("SELECT 1 AS one")

    async def redis():
        await hub.redis.ping()

    async def ray():
        if not await hub.actors.ping():
            raise RuntimeError("no answer")

    checks = {}
    for name, probe in (("mysql", mysql), ("redis", redis), ("ray", ray)):
        try:
            await asyncio.wait_for(probe(), 5)
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"unreachable: {type(exc).__name__}"
    down = [name for name, result in checks.items() if result != "ok"]
    if down:
        raise ApiError(f"not reachable: {', '.join(down)}", "not_ready", 503, checks=checks)
    return {"status": "ready", "checks": checks}


@router.route("GET", "/api/admin/hosts", roles=("dispatcher", "admin"))
async def hosts(call: Call):
    """The Ray host actors: process id, entities held, start time."""
    return {"placement": call.hub.settings.placement, "items": await call.hub.actors.hosts()}


@router.route("GET", "/api/openapi.json")
async def openapi(call: Call):
    """This API as an OpenAPI 3.1 document, generated from the endpoint declarations."""
    from hub.app import endpoints
    from hub.openapi import document

    return document(endpoints())
