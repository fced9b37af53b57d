"""The providers an order may be offered to, as the dispatch engine's Candidates: a GEO search
of the service's set, then every hit's card, last fix and open offers in one round trip."""

from __future__ import annotations

import orjson

from actors import geo
from actors.dispatch.filters import Candidate, Slot
from actors.env import Env


async def around(
    env: Env, service_id: int, lat: float, lng: float, radius_m: float, count: int
) -> list[Candidate]:
    """Providers within `radius_m` listed for the service, nearest first (at most `count`)."""
    hits = await geo.nearest(env.redis, env.keys, service_id, lat, lng, radius_m, count)
    if not hits:
        return []
    keys, ids = env.keys, [str(pid) for pid, _ in hits]
    pipe = env.redis.pipeline(transaction=False)
    pipe.hmget(keys.cards(), ids)
    pipe.hmget(keys.fixes(), ids)
    for pid in ids:
        pipe.hlen(keys.offers(int(pid)))
    cards, fixes, *open_offers = await pipe.execute()
    out = []
    for (pid, dist), card, fix, held in zip(hits, cards, fixes, open_offers, strict=True):
        if card is None:
            continue  # listed but its card is gone: the provider left meanwhile
        out.append(candidate(pid, dist, orjson.loads(card), fix, held))
    return out


def candidate(pid: int, distance_m: float, card: dict, fix, open_offers: int) -> Candidate:
    return Candidate(
        provider_id=pid,
        distance_m=distance_m,
        lat=0.0,
        lng=0.0,
        online=card["online"],
        verified=card["verified"],
        skills=frozenset(card["skills"]),
        areas=frozenset(card["areas"]),
        capacity=card["capacity"],
        slots=tuple(Slot(*s) for s in card["slots"]),
        fix_at=float(fix) if fix is not None else None,
        cooldown_until=card.get("cooldownUntil", 0) or 0,
        open_offers=open_offers,
        rating=card.get("rating", 4.5),
        accepted=card.get("accepted", 0),
        declined=card.get("declined", 0),
        timed_out=card.get("timedOut", 0),
        idle_since=card.get("idleSince") or None,
    )
