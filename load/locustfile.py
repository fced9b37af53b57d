"""Locust users for the hub's REST + Socket.IO order flow, for testers who like Locust's web UI.

    pip install '.[locust]'          # or: .venv/bin/pip install locust
    locust -f load/locustfile.py --host http://127.0.0.1:8000
    # admin password for approving providers: HUB_ADMIN_PASSWORD (or var/admin-password)

``ProviderUser``: logs in through the WeChat sandbox, gets approved, goes online over
Socket.IO, sends its location, grabs offers from the grab hall (or accepts direct/auto
offers) and walks each order through depart → arrive → start → complete.
``CustomerUser``: places orders (grab/auto mix) and watches them until they end.

Socket.IO traffic uses a small synchronous Engine.IO v4 client over
``websockets.sync`` (gevent-friendly once Locust has monkey-patched), sharing its packet
codec with load/sio.py; every socket call is reported to Locust as request type ``WS``.
The full simulator with correctness checks is ``python -m load run``.
"""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
import uuid

import orjson

try:
    from locust import HttpUser, between, task
except ImportError as e:  # pragma: no cover - locust is an optional extra
    raise SystemExit(
        "locust is not installed: pip install '.[locust]' (or .venv/bin/pip install locust)"
    ) from e

from websockets.sync.client import connect as ws_connect

from actors.transitions import TERMINAL
from load.city import HAIKOU, City, iso_now
from load.config import default_admin_password
from load.sio import encode_connect, encode_event, parse_packet

CITY = City(*HAIKOU, radius_m=4000)
_ids = itertools.count(int(time.time()) % 100000 * 100)
_admin_token: str | None = None
_admin_lock = threading.Lock()


class SyncSio:
    """Minimal blocking Socket.IO client: connect with auth, call with ack, event callbacks."""

    def __init__(self, base: str, token: str, on_event, fire):
        url = base.replace("http://", "ws://").replace("https://", "wss://").rstrip("/")
        self.ws = ws_connect(
            f"{url}/socket.io/?EIO=4&transport=websocket",
            compression=None,
            open_timeout=20,
            max_size=None,
        )
        self.on_event = on_event
        self.fire = fire
        self.acks: dict[int, list] = {}
        self.ack_ids = itertools.count(1)
        self.lock = threading.Lock()
        raw = self.ws.recv()
        if not raw.startswith("0"):
            raise ConnectionError(f"no Engine.IO open packet: {raw[:40]}")
        self.ws.send(encode_connect({"token": token}).decode())
        while True:
            eio, sio, _nsp, _ack, payload = parse_packet(self.ws.recv())
            if eio == "4" and sio == 0:
                break
            if eio == "4" and sio == 4:
                raise ConnectionError(f"refused: {payload}")
        self.alive = True
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        try:
            for raw in self.ws:
                if raw == "2":
                    self.ws.send("3")
                    continue
                eio, sio, _nsp, ack_id, payload = parse_packet(raw)
                if eio != "4":
                    continue
                if sio == 3:
                    slot = self.acks.get(ack_id)
                    if slot is not None:
                        slot.append(payload[0] if payload else None)
                        slot[0].set()
                elif sio == 2 and payload:
                    self.on_event(payload[0], payload[1] if len(payload) > 1 else None)
        except Exception:
            pass
        self.alive = False

    def call(self, event: str, data, timeout: float = 20.0):
        ack_id = next(self.ack_ids)
        done = threading.Event()
        slot: list = [done]
        self.acks[ack_id] = slot
        t0 = time.perf_counter()
        exc = None
        try:
            self.ws.send(encode_event(event, data, ack_id).decode())
            if not done.wait(timeout):
                raise TimeoutError(f"no ack for {event}")
            result = slot[1]
            if isinstance(result, dict) and result.get("ok") is False:
                exc = RuntimeError((result.get("error") or {}).get("code", "error"))
            return result
        except Exception as e:
            exc = e
            return None
        finally:
            self.acks.pop(ack_id, None)
            self.fire(
                request_type="WS",
                name=event,
                response_time=(time.perf_counter() - t0) * 1000,
                response_length=0,
                exception=exc,
                context={},
            )

    def close(self) -> None:
        self.alive = False
        try:
            self.ws.close()
        except Exception:
            pass


def _json(resp):
    try:
        return orjson.loads(resp.content)
    except Exception:
        return {}


