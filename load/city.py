"""The simulated city: where providers drive, how fast people react, what customers order.

Positions are kept in local metres (x east, y north) around the city centre and turned into
WGS-84 only when sent. Providers drive along a street grid (blocks of ``BLOCK_M``): a trip
to a point goes east-west first, then north-south, at a speed drawn from 20–40 km/h.
Movement is a function of time (no per-tick state), so a location tick costs one lookup.
"""

from __future__ import annotations

import math
import random
import re
import time
from dataclasses import dataclass

HAIKOU = (20.0440, 110.1999)
BLOCK_M = 250.0
M_PER_DEG_LAT = 111_320.0


@dataclass(frozen=True)
class City:
    lat: float = HAIKOU[0]
    lng: float = HAIKOU[1]
    radius_m: float = 4000.0

    def to_latlng(self, x: float, y: float) -> tuple[float, float]:
        lat = self.lat + y / M_PER_DEG_LAT
        lng = self.lng + x / (M_PER_DEG_LAT * math.cos(math.radians(self.lat)))
        return round(lat, 6), round(lng, 6)

    def to_xy(self, lat: float, lng: float) -> tuple[float, float]:
        y = (lat - self.lat) * M_PER_DEG_LAT
        x = (lng - self.lng) * M_PER_DEG_LAT * math.cos(math.radians(self.lat))
        return x, y

    def random_point(
        self, rng: random.Random, radius_m: float | None = None
    ) -> tuple[float, float]:
        """A uniformly random point in the disc, snapped to a street (x or y on the grid)."""
        r = (radius_m or self.radius_m) * math.sqrt(rng.random())
        a = rng.random() * 2 * math.pi
        x, y = r * math.cos(a), r * math.sin(a)
        if rng.random() < 0.5:
            x = round(x / BLOCK_M) * BLOCK_M
        else:
            y = round(y / BLOCK_M) * BLOCK_M
        return x, y

    def near(self, rng: random.Random, x: float, y: float, max_m: float) -> tuple[float, float]:
        """A point within ``max_m`` of (x, y), kept inside the city."""
        for _ in range(20):
            r = max_m * math.sqrt(rng.random())
            a = rng.random() * 2 * math.pi
            nx, ny = x + r * math.cos(a), y + r * math.sin(a)
            if math.hypot(nx, ny) <= self.radius_m:
                return nx, ny
        return x, y


def parse_centre(text: str) -> tuple[float, float]:
    lat, lng = (float(v) for v in text.split(","))
    return lat, lng


class Mover:
    """A vehicle on the street grid; ``position(now)`` is where it is at time ``now``."""

    __slots__ = ("city", "legs", "rng", "shown_speed", "speed", "t0", "x", "y")

    def __init__(self, city: City, rng: random.Random, x: float, y: float, now: float):
        self.city, self.rng = city, rng
        self.x, self.y = x, y  # where the current plan started
        self.t0 = now
        self.speed = 0.0  # m/s in simulated time
        self.shown_speed = 0.0  # m/s as the phone reports it (real-world speed)
        self.legs: list[tuple[float, float, float, float]] = []  # (t_start, t_end, x_end, y_end)

    @staticmethod
    def random_speed(rng: random.Random) -> float:
        return rng.uniform(20.0, 40.0) / 3.6

    def plan(self, now: float, tx: float, ty: float, speed: float, time_scale: float = 1.0):
        """Drive from the current position to (tx, ty) at ``speed`` m/s of real-world
        travel, compressed ``time_scale`` times; returns the arrival time."""
        x, y, _h, _s = self.position(now)
        self.x, self.y, self.t0 = x, y, now
        self.shown_speed = speed
        speed = self.speed = speed * time_scale
        self.legs = []
        t = now
        corner = (tx, y)  # east-west first, unless that corner is outside the city
        if math.hypot(*corner) > self.city.radius_m and math.hypot(x, ty) < math.hypot(*corner):
            corner = (x, ty)
        for nx, ny in (corner, (tx, ty)):
            d = abs(nx - x) + abs(ny - y)
            if d > 0.5:
                t1 = t + d / speed
                self.legs.append((t, t1, nx, ny))
                t, x, y = t1, nx, ny
        return t

    def wander(self, now: float) -> float:
        """Head for a random street corner nearby (idle providers cruise the district)."""
        x, y, _h, _s = self.position(now)
        tx, ty = self.city.near(self.rng, x, y, 1500.0)
        return self.plan(now, tx, ty, self.random_speed(self.rng))

    def arrival(self) -> float:
        return self.legs[-1][1] if self.legs else self.t0

    def position(self, now: float) -> tuple[float, float, float, float]:
        """(x, y, heading degrees, speed m/s) at ``now``."""
        x, y = self.x, self.y
        for t_start, t_end, nx, ny in self.legs:
            if now >= t_end:
                x, y = nx, ny
                continue
            if now <= t_start:
                break
            f = (now - t_start) / (t_end - t_start)
            cx, cy = x + (nx - x) * f, y + (ny - y) * f
            heading = (math.degrees(math.atan2(nx - x, ny - y)) + 360) % 360
            return cx, cy, heading, self.shown_speed
        return x, y, 0.0, 0.0


