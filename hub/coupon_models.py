"""Request and response models of the coupon routes (CONTRACT §12, hub/routes/coupons.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from hub.models import Fen, Id, In, Out, StrictBool

Percent = Annotated[int, Field(ge=1, le=99, strict=True)]
Count = Annotated[int, Field(ge=1, le=1_000_000, strict=True)]


def _naive_utc(value: datetime | None) -> datetime | None:
    """Times are stored as naive UTC; a time without a zone is taken as UTC."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


class TemplateIn(In):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    kind: Literal["threshold", "discount"]
    amount_off: Annotated[int, Field(ge=1, le=10_000_000, strict=True)] | None = Field(
        None, description="threshold: fen off"
    )
    threshold: Fen = Field(0, description="fen the order's price must reach")
    percent_off: Percent | None = Field(None, description="discount: 20 = pay 80 %")
    max_off: Annotated[int, Field(ge=1, le=10_000_000, strict=True)] | None = Field(
        None, description="discount: the most it takes off, fen"
    )
    service_ids: Annotated[list[Id], Field(min_length=1, max_length=100)] | None = None
    area_ids: Annotated[list[Id], Field(min_length=1, max_length=100)] | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    valid_days: Annotated[int, Field(ge=1, le=3650, strict=True)] | None = Field(
        None, description="valid this many days after claiming (within validFrom..validTo)"
    )
    stock: Count
    per_user: Annotated[int, Field(ge=1, le=100, strict=True)] = 1
    new_customer_only: StrictBool = False
    return_on_refund: StrictBool = Field(
        True, description="a payment refunded in full gives the coupon back"
    )

    _utc = field_validator("valid_from", "valid_to")(_naive_utc)

    @model_validator(mode="after")
    def _consistent(self):
        if self.kind == "threshold" and self.amount_off is None:
            raise ValueError("a threshold coupon needs amountOff")
        if self.kind == "discount" and self.percent_off is None:
            raise ValueError("a discount coupon needs percentOff")
        if self.valid_to is None and self.valid_days is None:
            raise ValueError("give validTo or validDays")
        if self.valid_from and self.valid_to and self.valid_from >= self.valid_to:
            raise ValueError("validFrom must be before validTo")
        return self


class TemplatePatch(In):
    status: Literal["active", "paused", "ended"] = Field(
        description="paused: no claims and held coupons refused at prepay until active again;"
        " ended: for good, and held unused coupons expire"
    )


class ClaimIn(In):
    """A claim takes no fields; a body, if sent, must still be a JSON object."""


class IssueIn(In):
    user_ids: Annotated[list[Id], Field(min_length=1, max_length=500)]


class MineQuery(In):
    status: Literal["usable", "locked", "used", "expired"] | None = None
    page: Annotated[int, Field(ge=1, le=10_000)] = 1
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class CouponTerms(Out):
    """What a coupon takes off and where it applies: a template's, and each coupon's made of it."""

    name: str
    kind: str
    amount_off: int | None
    threshold: int
    percent_off: int | None
    max_off: int | None
    service_ids: list[int] | None
    area_ids: list[int] | None


class TemplateOut(CouponTerms):
    id: int
    valid_from: str | None
    valid_to: str | None
    valid_days: int | None
    stock: int
    left: int
    per_user: int
    new_customer_only: bool
    return_on_refund: bool
    status: str
    issued: int = Field(description="coupons made of it: claimed, issued by staff, welcome")
    claimed: int = Field(description="of those, claimed by customers themselves")
    used: int
    expired: int
    cost: int = Field(description="fen: discounts of used coupons not refunded in full")
    created_at: str | None


class TemplatePage(Out):
    items: list[TemplateOut]
    total: int


class CouponOut(CouponTerms):
    id: int
    template_id: int
    status: Literal["usable", "locked", "used", "expired"]
    source: Literal["claim", "grant", "welcome"]
    valid_from: str | None
    valid_to: str | None
    order_id: int | None
    payment_id: int | None
    discount: int | None
    claimed_at: str | None
    used_at: str | None


class CouponPage(Out):
    items: list[CouponOut]
    total: int


class IssueOut(Out):
    issued: list[dict] = Field(description="[{userId, couponId}]")
    refused: list[dict] = Field(description="[{userId, code}]")


class OrderCouponOut(Out):
    coupon: CouponOut
    usable: bool
    discount: int
    refusal: dict | None = Field(description="{code, message} when it cannot pay this order")


class OrderCouponsOut(Out):
    kind: str = Field(description="the payment the order asks for now (or next)")
    amount: int = Field(description="fen of that payment before a coupon")
    payable: bool = Field(description="false: nothing is due yet; the figures are an estimate")
    suggested: dict | None = Field(description="{couponId, discount, amount}: the best usable")
    items: list[OrderCouponOut]
