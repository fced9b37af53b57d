"""Request and response models of reviews and after-sales (CONTRACT §8)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from hub.models import In, Out, StrictBool

Stars = Annotated[int, Field(ge=1, le=5, strict=True)]
ReviewTag = Annotated[str, Field(min_length=1, max_length=16)]
# http(s) only (pages put them in <img src>); last in their models: other bad fields come first.
ImageUrl = Annotated[str, Field(min_length=1, max_length=500, pattern=r"^https?://\S+$")]
Images = Annotated[list[ImageUrl], Field(max_length=9)]
ComplaintKind = Literal["quality", "damage", "price", "no_show", "other"]
ComplaintStatus = Literal["open", "handling", "resolved", "rejected"]


class ReviewIn(In):
    rating: Stars
    service_rating: Stars
    quality_rating: Stars
    speed_rating: Stars
    content: Annotated[str, Field(max_length=500)] = ""
    tags: Annotated[list[ReviewTag], Field(max_length=10, default_factory=list)]
    anonymous: StrictBool = False
    images: Annotated[Images, Field(default_factory=list)]


class ReplyIn(In):
    content: Annotated[str, Field(min_length=1, max_length=500)]


class ReviewListQuery(In):
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    limit: Annotated[int, Field(ge=1, le=50)] = 20


class PublicReviewOut(Out):
    id: int
    rating: int
    service_rating: int
    quality_rating: int
    speed_rating: int
    content: str
    tags: list[str]
    images: list[str]
    reply: str | None
    replied_at: str | None
    at: str
    customer: str = Field(description='the nickname, or "匿名" when anonymous')


class ReviewOut(PublicReviewOut):  # what the review's author sees
    order_id: int
    provider_id: int
    anonymous: bool


class ReviewSummary(Out):
    rating: float = Field(description="the damped (Bayesian) rating, as on the profile")
    count: int
    average: dict[str, float | None] = Field(
        description="rating, serviceRating, qualityRating, speedRating: plain means (null: none)"
    )
    tags: dict[str, int] = Field(description="the most used tags and how often")


class ReviewPage(Out):
    items: list[PublicReviewOut]
    total: int
    summary: ReviewSummary


class ComplaintIn(In):
    kind: ComplaintKind
    text: Annotated[str, Field(min_length=1, max_length=1000)]
    images: Annotated[Images, Field(default_factory=list)]


class ComplaintMove(In):
    status: ComplaintStatus
    note: Annotated[str, Field(min_length=1, max_length=500)]


class ComplaintListQuery(In):
    status: ComplaintStatus | None = None
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class ComplaintStep(Out):
    status: ComplaintStatus
    from_status: ComplaintStatus | None
    by: str = Field(description="the role: customer, provider, dispatcher or admin")
    by_user_id: int
    note: str
    at: str


class ComplaintOut(Out):
    id: int
    order_id: int
    kind: ComplaintKind
    text: str
    images: list[str]
    status: ComplaintStatus
    raised_by: str = Field(description="customer or provider")
    history: list[ComplaintStep]
    created_at: str
    updated_at: str


class ComplaintList(Out):
    items: list[ComplaintOut]


class ComplaintPage(ComplaintList):
    total: int
