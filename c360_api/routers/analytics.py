"""Advanced analytics: filtered customer profiles."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from c360_api.deps import TeamQueryDep
from c360_api.envelopes import Column, envelope
from c360_api.routers.team_route import responses_for

router = APIRouter(prefix="/analytics", tags=["analytics"])

CustomerStatus = Literal["Active", "At Risk", "Churned", "New"]
ALL_STATUSES: list[CustomerStatus] = ["Active", "At Risk", "Churned", "New"]

PROFILES: list[Column] = [
    ("customer_id", str, "Customer key", "C000123"),
    ("customer_name", str, "Name", "Ada Lovelace"),
    ("email", str, "Email", "ada@example.com"),
    ("region", str, "Region from the customers source", "North"),
    ("customer_segment", str, "Segment from the customers source", "Consumer"),
    ("generation", str, "Gen Z, Millennial, Gen X, Boomer or Silent", "Gen X"),
    ("customer_status", str, "Active, At Risk, Churned or New", "Active"),
    ("lifecycle_stage", str, "Lifecycle stage", "Growing"),
    ("rfm_segment", str, "RFM segment", "Champions"),
    ("loyalty_tier", str, "Loyalty tier", "Platinum"),
    ("orders", int, "Number of orders", 54),
    ("total_spent", float, "Lifetime spend", 6120.4),
    ("last_purchase_date", date, "Latest purchase", date(2025, 12, 28)),
    ("customer_health_score", float, "Customer health score (1–5)", 4.62),
    ("p_alive", float, "Probability of being alive", 0.98),
    ("predicted_clv_12m", float, "Predicted 12-month CLV", 2100.5),
    ("risk_status", str, "Churn risk status", "Low Risk"),
]

PROFILES_MESSAGE = "customer profiles, healthiest first"
ProfilesResponse = envelope("CustomerProfilesResponse", PROFILES, PROFILES_MESSAGE)


@router.get(
    "/customer-profiles",
    response_model=ProfilesResponse,
    responses=responses_for(ProfilesResponse, PROFILES),
    summary="Customer profiles by status and health",
)
async def customer_profiles(
    request: Request,
    team_query: TeamQueryDep,
    customer_status: Annotated[
        list[CustomerStatus] | None,
        Query(description="Keep these statuses (repeat the parameter); default: all."),
    ] = None,
    min_health_score: Annotated[
        float,
        Query(
            ge=1,
            le=5,
            allow_inf_nan=False,
            description="Only customers with at least this health score.",
        ),
    ] = 1.0,
) -> Response:
    """Customer profiles filtered by status and minimum health score, healthiest first."""
    statuses = sorted(set(customer_status or ALL_STATUSES))
    return await team_query.respond(
        request,
        ("analytics", "customer_profiles"),
        {"customer_statuses": statuses, "min_health_score": min_health_score},
        PROFILES_MESSAGE,
    )
