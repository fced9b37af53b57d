"""CONTRACT §8 reviews: the order's customer reviews it once, after completion; the provider's
rating is a damped average; a low review alerts staff; the provider replies once; the public
list hides who reviewed anonymously and never shows a customer id or phone."""

from __future__ import annotations

from conftest import Socket, User, World

ONLINE = {"lat": 20.031, "lng": 110.301}
REVIEW = {"rating": 5, "serviceRating": 5, "qualityRating": 4, "speedRating": 5}


def _error(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["message"], err
    return err


async def online(world: World, provider: User) -> Socket:
    sock = await world.socket(provider)
    assert (await sock.call("provider.online", ONLINE))["ok"]
    return sock


async def completed_order(world: World, customer: User, provider: User, psock: Socket) -> dict:
    """An order of `customer` walked to `completed` by `provider` (online on `psock`)."""
    oid = (await world.order(customer))["id"]
    await psock.wait_for("order.offer", orderId=oid)
    grabbed = await psock.call("order.grab", {"orderId": oid})
    assert grabbed["ok"], grabbed
    for action in ("depart", "arrive", "start", "complete"):
        order = await provider.api.ok("POST", f"/api/orders/{oid}/{action}")
    assert order["status"] == "completed"
    return order


async def test_review_once_after_completion_and_the_damped_rating(world, hub):
    customer, provider = await world.customer(), await world.provider()
    psock = await online(world, provider)
    staff = await world.socket(await world.admin_user())
    pending = await world.order(customer)  # not completed: no review yet
    _error(
        await customer.api.call("POST", f"/api/orders/{pending['id']}/review", REVIEW),
        409,
        "not_completed",
    )
    await customer.api.ok("POST", f"/api/orders/{pending['id']}/cancel", {"reason": "test"})

    order = await completed_order(world, customer, provider, psock)
    path = f"/api/orders/{order['id']}/review"
    stranger, other_provider = await world.customer(), await world.provider()
    _error(await stranger.api.call("POST", path, REVIEW), 404, "not_found")
    _error(await other_provider.api.call("POST", path, REVIEW), 403, "forbidden")
    _error(await (await world.admin()).call("POST", path, REVIEW), 403, "forbidden")

    body = {**REVIEW, "content": "<b>师傅很专业</b>", "tags": ["准时", "专业", "准时"]}
    body["images"] = ["https://img.example.com/a.jpg"]
    review = await customer.api.ok("POST", path, body, status=201)
    assert review["orderId"] == order["id"] and review["providerId"] == provider.provider_id
    assert review["content"] == "<b>师傅很专业</b>"  # stored and returned as given
    assert review["tags"] == ["准时", "专业"] and review["images"] == body["images"]
    assert review["anonymous"] is False and review["customer"] == "微信用户"
    assert review["reply"] is None and review["at"]
    _error(await customer.api.call("POST", path, REVIEW), 409, "already_reviewed")

    # One 5 does not make a 5.0: (5 × 4.5 + 5) / (5 + 1) = 4.58.
    profile = await customer.api.ok("GET", f"/api/providers/{provider.provider_id}")
    assert profile["rating"] == 4.58

    # A low, anonymous review: staff are alerted, the rating is (22.5 + 5 + 1) / 7 = 4.07.
    low = await completed_order(world, customer, provider, psock)
    body = {"rating": 1, "serviceRating": 2, "qualityRating": 1, "speedRating": 3}
    bad = await customer.api.ok(
        "POST",
        f"/api/orders/{low['id']}/review",
        {**body, "anonymous": True, "tags": ["迟到"]},
        status=201,
    )
    alert = await staff.wait_for("console.update", kind="low_review", reviewId=bad["id"])
    assert isinstance(alert.pop("alertId"), int)  # kept on the hub for the consoles
    assert alert == {
        "type": "alert",
        "kind": "low_review",
        "orderId": low["id"],
        "providerId": provider.provider_id,
        "reviewId": bad["id"],
        "rating": 1,
    }
    assert not staff.of("console.update", kind="low_review", reviewId=review["id"])

    page = await customer.api.ok("GET", f"/api/providers/{provider.provider_id}/reviews")
    assert page["total"] == 2 and [i["id"] for i in page["items"]] == [bad["id"], review["id"]]
    assert page["items"][0]["customer"] == "匿名" and page["items"][1]["customer"] == "微信用户"
    for item in page["items"]:
        assert set(item) == {
            "id",
            "rating",
            "serviceRating",
            "qualityRating",
            "speedRating",
            "content",
            "tags",
            "images",
            "reply",
            "repliedAt",
            "at",
            "customer",
        }
    assert page["summary"] == {
        "rating": 4.07,
        "count": 2,
        "average": {"rating": 3.0, "serviceRating": 3.5, "qualityRating": 2.5, "speedRating": 4.0},
        "tags": {"准时": 1, "专业": 1, "迟到": 1},
    }
    second = await customer.api.ok(
        "GET", f"/api/providers/{provider.provider_id}/reviews?page=2&limit=1"
    )
    assert second["total"] == 2 and [i["id"] for i in second["items"]] == [review["id"]]
    r = await customer.api.call("GET", "/api/providers/99999999/reviews")
    _error(r, 404, "not_found")
    await psock.call("provider.offline")


async def test_the_reviewed_provider_replies_once(world):
    customer, provider, other = (
        await world.customer(),
        await world.provider(),
        await world.provider(),
    )
    psock = await online(world, provider)
    order = await completed_order(world, customer, provider, psock)
    review = await customer.api.ok(
        "POST", f"/api/orders/{order['id']}/review", {**REVIEW, "anonymous": True}, status=201
    )
    path = f"/api/reviews/{review['id']}/reply"
    _error(await other.api.call("POST", path, {"content": "谢谢"}), 404, "not_found")
    _error(await customer.api.call("POST", path, {"content": "谢谢"}), 403, "forbidden")
    _error(
        await provider.api.call("POST", "/api/reviews/99999999/reply", {"content": "x"}),
        404,
        "not_found",
    )

    answered = await provider.api.ok("POST", path, {"content": "感谢您的认可！"})
    assert answered["id"] == review["id"] and answered["reply"] == "感谢您的认可！"
    assert answered["repliedAt"] and answered["customer"] == "匿名"
    assert "orderId" not in answered  # the provider does not learn who wrote an anonymous one
    _error(await provider.api.call("POST", path, {"content": "再次感谢"}), 409, "already_replied")

    page = await customer.api.ok("GET", f"/api/providers/{provider.provider_id}/reviews")
    assert page["items"][0]["reply"] == "感谢您的认可！"
    await psock.call("provider.offline")


async def test_review_input_is_validated(world):
    customer = await world.customer()
    order = await world.order(customer)
    path = f"/api/orders/{order['id']}/review"
    for field, value in [
        ("rating", 6),
        ("rating", 0),
        ("serviceRating", "5"),
        ("speedRating", 4.5),
        ("content", "字" * 501),
        ("tags", ["x"] * 11),
        ("tags", ["太长了" * 6]),
        ("images", ["javascript:alert(1)"]),
        ("images", ["https://a.example/x.jpg"] * 10),
        ("anonymous", "yes"),
    ]:
        err = _error(
            await customer.api.call("POST", path, {**REVIEW, field: value}), 422, "validation_error"
        )
        assert field in err["message"], (field, err)
    await customer.api.ok("POST", f"/api/orders/{order['id']}/cancel", {"reason": "test"})
