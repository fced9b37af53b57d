"""WeChat subscribe messages for what happens while people are away (docs/notifications.md).

A message is sent for an event (an order's status change, tomorrow's job, a withdrawal's
result) at most once: its (user, event) row is claimed in MySQL first, and an event already
claimed (by another host, or before a restart) is not sent again. Then, in order: an order's
progress is skipped while the customer has a live socket (they see it in the app); the user's
consent for the template is taken (none: nothing is sent, nothing fails); the fields are cut
to what their kinds allow; WeChat is called; the outcome is recorded. Everything runs in the
background of the actor that saw the event, after its change was written: a failure is logged
and recorded, never raised into the change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from actors.notify_fields import fit_all
from adapters.clock import utcnow
from adapters.presence import online
from adapters.redis import Keys
from adapters.settings import Settings
from adapters.subscriptions import SubscriptionStore
from adapters.wechat import WeChatError, WeChatLogin

log = logging.getLogger("orderhub.notify")

REFUSED = 43101  # WeChat: the user's consent for the template is used up
UNKNOWN = -1  # WeChat not reached or its answer unreadable: it may have delivered
ORDER_PAGE = "pages/user/order-detail?id={}"
JOB_PAGE = "pages/electrician/order-detail?id={}"
WITHDRAWAL_PAGE = "pages/electrician/profile"  # the provider's earnings and withdrawals
# An order's status → the customer's template key; other statuses send nothing.
ORDER_TEMPLATES = {
    "accepted": "order_accepted",
    "departed": "order_departed",
    "arrived": "order_arrived",
    "completed": "order_completed",
}
TIPS = {
    "order_departed": "师傅已出发，请保持电话畅通",
    "order_arrived": "师傅已到达，请开门迎接",
    "job_reminder": "您明天有预约服务，请按时上门",
}
STALE_CLAIM = timedelta(minutes=5)  # a claim this old without an outcome was interrupted


def provider_title(name: str | None) -> str:
    """How a message names the provider: surname + 师傅 (no full name)."""
    name = (name or "").strip()
    if not name or name.endswith("师傅"):
        return name or "师傅"
    return name[0] + "师傅"


def order_message(key: str, facts: dict) -> dict[str, object]:
    """The fields of an order's message: its number, service, provider and the time; no phone,
    no address, no prices (values are cut to their kinds by notify_fields.fit)."""
    head = {"character_string1": facts["order_no"], "thing2": facts["service"]}
    who = provider_title(facts["provider_name"])
    if key == "order_accepted":
        when = facts["scheduled_at"] or facts["accepted_at"] or facts["created_at"]
        return {**head, "name3": who, "time4": when}
    if key == "order_departed":
        return {**head, "name3": who, "time4": facts["departed_at"], "thing5": TIPS[key]}
    if key == "order_arrived":
        return {**head, "name3": who, "time4": facts["arrived_at"], "thing5": TIPS[key]}
    if key == "order_completed":
        return {**head, "time3": facts["completed_at"], "phrase4": "已完成"}
    if key == "job_reminder":
        where = facts["area"] or facts["district"] or "见订单详情"
        return {**head, "time3": facts["scheduled_at"], "thing4": where, "thing5": TIPS[key]}
    raise ValueError(f"no order message for {key}")


def withdrawal_message(row: dict) -> dict[str, object]:
    approved = row["status"] == "approved"
    note = (row.get("note") or "").strip() or ("将转入您的账户" if approved else "详见提现记录")
    return {
        "character_string1": f"W{row['id']}",
        "amount2": int(row["amount"]),
        "phrase3": "提现成功" if approved else "提现失败",
        "time4": row["decided_at"] or utcnow(),
        "thing5": note,
    }


class Notifier:
    def __init__(
        self,
        settings: Settings,
        store: SubscriptionStore,
        redis,
        keys: Keys,
        wechat: WeChatLogin | None = None,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.templates = settings.templates
        self.store = store
        self.redis = redis
        self.keys = keys
        self.wechat = wechat or WeChatLogin.for_settings(settings)
        self.clock = clock
        self._tasks: set[asyncio.Task] = set()

    # --- in the background ---------------------------------------------------------------------

    def later(self, job: Callable[..., Awaitable], *args) -> None:
        """Run `job(*args)` without waiting for it; its failure is logged."""
        task = asyncio.get_running_loop().create_task(self._logged(job, *args))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _logged(self, job: Callable[..., Awaitable], *args) -> None:
        try:
            await job(*args)
        except Exception:
            log.exception("subscribe message %s%s failed", job.__name__, args)

    async def idle(self) -> None:
        """Wait for the messages under way (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- events --------------------------------------------------------------------------------

    def status_changed(self, order_id: int, status: str) -> None:
        """The order actor's hook, after the new status is written."""
        if status in ORDER_TEMPLATES:
            self.later(self.order_status, order_id, status)

    async def order_status(self, order_id: int, status: str) -> str:
        """Tell the customer, unless they are in the app."""
        facts = await self.store.order_facts(order_id)
        if facts is None:
            return "no_order"
        key = ORDER_TEMPLATES[status]
        event = f"order:{order_id}:{status}"
        data = order_message(key, facts)
        page = ORDER_PAGE.format(order_id)
        return await self.send(facts["customer_id"], key, event, data, page, only_offline=True)

    async def job_reminder(self, order_id: int) -> str:
        """Tell the provider of a scheduled job (whether in the app or not: it matters later)."""
        facts = await self.store.order_facts(order_id)
        if facts is None or facts["provider_user_id"] is None or facts["scheduled_at"] is None:
            return "no_job"
        event = f"job:{order_id}:{facts['scheduled_at']:%Y%m%d%H%M}"
        data = order_message("job_reminder", facts)
        page = JOB_PAGE.format(order_id)
        return await self.send(facts["provider_user_id"], "job_reminder", event, data, page)

    async def withdrawal_result(self, row: dict) -> str:
        """Tell the provider an admin approved or rejected their withdrawal."""
        user_id = await self.store.provider_user(row["provider_id"])
        if user_id is None:
            return "no_provider"
        event = f"withdrawal:{row['id']}"
        data = withdrawal_message(row)
        return await self.send(user_id, "withdrawal_result", event, data, WITHDRAWAL_PAGE)

    # --- one message ---------------------------------------------------------------------------

    async def send(
        self,
        user_id: int,
        key: str,
        event: str,
        data: dict[str, object],
        page: str | None = None,
        only_offline: bool = False,
    ) -> str:
        """Claim the event for the user, then deliver; the outcome (recorded) is returned."""
        if not await self.store.claim(user_id, key, event, self.clock()):
            return "seen"
        try:
            if only_offline and await online(self.redis, self.keys, user_id):
                result, detail = "online", None
            else:
                result, detail = await self.deliver(user_id, key, data, page)
        except Exception as exc:  # Redis or MySQL: the claimed row still gets its outcome
            log.exception("%s to user %s failed", event, user_id)
            result, detail = "failed:error", str(exc)
        await self.store.outcome(user_id, event, result, detail)
        if result.startswith("failed"):
            log.warning("%s to user %s: %s %s", event, user_id, result, detail)
        return result

    async def deliver(
        self, user_id: int, key: str, data: dict[str, object], page: str | None = None
    ) -> tuple[str, str | None]:
        """Spend one consent and send: (result, detail). Also the payment reminders' way."""
        openid = await self.store.openid(user_id)
        if not openid:
            return "failed:no_openid", "the user has no WeChat openid"
        if not await self.store.take(user_id, key, self.clock()):
            return "no_consent", None
        try:
            await self.wechat.send_subscribe_message(
                openid, self.templates[key], fit_all(data), page=page
            )
        except WeChatError as exc:
            if exc.errcode == REFUSED:
                await self.store.zero(user_id, key, self.clock())
                return f"refused:{REFUSED}", exc.errmsg
            if exc.errcode != UNKNOWN:  # refused for a reason of ours: no consent was spent
                await self.store.give_back(user_id, key, self.clock())
            return f"failed:{exc.errcode}", exc.errmsg
        except Exception as exc:  # recorded all the same: a claimed row never stays open
            log.exception("subscribe message %s to user %s failed", key, user_id)
            return "failed:error", str(exc)
        return "sent", None

    async def sweep(self) -> None:
        """Claims left without an outcome by a sender that stopped: recorded as interrupted."""
        if count := await self.store.interrupted(self.clock() - STALE_CLAIM):
            log.warning("%d subscribe messages were interrupted", count)
