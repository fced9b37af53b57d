"""Request and response shapes of the dispatch routes (CONTRACT §10, docs/api.md)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from hub.models import In, Out


class DecisionOut(Out):
    seq: int = Field(description="the order event this decision made")
    stage: str
    at: str
    explanation: dict[str, Any] = Field(
        description="strategy, chosen, candidates (score and parts), excluded (with reason)"
    )


class DispatchOut(Out):
    order_id: int
    dispatch_mode: str
    state: dict[str, Any] = Field(description="where the order is in the fallback chain")
    policy: dict[str, Any] = Field(description="the policy in force for its area and service")
    items: list[DecisionOut]


class PolicyIn(In):
    area_id: Annotated[int, Field(ge=0, description="0: every area")] = 0
    service_id: Annotated[int, Field(ge=0, description="0: every service")] = 0
    config: dict[str, Any] = Field(description="fields of the policy to override")


class PolicyRowOut(Out):
    area_id: int
    service_id: int
    config: dict[str, Any]
    updated_by: int | None
    updated_at: str


class PolicyList(Out):
    defaults: dict[str, Any]
    items: list[PolicyRowOut]


class PolicyOut(Out):
    area_id: int
    service_id: int
    config: dict[str, Any]
    effective: dict[str, Any] = Field(description="the defaults with every row that applies")
