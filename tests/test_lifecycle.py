"""An order's whole life over real sockets: statuses in seq order, illegal moves refused,
and a watcher that reconnects with afterSeq gets exactly what it missed."""

from __future__ import annotations


async def test_full_lifecycle_with_watcher(world):
    customer = await world.customer()
    provider = await world.provider()
    other = await world.provider()
    psock = await world.socket(provider)
    osock = await world.socket(other)
    for sock in (psock, osock):
        assert (await sock.call("provider.online", {"lat": 20.031, "lng": 110.301}))["ok"]
    order = await world.order(customer)
    oid = order["id"]
    # seq 1 is its creation, seq 2 the grab window opening (CONTRACT §10: a dispatch step)
    assert order["status"] == "pending" and order["seq"] == 2
    assert order["contactPhone"] == "138****8000"

    watcher = await world.socket(customer)
    ack = await watcher.call("order.watch", {"orderId": oid, "afterSeq": 0})
    assert ack["ok"] and [e["seq"] for e in ack["missed"]] == [1, 2]

    offer = await psock.wait_for("order.offer", orderId=oid)
    await osock.wait_for("order.offer", orderId=oid)  # each hears it after a reveal delay
    assert offer["distanceM"] < 1000 and offer["price"] == order["price"]["estimated"]
    grabbed = await psock.call("order.grab", {"orderId": oid})
    assert grabbed["ok"] and grabbed["order"]["providerId"] == provider.provider_id
    lost = await osock.call("order.grab", {"orderId": oid})
    assert lost == {
        "ok": False,
        "error": {"code": "already_taken", "message": lost["error"]["message"]},
    }

    # Illegal moves change nothing.
    r = await provider.api.call("POST", f"/api/orders/{oid}/complete")
    assert r.status_code == 409, r.text
    r = await customer.api.call("POST", f"/api/orders/{oid}/depart")
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = await other.api.call("POST", f"/api/orders/{oid}/depart")
    assert r.status_code == 404
    r = await other.api.call("GET", f"/api/orders/{oid}")
    assert r.status_code == 404
    assert (await customer.api.ok("GET", f"/api/orders/{oid}"))["status"] == "accepted"

    for action, body in [("depart", None), ("arrive", None), ("quote", {"amount": 12000})]:
        await provider.api.ok("POST", f"/api/orders/{oid}/{action}", body)
    r = await provider.api.call("POST", f"/api/orders/{oid}/start")
    assert r.status_code == 409 and r.json()["error"]["code"] == "quote_pending"
    await customer.api.ok("POST", f"/api/orders/{oid}/confirm-quote")
    done = await provider.api.ok("POST", f"/api/orders/{oid}/complete")
    assert done["status"] == "completed" and done["price"]["final"] == 12000

    last = await watcher.wait_for("order.status", orderId=oid, status="completed")
    seqs = [d["seq"] for d in watcher.of("order.status", orderId=oid)]
    assert seqs == list(range(3, last["seq"] + 1)), seqs
    statuses = [d["status"] for d in watcher.of("order.status", orderId=oid)]
    assert statuses == ["accepted", "departed", "arrived", "arrived", "in_progress", "completed"]
    timeline = await customer.api.ok("GET", f"/api/orders/{oid}/timeline")
    assert [i["seq"] for i in timeline["items"]] == list(range(1, last["seq"] + 1))
    # The loser was told the order is gone.
    await osock.wait_for("order.taken", orderId=oid)


async def test_reconnecting_watcher_gets_exactly_what_it_missed(world):
    customer = await world.customer()
    provider = await world.provider()
    psock = await world.socket(provider)
    await psock.call("provider.online", {"lat": 20.031, "lng": 110.301})
    order = await world.order(customer)
    oid = order["id"]
    watcher = await world.socket(customer)
    await watcher.call("order.watch", {"orderId": oid, "afterSeq": 0})
    await psock.wait_for("order.offer", orderId=oid)
    assert (await psock.call("order.grab", {"orderId": oid}))["ok"]
    await provider.api.ok("POST", f"/api/orders/{oid}/depart")
    seen = await watcher.wait_for("order.status", orderId=oid, status="departed")
    await watcher.close()

    # While it is away: a chat message and two moves.
    sent = await psock.call("chat.send", {"orderId": oid, "text": "快到了", "clientMsgId": "m1"})
    again = await psock.call("chat.send", {"orderId": oid, "text": "快到了", "clientMsgId": "m1"})
    assert sent["ok"] and again == sent
    await provider.api.ok("POST", f"/api/orders/{oid}/arrive")
    await provider.api.ok("POST", f"/api/orders/{oid}/start")

    back = await world.socket(customer)
    ack = await back.call("order.watch", {"orderId": oid, "afterSeq": seen["seq"]})
    missed = ack["missed"]
    assert [e["seq"] for e in missed] == list(range(seen["seq"] + 1, ack["order"]["seq"] + 1))
    assert [e["type"] for e in missed] == ["chat", "status", "status"]
    assert missed[0]["text"] == "快到了" and missed[2]["status"] == "in_progress"
    history = await customer.api.ok("GET", f"/api/orders/{oid}/messages?afterSeq=0")
    assert [m["msgId"] for m in history["items"]] == [sent["msgId"]]