class _Base(HttpUser):
    abstract = True
    role = "customer"

    def on_start(self) -> None:
        self.rng = random.Random()
        self.name = f"locust-{self.role[0]}-{next(_ids)}"
        body = _json(
            self.client.post(
                "/api/auth/wechat-login",
                json={"code": f"sandbox-{self.name}", "role": self.role},
                name="/api/auth/wechat-login",
            )
        )
        self.token = body["token"]
        self.client.headers["Authorization"] = f"Bearer {self.token}"
        self.services = _json(self.client.get("/api/services", name="/api/services"))
        self.inbox: list[tuple[str, dict]] = []
        self.sock: SyncSio | None = None

    def open_socket(self) -> None:
        self.sock = SyncSio(
            self.host, self.token, self._on_event, self.environment.events.request.fire
        )

    def _on_event(self, event: str, data) -> None:
        self.inbox.append((event, data))
        if event == "provider.location" and isinstance(data, dict) and data.get("at"):
            from load.city import parse_iso

            ms = (time.time() - parse_iso(data["at"])) * 1000
            self.environment.events.request.fire(
                request_type="PUSH",
                name="location → watcher",
                response_time=ms,
                response_length=0,
                exception=None,
                context={},
            )

    def on_stop(self) -> None:
        if self.sock is not None:
            self.sock.close()


class ProviderUser(_Base):
    role = "provider"
    wait_time = between(3, 5)  # ≈ the location cadence
    weight = 4

    def on_start(self) -> None:
        super().on_start()
        areas = _json(self.client.get("/api/areas", name="/api/areas"))
        res = _json(
            self.client.post(
                "/api/providers/apply",
                json={
                    "name": "Locust 师傅",
                    "skills": [s["id"] for s in self.services],
                    "certificateNo": f"LOCUST-{uuid.uuid4().hex[:12]}",
                    "certificateType": "other",
                    "serviceAreas": [a["id"] for a in areas] or [1],
                },
                name="/api/providers/apply",
            )
        )
        self.provider_id = res.get("providerId")
        self.client.post(
            f"/api/admin/providers/{self.provider_id}/verify",
            json={"approved": True, "note": "locust"},
            headers={"Authorization": f"Bearer {admin_token(self)}"},
            name="/api/admin/providers/{id}/verify",
        )
        self.x, self.y = CITY.random_point(self.rng)
        self.open_socket()
        lat, lng = CITY.to_latlng(self.x, self.y)
        self.sock.call("provider.online", {"lat": lat, "lng": lng})

    @task
    def tick(self) -> None:
        # move a little, report, then look at what the hall offered meanwhile
        self.x, self.y = CITY.near(self.rng, self.x, self.y, 40)
        lat, lng = CITY.to_latlng(self.x, self.y)
        self.sock.call("location.update", {"lat": lat, "lng": lng, "at": iso_now()})
        taken = {d.get("orderId") for e, d in self.inbox if e == "order.taken"}
        offers = [d for e, d in self.inbox if e == "order.offer" and d["orderId"] not in taken]
        self.inbox.clear()
        for offer in offers:
            if self.rng.random() > 0.5:
                continue
            oid = offer["orderId"]
            if offer.get("dispatchMode", "grab") == "grab":
                ack = self.sock.call("order.grab", {"orderId": oid})
                if not (isinstance(ack, dict) and ack.get("ok")):
                    continue
            else:
                r = self.client.post(
                    f"/api/orders/{oid}/accept", json={}, name="/api/orders/{id}/accept"
                )
                if r.status_code != 200:
                    continue
            for action in ("depart", "arrive", "start", "complete"):
                r = self.client.post(
                    f"/api/orders/{oid}/{action}", json={}, name=f"/api/orders/{{id}}/{action}"
                )
                if r.status_code != 200:
                    break
            break


class CustomerUser(_Base):
    role = "customer"
    wait_time = between(5, 15)
    weight = 1

    def on_start(self) -> None:
        super().on_start()
        self.open_socket()

    @task
    def order(self) -> None:
        x, y = CITY.random_point(self.rng)
        lat, lng = CITY.to_latlng(x, y)
        r = self.client.post(
            "/api/orders",
            json={
                "serviceId": self.rng.choice(self.services)["id"],
                "address": "海口市龙华区某小区",
                "lat": lat,
                "lng": lng,
                "description": "locust",
                "contactName": "压测",
                "contactPhone": "13800138000",
                "urgency": "normal",
                "dispatchMode": self.rng.choice(["grab", "grab", "auto"]),
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
            name="/api/orders",
        )
        if r.status_code != 201:
            return
        oid = _json(r)["id"]
        self.sock.call("order.watch", {"orderId": oid, "afterSeq": 0})
        deadline = time.time() + 60
        while time.time() < deadline:
            done = [
                d
                for e, d in self.inbox
                if e == "order.status" and d.get("orderId") == oid and d.get("status") in TERMINAL
            ]
            if done:
                break
            time.sleep(1)
        self.inbox.clear()


def admin_token(user: HttpUser) -> str:
    global _admin_token
    with _admin_lock:
        if _admin_token is None:
            pw = os.environ.get("HUB_ADMIN_PASSWORD") or default_admin_password()
            r = user.client.post(
                "/api/auth/login",
                json={"username": os.environ.get("HUB_ADMIN_USER", "admin"), "password": pw},
                name="/api/auth/login",
            )
            _admin_token = _json(r).get("token", "")
        return _admin_token
