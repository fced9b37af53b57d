"""Where dispatch finds its candidates: the providers listed for a service near a point, as the
engine's Candidates (their card, last fix, open offers and distance). The locator goes with
the placement (actors/placement.py):

- HostLocator (sharded hosts): each host indexes the providers it holds in H3 cells
  (actors/h3_index.py); a search asks every standing host — this one in process, each other
  one in a Ray call — and merges. A fix costs ~1 µs there against ~44 µs of host CPU for a
  Redis GEOADD, and fixes outnumber searches by far (docs/geo-index.md).
- RedisLocator (dedicated placement: a host per provider, no shared host to ask): one Redis
  GEO set per service, the card and fix time in Redis hashes.

Either way a provider's card is written to Redis on every change (actors/provider.py): it
keeps the provider's dispatch record across restarts.
"""

from __future__ import annotations

import asyncio
import logging
import time

import orjson
from ray.exceptions import RayActorError

from actors import geo
from actors.dispatch.filters import Candidate, Slot
from actors.h3_index import ProviderIndex

log = logging.getLogger("orderhub.candidates")


class HostLocator:
    """Providers indexed where they live; a search fans out to the standing hosts."""

    def __init__(self, host):
        self.host = host
        self.index = ProviderIndex()

    def listed(self, pipe, provider) -> None:
        if provider.listed and provider.lat is not None:
            self.index.place(provider.id, provider.skills, provider.lat, provider.lng)
        else:
            self.index.remove(provider.id)

    moved = listed  # a fix in the tick: the index moves it (no Redis write)

    def nearby(self, service_id, lat, lng, radius_m, count) -> list[tuple]:
        """(provider id, metres, card, last fix) of this host's providers."""
        out = []
        for pid, dist in self.index.nearest(service_id, lat, lng, radius_m, count):
            if (p := self.host.providers.get(pid)) is not None:
                out.append((pid, dist, p.card(), p.fix_at))
        return out

    async def around(self, service_id, lat, lng, radius_m, count) -> list[Candidate]:
        host, args = self.host, (service_id, lat, lng, radius_m, count)
        found = self.nearby(*args)
        others = [n for n in host.placement.standing_hosts() if n != host.name]
        calls = []
        for name in others:
            if (handle := await host.placement.handle_named(name)) is not None:
                calls.append(handle.nearby.remote(*args))
        for name, answer in zip(
            others, await asyncio.gather(*calls, return_exceptions=True), strict=False
        ):
            if isinstance(answer, RayActorError | asyncio.TimeoutError):
                log.warning("%s: %s did not answer a search: %s", host.name, name, answer)
            elif isinstance(answer, BaseException):
                raise answer
            else:
                found.extend(answer)
        found.sort(key=lambda hit: (hit[1], hit[0]))
        found = found[:count]
        held = await _open_offers(host.redis, host.keys, [hit[0] for hit in found])
        pairs = zip(found, held, strict=True)
        return [candidate(pid, d, card, fix, n) for (pid, d, card, fix), n in pairs]


class RedisLocator:
    """Providers in a Redis GEO set per service; cards and fix times in Redis hashes."""

    def __init__(self, redis, keys):
        self.redis, self.keys = redis, keys

    def listed(self, pipe, provider) -> None:
        if pipe is None:
            return  # a host restarting: what it wrote before is still in Redis
        keys = self.keys
        if provider.listed and provider.lat is not None:
            geo.place(pipe, keys, provider.skills, provider.id, provider.lat, provider.lng)
            pipe.hset(keys.fixes(), str(provider.id), provider.fix_at or time.time())
        else:
            geo.remove(pipe, keys, provider.skills, provider.id)

    moved = listed

    async def around(self, service_id, lat, lng, radius_m, count) -> list[Candidate]:
        hits = await geo.nearest(self.redis, self.keys, service_id, lat, lng, radius_m, count)
        if not hits:
            return []
        ids = [str(pid) for pid, _ in hits]
        pipe = self.redis.pipeline(transaction=False)
        pipe.hmget(self.keys.cards(), ids)
        pipe.hmget(self.keys.fixes(), ids)
        cards, fixes = await pipe.execute()
        held = await _open_offers(self.redis, self.keys, [pid for pid, _ in hits])
        out = []
        for (pid, dist), card, fix, n in zip(hits, cards, fixes, held, strict=True):
            if card is not None:  # else the provider left meanwhile
                out.append(candidate(pid, dist, orjson.loads(card), fix, n))
        return out


async def _open_offers(redis, keys, provider_ids: list[int]) -> list[int]:
    """How many offers each provider holds now (one round trip)."""
    if not provider_ids:
        return []
    pipe = redis.pipeline(transaction=False)
    for pid in provider_ids:
        pipe.hlen(keys.offers(pid))
    return await pipe.execute()


def candidate(pid: int, distance_m: float, card: dict, fix, open_offers: int) -> Candidate:
    return Candidate(
        provider_id=pid,
        distance_m=distance_m,
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
