"""A bare python-socketio relay with the hub's API surface, all in memory.

The baseline for ``python -m load bench``: the same clients drive it with the same load,
and the hub/relay ratios tell what the hub's guarantees (MySQL, Redis, Ray, seq, offers)
cost over plain Socket.IO fan-out. It keeps just enough state for the load clients'
flows: users, providers, orders with a per-order ``seq`` and event log, offers, rooms. No
persistence, no expiry timers, no auth beyond an opaque token. One process, one core.
"""

from __future__ import annotations

import itertools
import math
import os
import time

import orjson
import socketio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from load.city import iso_now

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
FLOW = {
    ("pending", "grab"): "accepted",
    ("pending", "accept"): "accepted",
    ("pending", "decline"): "pending",
    ("pending", "cancel"): "cancelled",
    ("accepted", "depart"): "departed",
    ("accepted", "cancel"): "cancelled",
    ("departed", "arrive"): "arrived",
    ("departed", "cancel"): "cancelled",
    ("arrived", "quote"): "arrived",
    ("arrived", "confirm-quote"): "in_progress",
    ("arrived", "start"): "in_progress",
    ("arrived", "cancel"): "cancelled",
    ("in_progress", "complete"): "completed",
}
RADIUS_M = 5000.0


class _json:  # python-socketio wants dumps/loads returning str
    @staticmethod
    def dumps(obj, **_kw):
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(s, **_kw):
        return orjson.loads(s)


