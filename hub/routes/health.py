"""Liveness and readiness: may the hub serve, and can it reach MySQL, Redis and Ray."""

from __future__ import annotations

import asyncio

from hub.errors import ApiError
from hub.router import Call, Router

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
        await hub.db.ping()

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
