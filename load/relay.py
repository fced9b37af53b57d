"""A bare python-socketio relay with the hub's API surface, all in memory.

The baseline for ``python -m load bench``: the same clients drive it with the same load,
and the hub/relay ratios tell what the hub's guarantees (MySQL, Redis, Ray, seq, offers)
cost over plain Socket.IO fan-out. It keeps just enough state for the load clients'
flows: users, providers, orders with a per-order ``seq`` and event log, offers, rooms. No
persistence, no expiry timers, no auth beyond an opaque token. One process, one core.

The state and the order logic are in load/relay_state.py; here are the REST routes and the
Socket.IO events that serve them.
"""

from __future__ import annotations

import os

import orjson
import socketio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actors.transitions import ASSIGNED
from load.city import iso_now
from load.relay_state import SERVICES, RelayState, error_response, json_response


class Relay(RelayState):
    def __init__(self) -> None:
        super().__init__()
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
        return json_response({"status": "ok"})

    async def wechat_login(self, request: Request) -> Response:
        b = orjson.loads(await request.body())
        u, new = self._user("wx:" + b["code"], b.get("role") or "customer")
        return json_response({"token": u["token"], "user": self._pub(u), "isNewUser": new})

    async def staff_login(self, request: Request) -> Response:
        b = orjson.loads(await request.body())
        u, _ = self._user("staff:" + b["username"], "admin")
        return json_response({"token": u["token"], "user": self._pub(u)})

    @staticmethod
    def _pub(u: dict) -> dict:
        return {"id": u["id"], "role": u["role"], "nickname": u["nickname"]}

    async def me(self, request: Request) -> Response:
        u = self._me(request)
        if u is None:
            return error_response(401, "unauthorized")
        return json_response({"user": self._pub(u), "provider": self._provider_of(u)})

    async def services(self, request: Request) -> Response:
        return json_response(SERVICES)

    async def areas(self, request: Request) -> Response:
        return json_response([{"id": 1, "name": "海口", "city": "海口", "active": True}])

    async def apply(self, request: Request) -> Response:
        u = self._me(request)
        if u is None:
            return error_response(401, "unauthorized")
        if u.get("providerId"):
            return error_response(409, "already_applied")
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
        return json_response({"providerId": pid, "verification": "pending"}, 201)

    async def verify(self, request: Request) -> Response:
        p = self.providers.get(int(request.path_params["id"]))
        if p is None:
            return error_response(404, "not_found")
        b = orjson.loads(await request.body())
        p["verification"] = "approved" if b.get("approved") else "rejected"
        return json_response(p)

    async def list_orders(self, request: Request) -> Response:
        u = self._me(request)
        if u is None:
            return error_response(401, "unauthorized")
        pid = u.get("providerId")
        items = [
            o
            for o in self.orders.values()
            if o["customerId"] == u["id"] or (pid and o["providerId"] == pid)
        ][-50:]
        return json_response({"items": items, "total": len(items)})

    async def create_order(self, request: Request) -> Response:
        u = self._me(request)
        if u is None or u["role"] != "customer":
            return error_response(403, "forbidden")
        key = request.headers.get("idempotency-key")
        if key and (u["id"], key) in self.idem:
            return json_response(self.orders[self.idem[(u["id"], key)]], 201)
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
        return json_response(o, 201)

    async def order_action(self, request: Request) -> Response:
        u = self._me(request)
        if u is None:
            return error_response(401, "unauthorized")
        o = self.orders.get(int(request.path_params["id"]))
        action = request.path_params["action"]
        if o is None:
            return error_response(404, "not_found")
        raw = await request.body()
        body = orjson.loads(raw) if raw else {}
        res = await self._act(u, o, action, body)
        if isinstance(res, Response):
            return res
        return json_response(o)

    async def payments(self, request: Request) -> Response:
        return error_response(404, "not_found", "payments are not in the relay")

    async def review(self, request: Request) -> Response:
        return error_response(404, "not_found", "reviews are not in the relay")

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

        async def user_and_order(sid, data) -> tuple[dict, dict | None]:
            """The caller, and the order its event names (None: no such order)."""
            return await user(sid), self.orders.get(data.get("orderId"))

        def not_found() -> dict:
            return {"ok": False, "error": {"code": "not_found", "message": ""}}

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
                if o and o["status"] in ASSIGNED:
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
            u, o = await user_and_order(sid, data)
            if o is None:
                return not_found()
            res = await self._act(u, o, "grab", {})
            if isinstance(res, Response):
                return {"ok": False, "error": orjson.loads(res.body)["error"]}
            return {"ok": True, "order": o}

        @sio.on("order.watch")
        async def watch(sid, data):
            u, o = await user_and_order(sid, data)
            pid = u.get("providerId")
            if o is None or not (o["customerId"] == u["id"] or (pid and o["providerId"] == pid)):
                return not_found()
            await sio.enter_room(sid, f"order:{o['id']}")
            after = data.get("afterSeq") or 0
            return {
                "ok": True,
                "order": o,
                "missed": [e for e in self.events[o["id"]] if e["seq"] > after],
            }

        @sio.on("chat.send")
        async def chat(sid, data):
            u, o = await user_and_order(sid, data)
            if o is None:
                return not_found()
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
            await sio.emit("chat.message", msg, to=self._order_rooms(o))
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