def _resp(data, status=200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json")


def _err(status: int, code: str, message: str = "") -> Response:
    return _resp({"error": {"code": code, "message": message or code}}, status)


def _dist(lat1, lng1, lat2, lng2) -> float:
    dy = (lat2 - lat1) * 111_320.0
    dx = (lng2 - lng1) * 111_320.0 * math.cos(math.radians(lat1))
    return math.hypot(dx, dy)


class Relay:
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
        self._wire()

    # --- users ---------------------------------------------------------------------------------
    def _user(self, key: str, role: str) -> tuple[dict, bool]:
        u = self.users.get(key)
        if u is not None:
            return u, False
        uid = next(self.ids)
        u = {
            "id": uid,
            "role": role,
            "nickname": key[-16:],
            "token": f"t{uid}-{os.urandom(6).hex()}",
        }
        self.users[key] = u
        self.by_token[u["token"]] = u
        return u, True

    def _me(self, request: Request) -> dict | None:
        auth = request.headers.get("authorization", "")
        return self.by_token.get(auth.removeprefix("Bearer ").strip())

    def _provider_of(self, user: dict) -> dict | None:
        pid = user.get("providerId")
        return self.providers.get(pid) if pid else None

    # --- REST ----------------------------------------------------------------------------------
    async def health(self, request: Request) -> Response:
        return _resp({"status": "ok"})

    async def wechat_login(self, request: Request) -> Response:
        b = orjson.loads(await request.body())
        u, new = self._user("wx:" + b["code"], b.get("role") or "customer")
        return _resp({"token": u["token"], "user": self._pub(u), "isNewUser": new})

    async def staff_login(self, request: Request) -> Response:
        b = orjson.loads(await request.body())
        u, _ = self._user("staff:" + b["username"], "admin")
        return _resp({"token": u["token"], "user": self._pub(u)})

    @staticmethod
    def _pub(u: dict) -> dict:
        return {"id": u["id"], "role": u["role"], "nickname": u["nickname"]}

    async def me(self, request: Request) -> Response:
        u = self._me(request)
        if u is None:
            return _err(401, "unauthorized")
        return _resp({"user": self._pub(u), "provider": self._provider_of(u)})

    async def services(self, request: Request) -> Response:
        return _resp(SERVICES)

    async def areas(self, request: Request) -> Response:
        return _resp([{"id": 1, "name": "海口", "city": "海口", "active": True}])

    async def apply(self, request: Request) -> Response:
        u = self._me(request)
        if u is None:
            return _err(401, "unauthorized")
        if u.get("providerId"):
            return _err(409, "already_applied")
        b = orjson.loads(await request.body())
        pid = next(self.ids)
        self.providers[pid] = {
            "id": pid,
            "userId": u["id"],
            "name": b.get("name", ""),
            "skills": b.get("skills", []),
            "verification": "pending",
        }
        u["providerId"] = pid
        return _resp({"providerId": pid, "verification": "pending"}, 201)

    async def verify(self, request: Request) -> Response:
        p = self.providers.get(int(request.path_params["id"]))
        if p is None:
            return _err(404, "not_found")
        b = orjson.loads(await request.body())
        p["verification"] = "approved" if b.get("approved") else "rejected"
        return _resp(p)

    async def list_orders(self, request: Request) -> Response:
        u = self._me(request)
        if u is None:
            return _err(401, "unauthorized")
        pid = u.get("providerId")
        items = [
            o
            for o in self.orders.values()
            if o["customerId"] == u["id"] or (pid and o["providerId"] == pid)
        ][-50:]
        return _resp({"items": items, "total": len(items)})

    async def create_order(self, request: Request) -> Response:
        u = self._me(request)
        if u is None or u["role"] != "customer":
            return _err(403, "forbidden")
        key = request.headers.get("idempotency-key")
        if key and (u["id"], key) in self.idem:
            return _resp(self.orders[self.idem[(u["id"], key)]], 201)
        b = orjson.loads(await request.body())
        oid = next(self.ids)
        svc = next((s for s in SERVICES if s["id"] == b["serviceId"]), SERVICES[0])
        o = {
            "id": oid,
            "orderNo": f"R{oid:010d}",
            "status": "pending",
            "paymentStatus": "unpaid",
            "dispatchMode": b["dispatchMode"],
            "urgency": b.get("urgency", "normal"),
            "serviceId": svc["id"],
            "providerId": None,
            "customerId": u["id"],
            "address": b["address"],
            "lat": b["lat"],
            "lng": b["lng"],
            "price": {"estimated": svc["basePrice"], "quoted": None, "final": None},
            "createdAt": iso_now(),
            "updatedAt": iso_now(),
            "seq": 0,
            "offeredProviderId": b.get("providerId"),
        }
        self.orders[oid] = o
        self.events[oid] = []
        if key:
            self.idem[(u["id"], key)] = oid
        await self._record(o, "create", "customer", {})
        await self._dispatch(o)
        return _resp(o, 201)

    async def order_action(self, request: Request) -> Response:
        u = self._me(request)
        if u is None:
            return _err(401, "unauthorized")
        o = self.orders.get(int(request.path_params["id"]))
        action = request.path_params["action"]
        if o is None:
            return _err(404, "not_found")
        raw = await request.body()
        body = orjson.loads(raw) if raw else {}
        res = await self._act(u, o, action, body)
        if isinstance(res, Response):
            return res
        return _resp(o)

    async def payments(self, request: Request) -> Response:
        return _err(404, "not_found", "payments are not in the relay")

    async def review(self, request: Request) -> Response:
        return _err(404, "not_found", "reviews are not in the relay")

    # --- order logic --------------------------------------------------------------------------
    async def _act(self, u: dict, o: dict, action: str, body: dict):
        role = u["role"]
        pid = u.get("providerId")
        if action == "grab" and o["status"] != "pending":
            return _err(409, "already_taken")
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
            return _err(404, "not_found")
        to = FLOW.get((o["status"], action))
        if to is None:
            if action == "grab":
                return _err(409, "already_taken")
            return _err(409, "invalid_transition")
        if action == "grab" and o["dispatchMode"] != "grab":
            return _err(409, "not_grabbable")
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
        if action in ("grab", "accept") or to in ("cancelled", "completed"):
            await self._withdraw(o, "taken" if to == "accepted" else to)
        if to in ("completed", "cancelled") and o["providerId"] in self.online:
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
        await self.sio.emit("order.status", ev, to=self._party_rooms(o))

    def _party_rooms(self, o: dict) -> list[str]:
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

    # --- sockets ------------------------------------------------------------------------------
    def _wire(self) -> None:
        sio = self.sio

        @sio.event
        async def connect(sid, environ, auth):
            u = self.by_token.get((auth or {}).get("token", ""))
            if u is None:
                raise socketio.exceptions.ConnectionRefusedError({"code": "unauthorized"})
            await sio.save_session(sid, {"user": u})
            await sio.enter_room(sid, f"user:{u['id']}")
            if u.get("providerId"):
                await sio.enter_room(sid, f"provider:{u['providerId']}")

        async def user(sid) -> dict:
            return (await sio.get_session(sid))["user"]

        @sio.on("heartbeat")
        async def heartbeat(sid, data=None):
            return {"ok": True, "serverTime": iso_now()}

        @sio.on("provider.online")
        async def online(sid, data):
            u = await user(sid)
            pid = u.get("providerId")
            busy = self.online.get(pid, {}).get("busy")
            self.online[pid] = {"lat": data["lat"], "lng": data["lng"], "busy": busy}
            return {"ok": True}

        @sio.on("provider.offline")
        async def offline(sid, data=None):
            u = await user(sid)
            self.online.pop(u.get("providerId"), None)
            return {"ok": True}

        @sio.on("location.update")
        async def location(sid, data):
            u = await user(sid)
            pid = u.get("providerId")
            p = self.online.get(pid)
            if p is None:
                return {"ok": False, "error": {"code": "not_online", "message": "go online"}}
            p["lat"], p["lng"] = data["lat"], data["lng"]
            oid = p.get("busy")
            if oid:
                o = self.orders.get(oid)
                if o and o["status"] in ("accepted", "departed", "arrived", "in_progress"):
                    await sio.emit(
                        "provider.location",
                        {
                            "orderId": oid,
                            "providerId": pid,
                            "lat": data["lat"],
                            "lng": data["lng"],
                            "at": data.get("at"),
                        },
                        to=f"order:{oid}",
                        skip_sid=sid,
                    )
            return {"ok": True}

        @sio.on("order.grab")
        async def grab(sid, data):
            u = await user(sid)
            o = self.orders.get(data.get("orderId"))
            if o is None:
                return {"ok": False, "error": {"code": "not_found", "message": ""}}
            res = await self._act(u, o, "grab", {})
            if isinstance(res, Response):
                return {"ok": False, "error": orjson.loads(res.body)["error"]}
            return {"ok": True, "order": o}

        @sio.on("order.watch")
        async def watch(sid, data):
            u = await user(sid)
            o = self.orders.get(data.get("orderId"))
            pid = u.get("providerId")
            if o is None or not (o["customerId"] == u["id"] or (pid and o["providerId"] == pid)):
                return {"ok": False, "error": {"code": "not_found", "message": ""}}
            await sio.enter_room(sid, f"order:{o['id']}")
            after = data.get("afterSeq") or 0
            return {
                "ok": True,
                "order": o,
                "missed": [e for e in self.events[o["id"]] if e["seq"] > after],
            }

        @sio.on("chat.send")
        async def chat(sid, data):
            u = await user(sid)
            o = self.orders.get(data.get("orderId"))
            if o is None:
                return {"ok": False, "error": {"code": "not_found", "message": ""}}
            o["seq"] += 1
            msg = {
                "orderId": o["id"],
                "msgId": next(self.ids),
                "seq": o["seq"],
                "from": f"{u['role']}:{u['id']}",
                "text": data.get("text", ""),
                "at": iso_now(),
            }
            self.events[o["id"]].append({**msg, "type": "chat"})
            await sio.emit("chat.message", msg, to=self._party_rooms(o))
            return {"ok": True, "msgId": msg["msgId"], "seq": msg["seq"]}

        @sio.on("hall.snapshot")
        async def hall(sid, data=None):
            u = await user(sid)
            return {"ok": True, "offers": list(self.offers.get(u.get("providerId"), {}).values())}

    def app(self):
        routes = [
            Route("/api/health", self.health),
            Route("/api/auth/wechat-login", self.wechat_login, methods=["POST"]),
            Route("/api/auth/login", self.staff_login, methods=["POST"]),
            Route("/api/me", self.me),
            Route("/api/services", self.services),
            Route("/api/areas", self.areas),
            Route("/api/providers/apply", self.apply, methods=["POST"]),
            Route("/api/admin/providers/{id:int}/verify", self.verify, methods=["POST"]),
            Route("/api/orders", self.list_orders, methods=["GET"]),
            Route("/api/orders", self.create_order, methods=["POST"]),
            Route("/api/orders/{id:int}/review", self.review, methods=["POST"]),
            Route("/api/orders/{id:int}/{action}", self.order_action, methods=["POST"]),
            Route("/api/payments", self.payments, methods=["POST"]),
        ]
        return socketio.ASGIApp(self.sio, other_asgi_app=Starlette(routes=routes))


def serve(host: str = "127.0.0.1", port: int = 8099) -> None:
    import uvicorn

    uvicorn.run(Relay().app(), host=host, port=port, log_level="warning", access_log=False)
