"""Customer success: support insights and lifecycle analysis."""

from __future__ import annotations

from fastapi import APIRouter

from c360_api.envelopes import Column
from c360_api.routers.team_route import add_query_route

router = APIRouter(prefix="/customer-success", tags=["customer-success"])

SUPPORT: list[Column] = [
    ("customer_status", str, "Active, At Risk, Churned or New", "At Risk"),
    ("customers", int, "Customers with this status", 900),
    ("customers_with_tickets", int, "Of them, customers who opened a ticket", 310),
    ("tickets", int, "Tickets opened", 540),
    ("open_tickets", int, "Tickets still open at the as-of date", 22),
    ("avg_satisfaction", float, "Mean of the customers' mean satisfaction (1–5)", 3.41),
    ("avg_resolution_hours", float, "Mean of the customers' mean resolution time", 30.2),
    ("complaints_90d", int, "Complaints over the last 90 days", 14),
    ("interactions", int, "Interactions (calls, emails, meetings, ...)", 2301),
    ("avg_interactions", float, "Mean interactions per customer", 2.56),
]

LIFECYCLE: list[Column] = [
    ("lifecycle_stage", str, "Prospect, New, Growing, Mature, Declining or Lapsed", "Mature"),
    ("customers", int, "Customers in the stage", 3300),
    ("customer_share", float, "Share of all customers (0–1)", 0.33),
    ("avg_tenure_days", float, "Mean tenure in days", 690.2),
    ("avg_total_spent", float, "Mean lifetime spend", 1810.3),
    ("revenue_90d", float, "Spend over the last 90 days", 401200.0),
    ("revenue_prev_90d", float, "Spend over the 90 days before", 398700.0),
    ("avg_health_score", float, "Mean customer health score (1–5)", 3.9),
    ("avg_p_alive", float, "Mean probability of being alive", 0.91),
    ("high_risk_customers", int, "Customers at high churn risk", 120),
    ("stage_rank", int, "Sort key: 1 Prospect … 6 Lapsed", 4),
]

add_query_route(
    router,
    "/support-insights",
    ("customer_success", "support_insights"),
    SUPPORT,
    summary="Support insights by customer status",
    message="tickets, satisfaction, resolution time and interactions by customer status",
)
add_query_route(
    router,
    "/lifecycle-analysis",
    ("customer_success", "lifecycle_analysis"),
    LIFECYCLE,
    summary="Lifecycle analysis",
    message="lifecycle stages with tenure, spend, trend, health and risk",
)
