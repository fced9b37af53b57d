"""CONTRACT §13: what a user answered to wx.requestSubscribeMessage, and their balances.

Each accepted template key is one more message the hub may send that user (WeChat's one-time
subscription); a rejected key changes nothing (earlier consents stay, as at WeChat). The mini
program reports the answer here; WeChat keeps its own count, which the hub follows when it
answers 43101 (docs/notifications.md).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from adapters.clock import utcnow
from adapters.settings import SANDBOX_TEMPLATES
from adapters.subscriptions import SubscriptionStore
from hub.models import In, Out
from hub.router import Call, Router

router = Router("subscriptions")

PARTIES = ("customer", "provider")
TemplateKey = Literal[tuple(SANDBOX_TEMPLATES)]
# wx.requestSubscribeMessage asks for at most 3 templates at once; the hub takes all seven.
Keys = Annotated[list[TemplateKey], Field(max_length=len(SANDBOX_TEMPLATES))]


class SubscriptionsIn(In):
    accepted: Keys
    rejected: Keys = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct(self) -> SubscriptionsIn:
        if len(set(self.accepted)) != len(self.accepted):
            raise ValueError("accepted: each template key once")
        if set(self.accepted) & set(self.rejected):
            raise ValueError("a template key is either accepted or rejected")
        return self


class BalancesOut(Out):
    balances: dict[str, int] = Field(description="template key → messages the hub may send")


async def _balances(call: Call) -> BalancesOut:
    held = await SubscriptionStore(call.hub.db).balances(call.me.user_id)
    return BalancesOut(balances={key: held.get(key, 0) for key in SANDBOX_TEMPLATES})


@router.route(
    "POST", "/api/me/subscriptions", roles=PARTIES, body=SubscriptionsIn, response=BalancesOut
)
async def record_consent(call: Call):
    """What wx.requestSubscribeMessage answered: each accepted key adds one message."""
    await SubscriptionStore(call.hub.db).add(call.me.user_id, call.body.accepted, utcnow())
    return await _balances(call)


@router.route("GET", "/api/me/subscriptions", roles=PARTIES, response=BalancesOut)
async def balances(call: Call):
    """Messages the hub may still send you, per template key."""
    return await _balances(call)
