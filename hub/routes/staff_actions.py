"""Staff interventions on a provider from the console (issue #11): force offline.

A forced provider leaves dispatch at once (the provider's actor goes offline, as when it
falls silent); orders it is on stay its own, and staff get the `provider_lost` alert for them
(why: `staff`). The provider's app is told with `provider.forced_offline {reason}` in its
room. Audited.
"""

from __future__ import annotations

import logging
from typing import Annotated

from pydantic import Field

from adapters import providers
from hub.audit import audit
from hub.auth import STAFF
from hub.errors import NotFound
from hub.models import In
from hub.router import Call, Router

router = Router("providers")
log = logging.getLogger("orderhub.staff")


class ForceOfflineIn(In):
    reason: Annotated[str, Field(min_length=1, max_length=200)]


@router.route("POST", "/api/admin/providers/{id:int}/offline", roles=STAFF, body=ForceOfflineIn)
async def force_offline(call: Call):
    """Take a provider offline now, with a reason the provider sees."""
    hub, pid, reason = call.hub, call.path["id"], call.body.reason
    if await providers.load(hub.db, pid) is None:
        raise NotFound("no such provider")
    await hub.actors.provider(pid, "go_offline", "staff")
    await audit(call, "provider.forced_offline", "provider", pid, {"reason": reason})
    try:
        await hub.sio.emit(
            "provider.forced_offline", {"providerId": pid, "reason": reason}, room=f"provider:{pid}"
        )
    except Exception:  # offline already; the app sees it on its next status call
        log.exception("provider.forced_offline not sent to %s", pid)
    row = await providers.load(hub.db, pid)
    return {"providerId": pid, "status": row["work_status"]}
