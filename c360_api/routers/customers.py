"""Customer by customer (/api/v1): the full 360 profile of one customer."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from c360_api.deps import OrgDep, QueryServiceDep
from c360_api.service import Page, render_record

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])

# The profile's sections, in the order of docs/tables.md; every customer_360 column but the
# key belongs to exactly one (a test checks this against the snapshot schema).
SECTIONS: dict[str, tuple[str, ...]] = {
    "profile": (
        "customer_name", "email", "region", "customer_segment", "signup_date", "tenure_days",
        "birth_year", "generation", "account_status",
    ),
    "purchasing": (
        "first_purchase_date", "last_purchase_date", "orders", "purchase_days", "total_spent",
        "avg_order_value", "favourite_category", "channels_used", "channel_count",
        "revenue_12m", "revenue_90d", "revenue_prev_90d",
    ),
    "rfm": (
        "recency_days", "frequency", "recency_weeks", "t_weeks", "monetary", "r_score",
        "f_score", "m_score", "rfm_score", "rfm_segment",
    ),
    "clv": (
        "historic_clv", "historic_gross_margin", "p_alive", "expected_purchases_12m",
        "expected_avg_value", "predicted_clv_12m",
    ),
    "health": ("customer_health_score", "customer_status", "risk_status"),
    "loyalty": (
        "loyalty_tier", "loyalty_points", "is_loyalty_member", "next_loyalty_tier",
        "spend_to_next_tier",
    ),
    "lifecycle": ("lifecycle_stage",),
    "engagement": (
        "app_sessions_30d", "web_sessions_30d", "app_sessions_90d", "web_sessions_90d",
        "last_digital_date", "is_app_adopter",
    ),
    "support": ("tickets_total", "open_tickets", "avg_satisfaction", "avg_resolution_hours"),
    "interactions": (
        "interactions_total", "call_count", "email_count", "meeting_count",
        "support_ticket_count", "complaint_count", "feedback_count", "interactions_pending",
        "interactions_in_progress", "interactions_completed", "interactions_cancelled",
        "complaints_90d", "last_interaction_at",
    ),
    "profitability": ("gross_margin", "service_cost", "net_contribution"),
}  # fmt: skip

DETAIL_EXAMPLE = {
    "success": True,
    "message": "customer C000123",
    "timestamp": "2026-01-31T08:00:00.000Z",
    "data": {
        "customer_id": "C000123",
        "profile": {"customer_name": "Ada Lovelace", "generation": "Gen X", "...": "..."},
        "purchasing": {"orders": 54, "total_spent": 6120.4, "...": "..."},
        "rfm": {"rfm_segment": "Champions", "...": "..."},
        "clv": {"p_alive": 0.98, "predicted_clv_12m": 2100.5, "...": "..."},
        "health": {"customer_health_score": 4.62, "customer_status": "Active", "...": "..."},
        "...": "...",
    },
}


def sectioned(row: dict[str, Any]) -> dict[str, Any]:
    """A customer_360 row as `{customer_id, <section>: {column: value}}`."""
    return {
        "customer_id": row["customer_id"],
        **{
            name: {column: row.get(column) for column in columns}
            for name, columns in SECTIONS.items()
        },
    }


CustomerId = Annotated[
    str, Path(min_length=1, max_length=128, description="The customer's id, as in the source.")
]


@router.get(
    "/{customer_id}",
    summary="One customer's full 360 profile",
    responses={
        200: {"content": {"application/json": {"example": DETAIL_EXAMPLE}}},
        404: {"description": "No customer with this id in the current snapshot."},
        503: {"description": "No snapshot is published for the organisation yet."},
    },
)
async def customer_detail(
    request: Request, service: QueryServiceDep, org: OrgDep, customer_id: CustomerId
) -> Response:
    """Profile, purchasing, RFM, CLV and P(alive), health and churn risk, loyalty, lifecycle,
    engagement, support, interactions and profitability of one customer."""
    message = f"customer {customer_id}"
    return await service.respond(
        request,
        org,
        ("customers", "customer_detail"),
        {"customer_id": customer_id},
        page=Page(limit=1),
        message=message,
        renderer=partial(render_record, message=message, shape=sectioned),
        not_found=f"no customer {customer_id!r} in the current snapshot",
    )
