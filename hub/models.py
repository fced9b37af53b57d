"""Request and response models: what the API accepts, validated, and what it returns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from actors.transitions import STATUSES

Str64 = Annotated[str, Field(min_length=1, max_length=64)]
Lat = Annotated[float, Field(ge=-90, le=90)]
Lng = Annotated[float, Field(ge=-180, le=180)]
Id = Annotated[int, Field(ge=1, le=2**62, strict=True)]
Fen = Annotated[int, Field(ge=0, le=10_000_000, strict=True)]
StrictBool = Annotated[bool, Field(strict=True)]
Category = Annotated[str, Field(min_length=1, max_length=32)]
Phone = Annotated[str, Field(pattern=r"^1[3-9]\d{9}$", description="CN mobile, 11 digits")]

# The statuses are the state machine's (actors/transitions.py); the API only names them.
OrderStatus = Literal[STATUSES]


class In(BaseModel):
    """Base of every request body: camelCase keys, trimmed strings, unknown keys ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, str_strip_whitespace=True, extra="ignore"
    )


class Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


# --- auth ---------------------------------------------------------------------------------


class WechatLogin(In):
    code: Annotated[str, Field(min_length=1, max_length=128)]
    role: Literal["customer", "provider"] = "customer"


class StaffLogin(In):
    username: Str64
    password: Annotated[str, Field(min_length=1, max_length=128)]
    # a staff account with a phone signs in from a new device with an SMS code (docs/api.md)
    device_id: Annotated[str, Field(min_length=8, max_length=128)] | None = None
    sms_code: Annotated[str, Field(pattern=r"^\d{6}$")] | None = None


class BindPhone(In):
    phone_code: Annotated[str, Field(min_length=1, max_length=128)]


class UserOut(Out):
    id: int
    role: str
    nickname: str
    phone: str | None = Field(None, description="masked, e.g. 138****0000")


class LoginOut(Out):
    token: str
    user: UserOut
    is_new_user: bool = False


class MeOut(Out):
    user: UserOut
    provider: ProviderOut | None


# --- catalog ------------------------------------------------------------------------------


class ServiceIn(In):
    category: Category
    name: Str64
    description: Annotated[str, Field(max_length=500)] = ""
    base_price: Fen
    duration_min: Annotated[int, Field(ge=1, le=24 * 60)]


class ServicePatch(In):
    category: Category | None = None
    name: Str64 | None = None
    description: Annotated[str, Field(max_length=500)] | None = None
    base_price: Fen | None = None
    duration_min: Annotated[int, Field(ge=1, le=24 * 60)] | None = None
    dispatch_lead_min: Annotated[int, Field(ge=0, le=7 * 24 * 60)] | None = Field(
        None, description="scheduled orders: dispatch starts this long before the slot"
    )
    active: StrictBool | None = None


class ServiceOut(Out):
    id: int
    category: str
    name: str
    description: str
    base_price: int
    duration_min: int
    dispatch_lead_min: int = 60
    active: bool = True


class AreaIn(In):
    name: Str64
    city: Str64
    center_lat: Lat
    center_lng: Lng
    boundary: Annotated[list[tuple[Lat, Lng]], Field(min_length=3, max_length=200)]
    deposit_amount: Fen = 0  # asked at order time (seed 001's 定金); 0: pay after the service


class AreaPatch(In):
    name: Str64 | None = None
    city: Str64 | None = None
    center_lat: Lat | None = None
    center_lng: Lng | None = None
    boundary: Annotated[list[tuple[Lat, Lng]], Field(min_length=3, max_length=200)] | None = None
    deposit_amount: Fen | None = None
    active: StrictBool | None = None


class AreaOut(Out):
    id: int
    name: str
    city: str
    center_lat: float
    center_lng: float
    boundary: list[tuple[float, float]]
    deposit_amount: int = 0
    active: bool = True


# --- providers ----------------------------------------------------------------------------

CertificateType = Literal[
    "low_voltage", "high_voltage", "special", "plumbing", "appliance", "cleaning", "other"
]


class ProviderApply(In):
    name: Str64
    skills: Annotated[list[Id], Field(min_length=1, max_length=50)]
    certificate_no: Annotated[str, Field(min_length=4, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
    certificate_type: CertificateType
    service_areas: Annotated[list[Id], Field(min_length=1, max_length=20)]


class ProviderVerify(In):
    approved: StrictBool
    note: Annotated[str, Field(max_length=500)] = ""


class ProviderApplied(Out):
    provider_id: int
    verification: str


class ProviderOut(Out):
    id: int
    name: str
    rating: float
    completed_orders: int
    skills: list[int]
    verification: str
    service_areas: list[int] = []
    verification_note: str | None = None
    phone: str | None = Field(None, description="masked")


class ProviderPosition(Out):
    provider_id: int
    status: str = Field(description="online | busy")
    lat: float
    lng: float
    at: str | None = Field(None, description="when that fix was written")


class ProviderPositions(Out):
    items: list[ProviderPosition]


class ProviderListQuery(In):
    verification: Literal["pending", "approved", "rejected"] | None = None
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    limit: Annotated[int, Field(ge=1, le=100)] = 20


# --- orders -------------------------------------------------------------------------------


class CreateOrder(In):
    service_id: Id
    address: Annotated[str, Field(min_length=1, max_length=255)]
    lat: Lat
    lng: Lng
    description: Annotated[str, Field(max_length=2000)] = ""
    contact_name: Str64
    contact_phone: Phone
    urgency: Literal["normal", "urgent"] = "normal"
    scheduled_at: datetime | None = None
    images: Annotated[list[Annotated[str, Field(max_length=500)]], Field(max_length=9)] = []
    dispatch_mode: Literal["grab", "auto", "direct"] = "grab"
    provider_id: Id | None = None

    @model_validator(mode="after")
    def _direct_needs_provider(self):
        if self.dispatch_mode == "direct" and self.provider_id is None:
            raise ValueError("providerId is required when dispatchMode is direct")
        return self


class OrderListQuery(In):
    status: OrderStatus | None = None
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class QuoteIn(In):
    amount: Annotated[int, Field(ge=1, le=10_000_000, strict=True)]


class CancelIn(In):
    reason: Annotated[str, Field(max_length=500)] = ""


class AssignIn(In):
    provider_id: Id


class NoBody(In):
    pass


class AfterSeqQuery(In):
    after_seq: Annotated[int, Field(ge=0, le=2**31)] = 0
    limit: Annotated[int, Field(ge=1, le=500)] = 200


class Price(Out):
    estimated: int
    quoted: int | None
    final: int | None


class OrderOut(Out):
    id: int
    order_no: str
    status: OrderStatus
    payment_status: str
    dispatch_mode: str
    urgency: str
    service_id: int
    provider_id: int | None
    customer_id: int
    address: str
    district: str
    lat: float
    lng: float
    description: str
    contact_name: str
    contact_phone: str = Field(description="masked")
    images: list[str]
    scheduled_at: str | None
    price: Price
    cancel_reason: str | None
    created_at: str
    updated_at: str
    seq: int


class OrderPage(Out):
    items: list[OrderOut]
    total: int


class TimelineItem(Out):
    seq: int
    status: str
    at: str
    by: str
    detail: dict


class Timeline(Out):
    items: list[TimelineItem]


class MessageOut(Out):
    msg_id: int
    seq: int
    from_: str = Field(alias="from")
    text: str
    at: str


class Messages(Out):
    items: list[MessageOut]


MeOut.model_rebuild()
