"""The relay's in-memory state and order logic (load/relay.py serves it): users, providers,
orders with a per-order ``seq`` and event log, offers and the Socket.IO rooms they go to.
It follows the hub's state machine (``FLOW``) and answers refusals the way the hub does."""

from __future__ import annotations

import itertools
import math
import time

import orjson
import socketio
from starlette.responses import Response

from actors.transitions import ASSIGNED, TERMINAL
from load.city import iso_now
from load.order_flow import CLIENT_FLOW

SERVICES = [
    {"id": i + 1, "category": c, "name": n, "description": "", "basePrice": p, "durationMin": d}
    for i, (c, n, p, d) in enumerate(
        [
            ("electric", "插座维修", 5000, 45),
            ("plumbing", "水管疏通", 8000, 60),
            ("appliance", "空调清洗", 12000, 90),
            ("cleaning", "日常保洁", 15000, 120),
        ]
    )
]
# The hub's own client flow (load/order_flow.py), less the two moves no load client makes and
# the relay would only half-do: a dispatcher's assign (it has no console) and a provider
# handing an assigned order back (to pending).
FLOW = {
    (status, action): to
    for (status, action), to in CLIENT_FLOW.items()
    if action != "assign" and not (status in ASSIGNED and to == "pending")
}
RADIUS_M = 5000.0


class _json:  # python-socketio wants dumps/loads returning str
    @staticmethod
    def dumps(obj, **_kw):
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(s, **_kw):
        return orjson.loads(s)


def json_response(data, status=200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json")


def error_response(status: int, code: str, message: str = "") -> Response:
    return json_response({"error": {"code": code, "message": message or code}}, status)


def _dist(lat1, lng1, lat2, lng2) -> float:
    dy = (lat2 - lat1) * 111_320.0
    dx = (lng2 - lng1) * 111_320.0 * math.cos(math.radians(lat1))
    return math.hypot(dx, dy)


class RelayState:
    def __init__(self) -> None:
        self.sio = socketio.AsyncServer(async_mode="asgi", json=_json, cors_allowed_origins="*")
        self.ids = itertools.count(1)
        self.users: dict[str, dict] = {}  # openid/username -> user
        self.by_token: dict[str, dict] = {}
        self.providers: dict[int, dict] = {}  # providerId -> provider
        self.orders: dict[int, dict] = {}
        self.events: dict[int, list[dict]] = {}
        self.idem: dict[tuple, int] = {}
        self.online: dict[int, dict] = {}  # providerId -> {lat, lng, busy}
        self.offers: dict[int, dict[int, dict]] = {}  # providerId -> orderId -> offer
        self.offered: dict[int, set] = {}  # orderId -> providers offered

    # --- order logic --------------------------------------------------------------------------
    async def _act(self, u: dict, o: dict, action: str, body: dict):
        role = u["role"]
        pid = u.get("providerId")
        if action == "grab" and o["status"] != "pending":
            return error_response(409, "already_taken")
        mine = (
            o["customerId"] == u["id"]
            if role == "customer"
            else (
                o["providerId"] == pid
                or (action in ("grab",) and pid in self.offered.get(o["id"], ()))
                or (action in ("accept", "decline") and o.get("offeredProviderId") == pid)
            )
        )
        if not mine and role != "admin":
            return error_response(404, "not_found")
        to = FLOW.get((o["status"], action))
        if to is None:
            if action == "grab":
                return error_response(409, "already_taken")
            return error_response(409, "invalid_transition")
        if action == "grab" and o["dispatchMode"] != "grab":
            return error_response(409, "not_grabbable")
        detail = {}
        if action in ("grab", "accept"):
            o["providerId"] = pid
            o["offeredProviderId"] = None
            if pid in self.online:
                self.online[pid]["busy"] = o["id"]
            detail["providerId"] = pid
        elif action == "quote":
            o["price"]["quoted"] = body.get("amount")
            detail["amount"] = body.get("amount")
        elif action == "decline":
            o["offeredProviderId"] = None
        o["status"] = to
        await self._record(o, action, role, detail)
        if action in ("grab", "accept") or to in TERMINAL:
            await self._withdraw(o, "taken" if to == "accepted" else to)
        if to in TERMINAL and o["providerId"] in self.online:
            self.online[o["providerId"]]["busy"] = None
        if action == "decline" and o["dispatchMode"] == "auto":
            await self._withdraw(o, "declined")
            await self._dispatch(o, exclude={pid})
        return o

    async def _record(self, o: dict, action: str, role: str, detail: dict) -> None:
        o["seq"] += 1
        o["updatedAt"] = iso_now()
        ev = {
            "orderId": o["id"],
            "seq": o["seq"],
            "status": o["status"],
            "at": o["updatedAt"],
            "by": role,
            "detail": {"action": action, **detail},
        }
        self.events[o["id"]].append({**ev, "type": "status"})
        await self.sio.emit("order.status", ev, to=self._order_rooms(o))

    def _order_rooms(self, o: dict) -> list[str]:
        """The order's own room and its customer's and provider's."""
        rooms = [f"order:{o['id']}", f"user:{o['customerId']}"]
        if o["providerId"]:
            rooms.append(f"provider:{o['providerId']}")
        return rooms

    async def _dispatch(self, o: dict, exclude: set | None = None) -> None:
        mode = o["dispatchMode"]
        cands = [
            (pid, _dist(o["lat"], o["lng"], p["lat"], p["lng"]))
            for pid, p in self.online.items()
            if not p["busy"] and (not exclude or pid not in exclude)
        ]
        cands = [(pid, d) for pid, d in cands if d <= RADIUS_M]
        if mode == "direct" and o.get("offeredProviderId"):
            pid = o["offeredProviderId"]
            p = self.online.get(pid)
            d = _dist(o["lat"], o["lng"], p["lat"], p["lng"]) if p else 0.0
            targets = [(pid, d)]
        elif mode == "auto":
            cands.sort(key=lambda c: c[1])
            targets = cands[:1]
            if targets:
                o["offeredProviderId"] = targets[0][0]
        else:
            targets = cands
        offered = self.offered.setdefault(o["id"], set())
        for pid, d in targets:
            offer = {
                "orderId": o["id"],
                "serviceId": o["serviceId"],
                "distanceM": round(d),
                "price": o["price"]["estimated"],
                "address": "龙华区",
                "urgency": o["urgency"],
                "dispatchMode": mode,
                "expiresAt": iso_now(time.time() + 60),
            }
            self.offers.setdefault(pid, {})[o["id"]] = offer
            offered.add(pid)
            await self.sio.emit("order.offer", offer, to=f"provider:{pid}")

    async def _withdraw(self, o: dict, reason: str) -> None:
        targets = self.offered.pop(o["id"], set())
        for pid in targets:
            self.offers.get(pid, {}).pop(o["id"], None)
        if targets:
            await self.sio.emit(
                "order.taken",
                {"orderId": o["id"], "reason": reason},
                to=[f"provider:{p}" for p in targets],
            )
