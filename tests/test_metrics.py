"""/metrics (hub/metrics.py, docs/operations.md): after a small lifecycle (login, order, grab,
the service, payment through the sandbox) every family of series has moved, and a second hub
process of the same deployment adds its figures to the same answer."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

import httpx
from conftest import ROOT
from prometheus_client.parser import text_string_to_metric_families
from waiting import until

LAT, LNG = 19.9400, 110.2700  # in 美兰区's box, away from the other tests' providers


@dataclass
class Lifecycle:
    customer: object
    provider: object
    order: dict
    phone: str
    payment_id: int


async def lifecycle(world, sandbox: str) -> Lifecycle:
    """login, order, grab (socket), depart … complete (HTTP), pay at the sandbox's cashier."""
    customer, provider = await world.customer(), await world.provider()
    await world.socket(customer)
    sock = await world.socket(provider)
    assert (await sock.call("provider.online", {"lat": LAT, "lng": LNG}))["ok"]
    phone = f"139{random.randrange(10**8):08d}"
    order = await world.order(customer, lat=LAT, lng=LNG, contactPhone=phone)
    await sock.wait_for("order.offer", orderId=order["id"])
    grabbed = await sock.call("order.grab", {"orderId": order["id"]})
    assert grabbed["ok"], grabbed
    for action in ("depart", "arrive", "start", "complete"):
        order = await provider.api.ok("POST", f"/api/orders/{order['id']}/{action}")
    prepay = await customer.api.ok("POST", "/api/payments", {"orderId": order["id"]}, status=201)
    async with httpx.AsyncClient(base_url=sandbox, timeout=60) as http:
        paid = await http.post("/sandbox/pay/cashier", json=prepay["paymentParams"])
        assert paid.status_code == 200, paid.text

    async def settled():
        got = await customer.api.ok("GET", f"/api/payments/{prepay['paymentId']}")
        return got["status"] == "paid"

    await until(settled, "the payment, paid", timeout=60, interval=0.3)
    assert (await sock.call("provider.offline"))["ok"]
    return Lifecycle(customer, provider, order, phone, prepay["paymentId"])


async def scrape(base: str) -> dict:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        r = await http.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    series: dict[tuple, float] = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            series[key] = series.get(key, 0.0) + s.value
    return series


def total(series: dict, name: str, **labels) -> float:
    """The sum of the samples named `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, lab), v in series.items() if n == name and want <= set(lab))


async def test_series_move_after_a_lifecycle(world, sandbox, hub_factory):
    before = await scrape(world.base)
    done = await lifecycle(world, sandbox)
    after = await until(
        lambda: _moved(world.base, before),
        "every figure of the lifecycle on /metrics",
        timeout=30,
        interval=0.5,
    )

    def grew(name: str, **labels) -> bool:
        return total(after, name, **labels) > total(before, name, **labels)

    assert grew("orderhub_socket_events_in_total", event="order.grab")
    assert grew("orderhub_socket_events_in_total", event="provider.online")
    assert grew("orderhub_socket_ack_seconds_count", event="order.grab")
    assert grew("orderhub_socket_events_out_total", event="order.offer")
    assert grew("orderhub_socket_events_out_total", event="order.status")
    assert grew("orderhub_ray_call_seconds_count", method="order_command", outcome="ok")
    assert grew("orderhub_mysql_query_seconds_count")
    assert grew("orderhub_redis_command_seconds_count")
    assert grew("orderhub_http_requests_total", route="/api/orders", method="POST", status="201")
    assert grew("orderhub_payment_notifications_total", kind="pay", result="accepted")
    assert grew("orderhub_dispatch_outcomes_total", outcome="grab")
    assert total(after, "orderhub_orders", status="completed") >= 1
    assert ("orderhub_open_offers", ()) in after
    assert total(after, "orderhub_sockets", role="customer") >= 1
    assert total(after, "orderhub_sockets", role="staff") >= 0
    assert done.order["status"] == "completed"
    # the Grafana dashboard asks only for series the hub serves
    dashboard = (ROOT / "docs" / "grafana-dashboard.json").read_text()
    names = {n for n, _ in after}
    assert set(re.findall(r"orderhub_[a-z_]+", dashboard)) - names == set()

    # a second hub process of the same deployment: one scrape of either shows both
    second = hub_factory()
    both = await scrape(second.url)
    assert total(both, "orderhub_hub_processes") >= 2
    assert total(both, "orderhub_socket_events_in_total", event="order.grab") >= total(
        after, "orderhub_socket_events_in_total", event="order.grab"
    )
    async with httpx.AsyncClient(base_url=second.url, timeout=30) as http:
        await http.get("/api/health")
    first = await scrape(world.base)  # the first hub's answer holds the second one's request
    assert total(first, "orderhub_http_requests_total", route="/api/health") > total(
        after, "orderhub_http_requests_total", route="/api/health"
    )
    second.stop()


async def _moved(base: str, before: dict) -> dict | None:
    """A scrape once the figures read from the stores (cached 5 s) show the lifecycle."""
    now = await scrape(base)
    moved = [
        ("orderhub_dispatch_outcomes_total", {"outcome": "grab"}),  # MySQL, at scrape
        ("orderhub_host_mysql_seconds_count", {"op": "transaction"}),  # hosts, every 10 s
        ("orderhub_host_redis_seconds_count", {"command": "pipeline"}),
    ]
    if all(total(now, name, **lab) > total(before, name, **lab) for name, lab in moved):
        return now
    return None


def test_metrics_are_for_the_monitoring_only(monkeypatch):
    from hub import metrics

    def scope(client: str, auth: str | None = None) -> dict:
        headers = [(b"authorization", auth.encode())] if auth else []
        return {"client": (client, 50000), "headers": headers}

    open_ = metrics.Observed(None, None, None)
    open_.token = None
    assert open_.allowed(scope("127.0.0.1")) is None
    assert open_.allowed(scope("::1")) is None
    assert open_.allowed(scope("10.1.2.3"))[0] == 403
    guarded = metrics.Observed(None, None, None)
    guarded.token = "s3cret-metrics-token"
    assert guarded.allowed(scope("127.0.0.1"))[0] == 401
    assert guarded.allowed(scope("10.1.2.3", "Bearer wrong"))[0] == 401
    assert guarded.allowed(scope("10.1.2.3", "Bearer s3cret-metrics-token")) is None
