"""A customer's payments and reviews (CONTRACT §6, §8), made as the mini program makes them.

Paying one payment: ``POST /api/payments`` (the prepay), then what ``wx.requestPayment``
does — here the WeChat sandbox's cashier stand-in (``POST {sandbox}/sandbox/pay/cashier``
with the paymentParams) with an outcome drawn from ``--pay-mix`` — then the order's ``paid``
event at the customer's watcher; after ``--pay-check`` seconds without it the customer asks
``GET /api/payments/{id}`` (as the app's result page would; the hub then asks WeChat).
``prepay → paid`` runs from the prepay request to whichever comes first. With
``--pay-check 0`` the customer never asks: only the notification or the hub's own scheduled
query (HUB_PAY_QUERY_S) can tell it.

- cancel at the cashier: the payment stays open; the customer pays it again a little later
  (the same payment: asking again while it is open answers it);
- fail (or WeChat's PAYERROR under the sandbox's ``pay_error`` fault): the customer waits
  until the hub has the payment failed (``GET``), then pays again with a new prepay;
- a deposit, when an area asks one (``depositAmount`` in ``GET /api/areas``): asked right
  after ordering (``kind: "deposit"``; 409 ``not_payable_yet`` where the order's area asks
  none); the rest after the service.

Staff refund a share of the paid orders (``--refund``): 60 % of the payment, asked twice at
once (one refund comes of it, never more than was paid). Then the customer reviews
(``--review``). Payments and reviews switch themselves off for the run when the hub answers
404 (a hub or relay without them).
"""

from __future__ import annotations

import asyncio
import time

import aiohttp

from load.city import human_delay, pick
from load.http import ApiError
from load.series import PREPAY_PAID
from load.sim_user import SimUser

ENDS = {"paid": "paid", "payment_failed": "failed", "payment_closed": "closed"}
PAID = ("paid", "refunding", "refunded")  # a payment's statuses once it was paid
TRIES = 5  # cashier attempts per payment before the customer gives up
PAID_WITHIN_S = 120.0  # paid at the cashier, and still not paid here after this: an error
REVIEW_TEXT = ("师傅很专业", "准时上门，干活利索", "价格公道", "态度一般", "")
REVIEW_TAGS = ("准时", "专业", "干净", "耐心", "价格合理")


