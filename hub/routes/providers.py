"""CONTRACT §4: provider onboarding, verification by an admin, and public profiles.

A provider's reviews are in hub/routes/reviews.py."""

from __future__ import annotations

import orjson

from adapters import catalog, providers
from adapters.clock import iso
from hub.audit import audit
from hub.auth import STAFF
from hub.errors import Conflict, Invalid, NotFound, duplicate_is_conflict
from hub.models import (
    ProviderApplied,
    ProviderApply,
    ProviderListQuery,
    ProviderOut,
    ProviderPositions,
    ProviderVerify,
)
from hub.router import Call, Router

router = Router("providers")


def provider_json(row: dict, private: bool = False) -> dict:
    """The public profile; `private` adds what only the provider and staff see."""
    out = {
        "id": row["id"],
        "name": row["name"],
        "rating": float(row["rating"]),
        "completedOrders": row["completed_orders"],
        "skills": orjson.loads(row["skills"]),
        "verification": row["verification"],
    }
    if private:
        out.update(
            serviceAreas=orjson.loads(row["service_areas"]),
            verificationNote=row["verification_note"],
            certificateType=row["certificate_type"],
            workStatus=row["work_status"],
            maxConcurrent=row["max_concurrent"],
        )
    return out


@router.route(
    "POST",
    "/api/providers/apply",
    roles=("provider",),
    body=ProviderApply,
    response=ProviderApplied,
    status=201,
)
async def apply(call: Call):
    """Apply to work on the platform; an admin verifies the application."""
    b, db = call.body, call.hub.db
    skills, areas = sorted(set(b.skills)), sorted(set(b.service_areas))
    if missing := sorted(set(skills) - await catalog.active_service_ids(db, skills)):
        raise Invalid(f"skills: unknown service ids {missing}", fields=[{"field": "skills"}])
    if missing := sorted(set(areas) - await catalog.active_area_ids(db, areas)):
        raise Invalid(
            f"serviceAreas: unknown area ids {missing}", fields=[{"field": "serviceAreas"}]
        )
    existing = await providers.for_user(db, call.me.user_id)
    if existing is not None and existing["verification"] != "rejected":
        raise Conflict("you have already applied", "already_applied", providerId=existing["id"])
    papers = {
        "name": b.name,
        "certificate_no": b.certificate_no,
        "certificate_type": b.certificate_type,
        "skills": skills,
        "service_areas": areas,
    }
    with duplicate_is_conflict(
        "this certificate is registered to another provider", "certificate_in_use"
    ):
        if existing is None:
            pid = await providers.apply(db, call.me.user_id, papers)
        else:
            pid = existing["id"]  # a rejected applicant may apply again with new papers
            await providers.reapply(db, pid, papers)
    await audit(call, "provider.apply", "provider", pid)
    return {"providerId": pid, "verification": "pending"}


@router.route(
    "POST",
    "/api/admin/providers/{id:int}/verify",
    roles=("admin",),
    body=ProviderVerify,
    response=ProviderOut,
)
async def verify(call: Call):
    """Approve or reject an application, with a note the provider sees."""
    pid, b = call.path["id"], call.body
    verdict = "approved" if b.approved else "rejected"
    await _provider(call, pid)
    await providers.set_verification(call.hub.db, pid, verdict, b.note, call.me.user_id)
    row = await _provider(call, pid)
    if verdict == "rejected":
        await call.hub.actors.provider_revoked(pid)
    await audit(call, f"provider.{verdict}", "provider", pid, {"note": b.note})
    return provider_json(row, private=True)


@router.route("GET", "/api/admin/providers", roles=STAFF, query=ProviderListQuery)
async def list_providers(call: Call):
    """Providers for the console, newest first, optionally by verification status."""
    q = call.query
    rows, total = await providers.page(call.hub.db, q.verification, q.limit, (q.page - 1) * q.limit)
    return {"items": [provider_json(r, private=True) for r in rows], "total": total}


@router.route("GET", "/api/admin/providers/positions", roles=STAFF, response=ProviderPositions)
async def provider_positions(call: Call):
    """Where the online providers are (their last written fix, at most seconds old); live
    changes then come as `console.update` (CONTRACT §11). Each look is audited."""
    await audit(call, "privacy.positions_viewed", "provider", None)  # actors/privacy.py
    return {
        "items": [
            {
                "providerId": r["id"],
                "status": r["work_status"],
                "lat": r["last_lat"],
                "lng": r["last_lng"],
                "at": iso(r["location_at"]),
            }
            for r in await providers.positions(call.hub.db)
        ]
    }


@router.route("GET", "/api/providers/{id:int}", response=ProviderOut)
async def profile(call: Call):
    """A provider's public profile (never a full phone number)."""
    return provider_json(await _provider(call, call.path["id"]))


async def _provider(call: Call, pid: int) -> dict:
    row = await providers.load(call.hub.db, pid)
    if row is None:
        raise NotFound("no such provider")
    return row
