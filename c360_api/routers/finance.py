"""Finance: lifetime value, revenue, RFM segmentation, profitability."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from c360_api.envelopes import Column
from c360_api.routers.team_route import add_query_route

router = APIRouter(prefix="/finance", tags=["finance"])

LIFETIME_VALUE: list[Column] = [
    ("customer_segment", str, "Segment from the customers source ('Unknown' when none)", "SMB"),
    ("customer_count", int, "Customers in the segment", 2400),
    ("buyers", int, "Of them, customers with at least one purchase", 2210),
    ("avg_lifetime_value", float, "Mean historic CLV (lifetime spend)", 1610.42),
    ("total_revenue", float, "Lifetime spend of the segment", 3865008.0),
    ("total_gross_margin", float, "Gross margin to date", 1010230.1),
    ("avg_predicted_clv_12m", float, "Mean predicted 12-month CLV", 402.1),
    ("total_predicted_clv_12m", float, "Predicted 12-month CLV of the segment", 965040.0),
    ("avg_p_alive", float, "Mean probability of being alive", 0.8123),
]

REVENUE: list[Column] = [
    ("month_date", date, "First day of the month", date(2025, 11, 1)),
    ("revenue", float, "Revenue of the month", 812300.25),
    ("orders", int, "Transactions of the month", 6011),
    ("avg_order_value", float, "revenue / orders", 135.14),
    ("gross_margin", float, "Gross margin (where costs are known)", 203100.0),
    ("units", int, "Units sold (where known)", 7002),
    ("revenue_change", float, "Change from the previous month (0.05 = +5 %)", 0.0412),
]

RFM: list[Column] = [
    ("rfm_segment", str, "RFM segment (buyers only)", "Loyal Customers"),
    ("customers", int, "Customers in the segment", 1500),
    ("customer_share", float, "Share of buyers (0–1)", 0.15),
    ("avg_r_score", float, "Mean recency score (1–5)", 3.6),
    ("avg_f_score", float, "Mean frequency score (1–5)", 4.2),
    ("avg_m_score", float, "Mean monetary score (1–5)", 4.1),
    ("avg_recency_days", float, "Mean days since the last purchase", 44.0),
    ("avg_orders", float, "Mean number of orders", 28.5),
    ("avg_monetary", float, "Mean lifetime spend", 2712.4),
    ("revenue", float, "Lifetime spend of the segment", 4068600.0),
    ("revenue_share", float, "Share of all buyers' revenue (0–1)", 0.2411),
]

PROFITABILITY: list[Column] = [
    ("customer_segment", str, "Segment ('Unknown' when none)", "Enterprise"),
    ("customers", int, "Customers in the segment", 900),
    ("revenue", float, "Lifetime spend", 2301200.0),
    ("gross_margin", float, "Gross margin to date", 600120.3),
    ("gross_margin_pct", float, "gross_margin / revenue", 0.2608),
    ("service_cost", float, "15 per ticket + 5 per interaction", 40210.0),
    ("net_contribution", float, "gross_margin − service_cost", 559910.3),
    ("avg_net_contribution", float, "Mean net contribution per customer", 622.12),
    ("unprofitable_customers", int, "Customers with a negative net contribution", 31),
]

add_query_route(
    router,
    "/customer-lifetime-value",
    ("finance", "customer_lifetime_value"),
    LIFETIME_VALUE,
    summary="Customer lifetime value by segment",
    message="historic and predicted customer lifetime value by segment",
)
add_query_route(
    router,
    "/revenue-analysis",
    ("finance", "revenue_analysis"),
    REVENUE,
    summary="Monthly revenue",
    message="revenue, orders, margin and growth per month",
)
add_query_route(
    router,
    "/rfm-segmentation",
    ("finance", "rfm_segmentation"),
    RFM,
    summary="RFM segmentation of buyers",
    message="RFM segments of buyers with scores and revenue share",
)
add_query_route(
    router,
    "/profitability-metrics",
    ("finance", "profitability_metrics"),
    PROFITABILITY,
    summary="Profitability by segment",
    message="revenue, gross margin, service cost and net contribution by segment",
)