class Wallet:
    """What one customer (load/customer_sim.py) does about money and reviews."""

    def __init__(self, customer: SimUser):
        self.c = customer
        self.waiting: dict[int, asyncio.Future] = {}  # paymentId -> its end, from events
        self.known: set[int] = set()
        self.deposits: dict[int, asyncio.Task] = {}

    @property
    def paying(self) -> bool:
        w = self.c.w
        return bool(w.cfg.sandbox) and w.ledger.features.get("payments", True)

    def on_event(self, ev: dict) -> None:
        """An order event applied in seq order: ends of payments."""
        detail = ev.get("detail") or {}
        end = ENDS.get(detail.get("action"))
        if end is None:
            return
        if end == "paid":
            self.c.w.ledger.paid_event(ev)
        fut = self.waiting.get(detail.get("paymentId"))
        if fut is not None and not fut.done():
            fut.set_result(end)

    def ordered(self, oid: int) -> None:
        """Just ordered: pay the deposit when an area asks one."""
        w = self.c.w
        if self.paying and w.deposits:
            self.deposits[oid] = w.spawn(self.pay(oid, "deposit"))

    async def completed(self, oid: int) -> None:
        """The order is completed: pay (the rest), maybe get some back, review."""
        w, rng = self.c.w, self.c.rng
        deposit = self.deposits.pop(oid, None)
        if deposit is not None:
            await asyncio.wait({deposit})
        if self.paying:
            paid = await self.pay(oid)
            if paid and w.admin_token and rng.random() < w.cfg.refund:
                w.spawn(self.staff_refund(oid, paid))
        if w.ledger.features.get("reviews", True) and rng.random() < w.cfg.review:
            await self.review(oid)

    # --- one payment ------------------------------------------------------------------------

    async def pay(self, oid: int, kind: str | None = None) -> dict | None:
        """Pays the order's payment due now; its prepay answer once paid, else None."""
        c, w = self.c, self.c.w
        for attempt in range(TRIES):
            if w.stopping and attempt:
                return None
            t0 = time.time()
            prepay = await self.prepay(oid, kind)
            if prepay is None:
                return None
            pid = prepay["paymentId"]
            fut = self.waiting[pid] = w.loop.create_future()
            try:
                said = await self.cashier(prepay["paymentParams"], pick(c.rng, w.cfg.pay_mix))
                if said == "ok":
                    return prepay if await self.until_paid(pid, fut, t0) else None
                if said == "cancel":
                    w.metrics.inc("payments cancelled at the cashier")
                elif said == "fail":
                    w.metrics.inc("payments failed at the cashier")
                    if not await self.until_failed(pid, fut):
                        break  # never pay a failed trade's prepay again
                else:
                    return None
            finally:
                self.waiting.pop(pid, None)
            await asyncio.sleep(human_delay(c.rng, w.cfg.reaction * 4))
        w.metrics.inc("payments given up")
        return None

    async def prepay(self, oid: int, kind: str | None) -> dict | None:
        c, w = self.c, self.c.w
        body = {"orderId": oid} if kind is None else {"orderId": oid, "kind": kind}
        try:
            res = await c.api("POST", "/api/payments", body=body, expect=(404, 409))
        except ApiError as e:
            if e.status == 404 and e.code in ("not_found", "unknown"):
                w.ledger.features["payments"] = False
            elif e.code == "already_paid":
                w.metrics.inc("payments already paid")
            return None
        pid = res["paymentId"]
        if pid not in self.known:
            self.known.add(pid)
            w.metrics.inc("payments prepaid")
            w.ledger.payments.append(
                (pid, oid, res.get("kind"), res.get("amount"), res["outTradeNo"])
            )
        return res

    async def cashier(self, params: dict, outcome: str) -> str:
        """wx.requestPayment at the sandbox: ok, cancel, fail, or refused / error."""
        w = self.c.w
        t0 = time.perf_counter()
        try:
            async with w.http.session.post(
                f"{w.cfg.sandbox}/sandbox/pay/cashier", json={**params, "outcome": outcome}
            ) as r:
                status, said = r.status, await r.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as e:
            w.metrics.error(f"cashier: {type(e).__name__}")
            return "error"
        w.metrics.observe("cashier call", (time.perf_counter() - t0) * 1000)
        msg = said.get("errMsg", "") if isinstance(said, dict) else ""
        if status == 200 and msg == "requestPayment:ok":
            return "ok"
        if status == 200:
            return "cancel" if msg.endswith(" cancel") else "fail"
        why = said.get("error") if isinstance(said, dict) else status
        w.metrics.error(f"cashier refused: {str(why)[:60]}")
        return "refused"

    async def until_paid(self, pid: int, fut: asyncio.Future, t0: float) -> bool:
        """Paid at the cashier: until the hub says so (event, or GET after --pay-check s)."""
        w = self.c.w
        deadline = time.time() + PAID_WITHIN_S
        check = w.cfg.pay_check if w.cfg.pay_check > 0 else PAID_WITHIN_S  # 0: never asks
        while True:
            try:
                end = await asyncio.wait_for(asyncio.shield(fut), check)
            except TimeoutError:
                end = await self.ask(pid) if w.cfg.pay_check > 0 else None
                if end == "paid":
                    w.metrics.inc("payments seen paid by GET first")
            if end == "paid":
                w.metrics.observe(PREPAY_PAID, (time.time() - t0) * 1000)
                w.metrics.inc("payments paid")
                return True
            if end is not None:
                w.metrics.error(f"paid at the cashier, then {end} in the hub")
                return False
            if time.time() > deadline:
                w.metrics.error("paid at the cashier, not paid in the hub within 120 s")
                return False

    async def until_failed(self, pid: int, fut: asyncio.Future) -> bool:
        """Failed at the cashier: whether the hub has ended the payment (asked by GET)."""
        for _ in range(4):
            end = fut.result() if fut.done() else await self.ask(pid)
            if end in ("failed", "closed"):
                return True
            if end == "paid":
                return False
            await asyncio.sleep(1.0)
        return False

    async def ask(self, pid: int) -> str | None:
        """GET /api/payments/{id}: paid, failed, closed, or None while open."""
        try:
            got = await self.c.api("GET", f"/api/payments/{pid}", route="/api/payments/{id}")
        except ApiError:
            return None
        status = got.get("status")
        return "paid" if status in PAID else (status if status in ("failed", "closed") else None)

    # --- staff refunds, reviews ---------------------------------------------------------------

    async def staff_refund(self, oid: int, prepay: dict) -> None:
        w = self.c.w
        await asyncio.sleep(human_delay(self.c.rng, w.cfg.reaction * 3))
        body = {
            "amount": max(1, prepay["amount"] * 6 // 10),
            "reason": "压测：部分退款",
            "paymentId": prepay["paymentId"],
        }

        async def ask() -> dict | None:
            try:
                return await w.http.call(
                    "POST",
                    f"/api/orders/{oid}/refund",
                    token=w.admin_token,
                    body=body,
                    route="/api/orders/{id}/refund",
                    expect=(409,),
                )
            except ApiError:
                return None

        answers = await asyncio.gather(ask(), ask())
        made = {(a.get("refund") or {}).get("outRefundNo") for a in answers if a}
        w.metrics.inc("refunds asked", 2)
        w.metrics.inc("refunds made", len(made))

    async def review(self, oid: int) -> None:
        c, w = self.c, self.c.w
        await asyncio.sleep(human_delay(c.rng, w.cfg.reaction * 3))
        rating = c.rng.choices((5, 4, 3, 2, 1), weights=(70, 20, 6, 3, 1))[0]

        def near() -> int:
            return min(5, max(1, rating + c.rng.choice((-1, 0, 0, 0, 1))))

        body = {
            "rating": rating,
            "serviceRating": near(),
            "qualityRating": near(),
            "speedRating": near(),
            "content": c.rng.choice(REVIEW_TEXT),
            "tags": c.rng.sample(REVIEW_TAGS, c.rng.randint(0, 2)),
        }
        try:
            await c.api(
                "POST",
                f"/api/orders/{oid}/review",
                body=body,
                route="/api/orders/{id}/review",
                expect=(404, 409),
            )
            w.metrics.inc("reviews")
        except ApiError as e:
            if e.status == 404 and e.code in ("not_found", "unknown"):
                w.ledger.features["reviews"] = False
