"""Reviews in MySQL: a customer's one review of a completed order, the provider's one reply,
the public list and its summary, and the provider's damped rating.

The rating is a Bayesian average: ``(PRIOR_WEIGHT * PRIOR_MEAN + sum of ratings) /
(PRIOR_WEIGHT + number of reviews)`` over the provider's visible reviews, so that one review
cannot make a 5.0 (nor a 1.0). It is recomputed from the reviews table, never nudged, in the
transaction that writes the review.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import orjson

from adapters.clock import utcnow
from adapters.mysql import Database

PRIOR_MEAN = Decimal("4.5")
PRIOR_WEIGHT = 5


def damped_rating(count: int, total: int) -> Decimal:
    """The provider rating for `count` reviews whose ratings add up to `total`."""
    value = (PRIOR_WEIGHT * PRIOR_MEAN + total) / (PRIOR_WEIGHT + count)
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


_SELECT = "SELECT r.*, u.nickname FROM reviews r JOIN users u ON u.id = r.customer_id"


async def load(db: Database, review_id: int) -> dict | None:
    return await db.fetch_one(f"{_SELECT} WHERE r.id = %s", (review_id,))


async def add(db: Database, order: dict, review: dict) -> tuple[int, Decimal]:
    """Insert the customer's review of a completed `order` row and store the provider's new
    damped rating, in one transaction; returns (review id, rating). `review` holds the
    review's own columns: the four ratings, content, tags, images and anonymous. A second
    review of the order raises a duplicate-key error.

    The provider row is locked first, so two reviews of one provider are counted one after
    the other; the count is a locking read, which sees every committed review."""
    provider_id = order["provider_id"]
    cols = {
        **review,
        "tags": orjson.dumps(review["tags"]).decode(),
        "images": orjson.dumps(review["images"]).decode(),
        "order_id": order["id"],
        "customer_id": order["customer_id"],
        "provider_id": provider_id,
        "created_at": utcnow(),
    }
    async with db.transaction() as cur:
        await cur.execute("SELECT id FROM providers WHERE id = %s FOR UPDATE", (provider_id,))
        await cur.execute(
            f"INSERT INTO reviews ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})",
            tuple(cols.values()),
        )
        review_id = cur.lastrowid
        await cur.execute(
            "SELECT COUNT(*) AS n, COALESCE(SUM(rating), 0) AS total FROM reviews"
            " WHERE provider_id = %s AND visible LOCK IN SHARE MODE",
            (provider_id,),
        )
        counted = await cur.fetchone()
        rating = damped_rating(counted["n"], int(counted["total"]))
        await cur.execute(
            "UPDATE providers SET rating = %s, rating_count = %s WHERE id = %s",
            (rating, counted["n"], provider_id),
        )
    return review_id, rating


async def reply(db: Database, review_id: int, content: str) -> bool:
    """The provider's one reply; False when the review has one already."""
    changed, _ = await db.execute(
        "UPDATE reviews SET reply = %s, replied_at = %s WHERE id = %s AND reply IS NULL",
        (content, utcnow(), review_id),
    )
    return changed == 1


async def page(db: Database, provider_id: int, limit: int, offset: int) -> tuple[list[dict], int]:
    """A provider's visible reviews, newest first, and how many there are."""
    total = await db.fetch_one(
        "SELECT COUNT(*) AS n FROM reviews WHERE provider_id = %s AND visible", (provider_id,)
    )
    rows = await db.fetch_all(
        f"{_SELECT} WHERE r.provider_id = %s AND r.visible ORDER BY r.id DESC LIMIT %s OFFSET %s",
        (provider_id, limit, offset),
    )
    return rows, total["n"]


async def summary(db: Database, provider_id: int, top_tags: int = 20) -> dict:
    """Count, average of each dimension (None without reviews) and the most used tags."""
    avg = await db.fetch_one(
        "SELECT COUNT(*) AS n, AVG(rating) AS rating, AVG(service_rating) AS service,"
        " AVG(quality_rating) AS quality, AVG(speed_rating) AS speed"
        " FROM reviews WHERE provider_id = %s AND visible",
        (provider_id,),
    )
    tags = await db.fetch_all(
        "SELECT t.tag, COUNT(*) AS n FROM reviews r, JSON_TABLE(r.tags, '$[*]'"
        " COLUMNS (tag VARCHAR(64) PATH '$')) AS t"
        " WHERE r.provider_id = %s AND r.visible AND t.tag IS NOT NULL"
        " GROUP BY t.tag ORDER BY n DESC, t.tag LIMIT %s",
        (provider_id, top_tags),
    )

    def mean(value) -> float | None:
        return None if value is None else round(float(value), 2)

    return {
        "count": avg["n"],
        "average": {
            "rating": mean(avg["rating"]),
            "serviceRating": mean(avg["service"]),
            "qualityRating": mean(avg["quality"]),
            "speedRating": mean(avg["speed"]),
        },
        "tags": {t["tag"]: t["n"] for t in tags},
    }
