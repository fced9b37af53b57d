"""A thin aiohttp wrapper for the hub's REST API that records latency and errors."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import orjson

from load.metrics import Metrics


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str = "", body: Any = None):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.body = status, code, message, body


class Http:
    """One aiohttp session per worker; ``call()`` raises ApiError on a non-2xx answer."""

    def __init__(self, base: str, metrics: Metrics, limit: int = 200, timeout: float = 30.0):
        self.base = base.rstrip("/")
        self.metrics = metrics
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.limit = limit
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Http:
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.limit, force_close=False),
            json_serialize=lambda o: orjson.dumps(o).decode(),
            timeout=self.timeout,
        )
        return self

    async def __aexit__(self, *exc) -> None:
        if self.session is not None:
            await self.session.close()

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        route: str | None = None,
        headers: dict | None = None,
        expect: tuple[int, ...] = (),
        record: bool = True,
    ) -> Any:
        """Send one request. ``route`` names the endpoint in the metrics (default: path).

        ``expect`` lists error statuses that are part of the scenario (counted as benign).
        """
        hdrs = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        if headers:
            hdrs.update(headers)
        data = orjson.dumps(body) if body is not None else None
        name = f"{method} {route or path}"
        t0 = time.perf_counter()
        try:
            async with self.session.request(
                method, self.base + path, data=data, headers=hdrs
            ) as resp:
                raw = await resp.read()
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, OSError) as e:
            if record:
                self.metrics.error(f"http {type(e).__name__} ({name})")
            raise ApiError(0, "transport", repr(e)) from e
        ms = (time.perf_counter() - t0) * 1000
        try:
            payload = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            payload = {"raw": raw[:200].decode(errors="replace")}
        if record:
            self.metrics.observe("REST call", ms)
            self.metrics.observe(f"REST {name}", ms)
            self.metrics.inc("rest")
        if status >= 400:
            err = (payload or {}).get("error", {}) if isinstance(payload, dict) else {}
            code = err.get("code", "unknown")
            if record:
                self.metrics.error(f"{status} {code} ({name})", benign=status in expect)
            raise ApiError(status, code, err.get("message", ""), payload)
        return payload