def human_delay(rng: random.Random, median: float = 2.0, sigma: float = 0.5, lo=0.2, hi=30.0):
    """A reaction time in seconds: log-normal around ``median``."""
    return min(hi, max(lo, rng.lognormvariate(math.log(median), sigma)))


def parse_rate(text: str) -> float:
    """``10/s``, ``600/m``, ``36000/h`` or a bare number (per second)."""
    m = re.fullmatch(r"\s*([\d.]+)\s*(?:/\s*([smh]))?\s*", str(text))
    if not m:
        raise ValueError(f"bad rate {text!r} (try 10/s)")
    per = {"s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]
    return float(m.group(1)) / per


def parse_duration(text: str) -> float:
    """``30s``, ``5m``, ``1h``, ``1m30s`` or a bare number of seconds."""
    text = str(text).strip()
    if re.fullmatch(r"[\d.]+", text):
        return float(text)
    total, pos = 0.0, 0
    for m in re.finditer(r"([\d.]+)\s*([smh])", text):
        if m.start() != pos:
            raise ValueError(f"bad duration {text!r}")
        total += float(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2)]
        pos = m.end()
    if pos != len(text) or not total:
        raise ValueError(f"bad duration {text!r} (try 5m)")
    return total


def parse_mix(
    text: str, names: tuple[str, ...] = ("grab", "auto", "direct"), what: str = "dispatch mode"
) -> dict[str, float]:
    """``grab=60,auto=30,direct=10`` -> normalized weights (keys among ``names``)."""
    out = {}
    for part in text.split(","):
        k, _, v = part.partition("=")
        k = k.strip()
        if k not in names:
            raise ValueError(f"unknown {what} {k!r} (known: {', '.join(names)})")
        out[k] = float(v)
    total = sum(out.values())
    if total <= 0 or min(out.values()) < 0:
        raise ValueError(f"bad {what} mix {text!r}")
    return {k: v / total for k, v in out.items()}


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    r = rng.random()
    acc = 0.0
    for k, w in weights.items():
        acc += w
        if r < acc:
            return k
    return next(reversed(weights))


def iso_now(t: float | None = None) -> str:
    """ISO-8601 UTC with milliseconds, e.g. ``2025-01-01T00:00:00.123Z``."""
    t = time.time() if t is None else t
    s = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))
    return f"{s}.{int((t % 1) * 1000):03d}Z"


def parse_iso(s: str) -> float:
    """Seconds since the epoch from an ISO-8601 time (``Z`` or an offset)."""
    from datetime import datetime

    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        from datetime import UTC

        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


ISSUES = [
    "厨房水龙头一直滴水",
    "卫生间插座跳闸",
    "空调不制冷，需要清洗",
    "客厅灯不亮了",
    "下水道堵了",
    "热水器打不着火",
    "全屋保洁，三室两厅",
]
CHAT_CUSTOMER = ["师傅大概多久到？", "小区门口需要登记一下", "麻烦带上梯子", "好的谢谢"]
CHAT_PROVIDER = ["已出发，大约十五分钟到", "收到，马上到", "好的，我带工具过去", "到楼下了"]
DISTRICTS = ["龙华区", "美兰区", "秀英区", "琼山区"]
