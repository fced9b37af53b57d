"""CONTRACT §10: why an order went where it went, and the policies staff tune per area and
service. The engine and its rules are in actors/dispatch/; these routes only show and store."""

from __future__ import annotations

from actors.dispatch.plan import state_of
from actors.dispatch.policy import Policy, PolicyError, layers, merged
from adapters.clock import iso
from adapters.dispatch import DispatchStore
from hub.audit import audit
from hub.auth import STAFF
from hub.dispatch_models import DispatchOut, PolicyIn, PolicyList, PolicyOut
from hub.errors import Invalid, NotFound
from hub.router import Call, Router
from hub.routes.catalog import dispatch_changed

router = Router("dispatch")
POLICIES = "/api/admin/dispatch/policies"


def _effective(rows: list[dict], area_id: int, service_id: int, base: dict) -> Policy:
    """The policy in force, merged as the hosts merge it (actors/policies.py)."""
    by_key = {(r["area_id"], r["service_id"]): r["config"] for r in rows}
    try:
        return merged(base, *layers(by_key, area_id, service_id))
    except PolicyError:
        return merged(base)


@router.route("GET", "/api/orders/{id:int}/dispatch", roles=STAFF, response=DispatchOut)
async def order_dispatch(call: Call):
    """Every dispatch decision of an order: candidates with score parts, exclusions with why."""
    hub = call.hub
    row = await hub.orders.load(call.path["id"])
    if row is None:
        raise NotFound("no such order")
    store = DispatchStore(hub.db)
    rows = await store.policies()
    base = {"grab_radius_m": hub.settings.grab_radius_m}
    policy = _effective(rows, row["area_id"] or 0, row["service_id"], base)
    return {
        "orderId": row["id"],
        "dispatchMode": row["dispatch_mode"],
        "state": state_of(row).to_json(),
        "policy": policy.to_json(),
        "items": [
            {
                "seq": d["seq"],
                "stage": d["stage"],
                "at": iso(d["created_at"]),
                "explanation": d["explanation"],
            }
            for d in await store.decisions(row["id"])
        ],
    }


@router.route("GET", POLICIES, roles=STAFF, response=PolicyList)
async def list_policies(call: Call):
    """The defaults and every override row (area 0 / service 0: all)."""
    rows = await DispatchStore(call.hub.db).policies()
    return {
        "defaults": Policy().to_json(),
        "items": [
            {
                "areaId": r["area_id"],
                "serviceId": r["service_id"],
                "config": r["config"],
                "updatedBy": r["updated_by"],
                "updatedAt": iso(r["updated_at"]),
            }
            for r in rows
        ],
    }


@router.route("PUT", POLICIES, roles=("admin",), body=PolicyIn, response=PolicyOut)
async def save_policy(call: Call):
    """Override policy fields for an area, a service or both (an empty config removes the
    row); hosts apply it within seconds."""
    hub, b = call.hub, call.body
    try:
        merged(b.config)
    except PolicyError as exc:
        field = str(exc).split(":", 1)[0]
        raise Invalid(f"config.{exc}", fields=[{"field": f"config.{field}"}]) from None
    store = DispatchStore(hub.db)
    if b.config:
        await store.save_policy(b.area_id, b.service_id, b.config, call.me.user_id)
    else:  # nothing to override: the row goes, the more general ones apply again
        await store.delete_policy(b.area_id, b.service_id)
    await dispatch_changed(hub)
    detail = {"serviceId": b.service_id, "config": b.config}
    await audit(call, "dispatch_policy_saved", "area", b.area_id, detail)
    rows = await store.policies()
    base = {"grab_radius_m": hub.settings.grab_radius_m}
    effective = _effective(rows, b.area_id, b.service_id, base)
    return {
        "areaId": b.area_id,
        "serviceId": b.service_id,
        "config": b.config,
        "effective": effective.to_json(),
    }
