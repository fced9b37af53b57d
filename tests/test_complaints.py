"""CONTRACT §8 complaints: the order's customer or provider raises one, staff are alerted and
move it open → handling → resolved | rejected with notes; both parties see the whole history;
anyone else gets a 404; creation is rate limited per user."""

from __future__ import annotations

from test_reviews import _error, completed_order, online

TEXT = '师傅把地板划了 <script>alert("x")</script>'


async def test_complaint_work_order_and_its_history(world):
    customer, provider = await world.customer(), await world.provider()
    stranger, other_provider = await world.customer(), await world.provider()
    admin_user = await world.admin_user()
    staff = await world.socket(admin_user)
    psock = await online(world, provider)
    order = await completed_order(world, customer, provider, psock)
    path = f"/api/orders/{order['id']}/complaints"
    body = {"kind": "damage", "text": TEXT, "images": ["https://img.example.com/floor.jpg"]}

    for outsider in (stranger, other_provider):
        _error(await outsider.api.call("POST", path, body), 404, "not_found")
        _error(await outsider.api.call("GET", path), 404, "not_found")
    _error(await (await world.admin()).call("POST", path, body), 403, "forbidden")

    c = await customer.api.ok("POST", path, body, status=201)
    assert c["orderId"] == order["id"] and c["kind"] == "damage" and c["status"] == "open"
    assert c["text"] == TEXT and c["images"] == body["images"] and c["raisedBy"] == "customer"
    assert [(h["status"], h["by"], h["byUserId"]) for h in c["history"]] == [
        ("open", "customer", customer.user_id)
    ]
    alert = await staff.wait_for("console.update", kind="complaint", complaintId=c["id"])
    assert isinstance(alert.pop("alertId"), int)  # kept on the hub for the consoles
    assert alert == {
        "type": "alert",
        "kind": "complaint",
        "complaintId": c["id"],
        "orderId": order["id"],
        "kindOfComplaint": "damage",
    }
    theirs = await provider.api.ok(
        "POST", path, {"kind": "price", "text": "客户拒付材料费"}, status=201
    )
    assert theirs["raisedBy"] == "provider" and theirs["images"] == []

    one = f"/api/complaints/{c['id']}"
    for outsider in (stranger, other_provider):
        _error(await outsider.api.call("GET", one), 404, "not_found")
    _error(await customer.api.call("GET", "/api/complaints/99999999"), 404, "not_found")

    # Staff move it, each step with a note; illegal moves change nothing.
    admin = await world.admin()
    move = f"/api/admin/complaints/{c['id']}/status"
    _error(
        await customer.api.call("POST", move, {"status": "handling", "note": "x"}), 403, "forbidden"
    )
    for status in ("resolved", "rejected", "open"):
        r = await admin.call("POST", move, {"status": status, "note": "跳步"})
        _error(r, 409, "invalid_transition")
    await admin.ok("POST", move, {"status": "handling", "note": "已联系师傅"})
    _error(
        await admin.call("POST", move, {"status": "handling", "note": "again"}),
        409,
        "invalid_transition",
    )
    done = await admin.ok("POST", move, {"status": "resolved", "note": "赔偿 200 元"})
    assert done["status"] == "resolved"
    _error(
        await admin.call("POST", move, {"status": "rejected", "note": "x"}),
        409,
        "invalid_transition",
    )
    _error(
        await admin.call(
            "POST", "/api/admin/complaints/99999999/status", {"status": "handling", "note": "x"}
        ),
        404,
        "not_found",
    )

    steps = [("open", None, "customer", ""), ("handling", "open", "admin", "已联系师傅")]
    steps.append(("resolved", "handling", "admin", "赔偿 200 元"))
    for party in (customer, provider):
        seen = await party.api.ok("GET", one)
        got = [(h["status"], h["fromStatus"], h["by"], h["note"]) for h in seen["history"]]
        assert got == steps and all(h["at"] for h in seen["history"])
        listed = await party.api.ok("GET", path)
        assert [x["id"] for x in listed["items"]] == [c["id"], theirs["id"]]
        assert listed["items"][0]["history"] == seen["history"]
    assert (await admin.ok("GET", one))["status"] == "resolved"

    resolved = await admin.ok("GET", "/api/admin/complaints?status=resolved&limit=100")
    assert c["id"] in [x["id"] for x in resolved["items"]] and resolved["total"] >= 1
    still_open = await admin.ok("GET", "/api/admin/complaints?status=open&limit=100")
    assert theirs["id"] in [x["id"] for x in still_open["items"]]
    assert c["id"] not in [x["id"] for x in still_open["items"]]
    _error(await customer.api.call("GET", "/api/admin/complaints"), 403, "forbidden")
    _error(await admin.call("GET", "/api/admin/complaints?status=bogus"), 422, "validation_error")
    await psock.call("provider.offline")


async def test_complaints_are_rate_limited_per_user(world):
    customer = await world.customer()
    order = await world.order(customer)
    path = f"/api/orders/{order['id']}/complaints"
    answers = [
        await customer.api.call("POST", path, {"kind": "other", "text": f"第 {i} 次"})
        for i in range(11)
    ]
    statuses = [r.status_code for r in answers]
    assert set(statuses) == {201, 429}, statuses
    err = _error(next(r for r in answers if r.status_code == 429), 429, "rate_limited")
    assert err["retryAfter"] > 0
    await customer.api.ok("POST", f"/api/orders/{order['id']}/cancel", {"reason": "test"})
