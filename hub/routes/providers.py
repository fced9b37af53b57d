"""CONTRACT §4: provider onboarding, verification by an admin, and public profiles."""

from __future__ import annotations

import orjson

from adapters.clock import iso
from adapters.mysql import is_duplicate
from hub.audit import audit
from hub.auth import STAFF
from hub.errors import Conflict, Invalid, NotFound
from hub.models import (
    ProviderApplied,
    ProviderApply,
    ProviderListQuery,
    ProviderOut,
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
    known = await db.fetch_all(
        f"SELECT id FROM services WHERE active AND id IN ({','.join(['%s'] * len(skills))})", skills
    )
    if len(known) != len(skills):
        missing = sorted(set(skills) - {r["id"] for r in known})
        raise Invalid(f"skills: unknown service ids {missing}", fields=[{"field": "skills"}])
    known = await db.fetch_all(
        f"SELECT id FROM areas WHERE active AND id IN ({','.join(['%s'] * len(areas))})", areas
    )
    if len(known) != len(areas):
        missing = sorted(set(areas) - {r["id"] for r in known})
        raise Invalid(
            f"serviceAreas: unknown area ids {missing}", fields=[{"field": "serviceAreas"}]
        )
    existing = await db.fetch_one("SELECT * FROM providers WHERE user_id = %s", (call.me.user_id,))
    values = (
        b.name,
        b.certificate_no,
        b.certificate_type,
        orjson.dumps(skills).decode(),
        orjson.dumps(areas).decode(),
    )
    try:
        if existing is None:
            _, pid = await db.execute(
                "INSERT INTO providers (name, certificate_no, certificate_type, skills,"
                " service_areas, user_id) VALUES (%s, %s, %s, %s, %s, %s)",
                (*values, call.me.user_id),
            )
        elif existing["verification"] == "rejected":
            pid = existing["id"]  # a rejected applicant may apply again with new papers
            await db.execute(
                "UPDATE providers SET name = %s, certificate_no = %s, certificate_type = %s,"
                " skills = %s, service_areas = %s, verification = 'pending' WHERE id = %s",
                (*values, pid),
            )
        else:
            raise Conflict("you have already applied", "already_applied", providerId=existing["id"])
    except Exception as exc:
        if is_duplicate(exc):
            raise Conflict(
                "this certificate is registered to another provider", "certificate_in_use"
            ) from None
        raise
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
    await call.hub.db.execute(
        "UPDATE providers SET verification = %s, verification_note = %s, verified_by = %s,"
        " verified_at = UTC_TIMESTAMP(3) WHERE id = %s",
        (verdict, b.note, call.me.user_id, pid),
    )
    row = await _provider(call, pid)
    if verdict == "rejected":
        await call.hub.actors.provider_revoked(pid)
    await audit(call, f"provider.{verdict}", "provider", pid, {"note": b.note})
    return provider_json(row, private=True)


@router.route("GET", "/api/admin/providers", roles=STAFF, query=ProviderListQuery)
async def list_providers(call: Call):
    """Providers for the console, newest first, optionally by verification status."""
    q = call.query
    where, args = ("WHERE verification = %s", [q.verification]) if q.verification else ("", [])
    total = await call.hub.db.fetch_one(f"SELECT COUNT(*) AS n FROM providers {where}", args)
    rows = await call.hub.db.fetch_all(
        f"SELECT * FROM providers {where} ORDER BY id DESC LIMIT %s OFFSET %s",
        [*args, q.limit, (q.page - 1) * q.limit],
    )
    return {"items": [provider_json(r, private=True) for r in rows], "total": total["n"]}


@router.route("GET", "/api/providers/{id:int}", response=ProviderOut)
async def profile(call: Call):
    """A provider's public profile (never a full phone number)."""
    return provider_json(await _provider(call, call.path["id"]))


@router.route("GET", "/api/providers/{id:int}/reviews")
async def reviews(call: Call):
    """Visible reviews of a provider, newest first."""
    await _provider(call, call.path["id"])
    rows = await call.hub.db.fetch_all(
        "SELECT * FROM reviews WHERE provider_id = %s AND visible ORDER BY id DESC LIMIT 50",
        (call.path["id"],),
    )
    return {
        "items": [
            {
                "orderId": r["order_id"],
                "rating": r["rating"],
                "serviceRating": r["service_rating"],
                "qualityRating": r["quality_rating"],
                "speedRating": r["speed_rating"],
                "content": r["content"],
                "tags": orjson.loads(r["tags"]) if r["tags"] else [],
                "at": iso(r["created_at"]),
            }
            for r in rows
        ]
    }


async def _provider(call: Call, pid: int) -> dict:
    row = await call.hub.db.fetch_one("SELECT * FROM providers WHERE id = %s", (pid,))
    if row is None:
        raise NotFound("no such provider")
    return row
