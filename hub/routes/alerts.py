"""Staff alerts kept on the hub (issue #11; adapters/console_alerts.py): the open ones for a
console that opens, and acknowledging one (or all) with a note, for every console at once —
each acknowledgement goes out as `console.update {type: "alert_ack", alertIds, by}` and is
audited."""

from __future__ import annotations

import logging
from typing import Annotated

from pydantic import Field

from adapters import console_alerts
from hub.audit import audit
from hub.auth import STAFF
from hub.errors import NotFound
from hub.models import In
from hub.router import Call, Router

router = Router("alerts")
log = logging.getLogger("orderhub.alerts")


class AckIn(In):
    note: Annotated[str, Field(max_length=500)] = ""


@router.route("GET", "/api/admin/alerts", roles=STAFF)
async def open_alerts(call: Call):
    """The alerts no one has acknowledged yet, newest first (at most 500), and their count."""
    rows, total = await console_alerts.open_alerts(call.hub.db)
    return {"items": [console_alerts.alert_json(r) for r in rows], "total": total}


async def _acked(call: Call, ids: list[int], note: str) -> None:
    if not ids:
        return
    await audit(call, "alert_ack", "console_alert", ids[0] if len(ids) == 1 else None,
                {"alertIds": ids, "note": note})  # fmt: skip
    try:
        await call.hub.sio.emit(
            "console.update",
            {"type": "alert_ack", "kind": "alert_ack", "alertIds": ids, "by": call.me.user_id},
            room="staff",
        )
    except Exception:  # acknowledged already; the other consoles catch up on their next load
        log.exception("alert_ack %s not sent", ids)


@router.route("POST", "/api/admin/alerts/{id:int}/ack", roles=STAFF, body=AckIn)
async def ack_alert(call: Call):
    """Acknowledge one alert (again: no change); the alert as it is now."""
    db, alert_id = call.hub.db, call.path["id"]
    if await console_alerts.get(db, alert_id) is None:
        raise NotFound("no such alert")
    ids = await console_alerts.ack(db, [alert_id], call.me.user_id, call.body.note)
    await _acked(call, ids, call.body.note)
    return console_alerts.alert_json(await console_alerts.get(db, alert_id))


class AckAllIn(AckIn):
    # The newest alert the dispatcher saw: one raised a moment after the click stays open
    # (nobody has read it yet), and a body is required, so a stray POST acknowledges nothing.
    upTo: Annotated[int, Field(ge=1)]


@router.route("POST", "/api/admin/alerts/ack-all", roles=STAFF, body=AckAllIn)
async def ack_all(call: Call):
    """Acknowledge every open alert up to `upTo`; the ids this call acknowledged."""
    db = call.hub.db
    seen = [i for i in await console_alerts.open_ids(db) if i <= call.body.upTo]
    ids = await console_alerts.ack(db, seen, call.me.user_id, call.body.note)
    await _acked(call, ids, call.body.note)
    return {"acked": ids}
