"""The simulator end to end against the in-memory relay (no hub needed): a correct server
gives all-zero client-side checks, and a server that loses pushes or lets two providers win
the same order is caught — the run is then not ok (``python -m load run`` exits 1)."""

from __future__ import annotations

from conftest import serve_asgi

from load.config import RunConfig
from load.relay import Relay
from load.runner import run_load


def serve(relay: Relay):
    return serve_asgi(relay.app())


def small(url: str, tmp_path, **kw) -> RunConfig:
    base = dict(
        hub=url,
        providers=20,
        customers=8,
        rate=2.0,
        duration=8.0,
        cadence=1.0,
        time_scale=600.0,
        reaction=0.3,
        interest=0.6,
        drain=2.0,
        admin_password="x",
        report_dir=str(tmp_path),
        quiet=True,
        mix={"grab": 0.7, "auto": 0.2, "direct": 0.1},
    )
    base.update(kw)
    return RunConfig(**base)


async def test_a_correct_server_passes(tmp_path):
    async with serve(Relay()) as url:
        report = await run_load(small(url, tmp_path, reconnect_at=[4.0]), use_mysql=False)
    assert report["ok"], report["checks"]
    assert set(report["checks"]["counts"].values()) == {0}
    c = report["counters"]
    assert c.get("orders won", 0) >= 3
    assert c.get("reconnects", 0) >= 20
    assert report["summary"]["status change → watcher"]["count"] > 0
    assert report["summary"]["location → watcher"]["count"] > 0
    html = (tmp_path / report["files"]["html"].rsplit("/", 1)[-1]).read_text()
    assert "<svg" in html and "PASS" in html


class LossyRelay(Relay):
    """Drops every third order.status push (the event is still in the log)."""

    n = 0

    async def _record(self, o, action, role, detail):
        self.n += 1
        if self.n % 3 == 0:
            o["seq"] += 1
            ev = {
                "orderId": o["id"],
                "seq": o["seq"],
                "status": o["status"],
                "at": "",
                "by": role,
                "detail": {"action": action, **detail},
            }
            self.events[o["id"]].append({**ev, "type": "status"})
            return
        await super()._record(o, action, role, detail)


class GreedyRelay(Relay):
    """Every grab wins, even of an order someone already took."""

    async def _act(self, u, o, action, body):
        if action == "grab" and o["status"] != "pending":
            o["status"] = "pending"
        return await super()._act(u, o, action, body)


async def test_lost_events_are_caught(tmp_path):
    async with serve(LossyRelay()) as url:
        report = await run_load(small(url, tmp_path), use_mysql=False)
    assert not report["ok"]
    assert report["checks"]["counts"]["events lost or out of seq"] > 0


async def test_double_assignment_is_caught(tmp_path):
    async with serve(GreedyRelay()) as url:
        report = await run_load(
            small(url, tmp_path, interest=1.0, reaction=0.05, mix={"grab": 1.0}), use_mysql=False
        )
    assert not report["ok"]
    assert report["checks"]["counts"]["double assignments"] > 0
