"""Staff look at the Ray host actors: which process holds how many entities."""

from __future__ import annotations

from hub.router import Call, Router

router = Router("health")


@router.route("GET", "/api/admin/hosts", roles=("dispatcher", "admin"))
async def hosts(call: Call):
    """The Ray host actors: process id, entities held, start time."""
    return {"placement": call.hub.settings.placement, "items": await call.hub.actors.hosts()}
