"""Product: digital engagement, cross-sell opportunities, category insights."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from c360_api.envelopes import Column
from c360_api.routers.team_route import add_query_route

router = APIRouter(prefix="/product", tags=["product"])

ENGAGEMENT: list[Column] = [
    ("generation", str, "Gen Z, Millennial, Gen X, Boomer, Silent or Unknown", "Millennial"),
    ("customers", int, "Customers of the generation", 3100),
    ("app_adopters", int, "Customers with an app session in the last 90 days", 1400),
    ("app_adoption_rate", float, "app_adopters / customers", 0.4516),
    ("digitally_active_90d", int, "Customers with any app or web session in 90 days", 2200),
    ("avg_app_sessions_30d", float, "Mean app sessions over 30 days", 2.1),
    ("avg_web_sessions_30d", float, "Mean web sessions over 30 days", 1.4),
    ("avg_app_sessions_90d", float, "Mean app sessions over 90 days", 6.3),
    ("avg_web_sessions_90d", float, "Mean web sessions over 90 days", 4.0),
    ("avg_total_spent", float, "Mean lifetime spend", 1530.2),
    ("generation_rank", int, "Sort key: 1 Gen Z … 5 Silent, 6 Unknown", 2),
]

CROSS_SELL: list[Column] = [
    (
        "opportunity_type",
        str,
        "channel_expansion, tier_upgrade or category_association",
        "tier_upgrade",
    ),
    ("recommendation", str, "Channel, tier or category to recommend", "Gold"),
    ("customers", int, "Candidate customers", 412),
    ("avg_score", float, "Mean score (comparable within one opportunity type)", 0.9021),
    ("max_score", float, "Highest score", 1.0),
]

CATEGORIES: list[Column] = [
    ("category", str, "Category ('Unknown' when none)", "Electronics"),
    ("revenue", float, "Revenue", 1203400.5),
    ("orders", int, "Transactions", 8120),
    ("customers", int, "Distinct buyers", 2990),
    ("avg_order_value", float, "revenue / orders", 148.2),
    ("units", int, "Units sold (where known)", 9050),
    ("gross_margin", float, "Gross margin (where costs are known)", 301200.0),
    ("margin_pct", float, "Gross margin / revenue of rows with a known cost", 0.2503),
    ("revenue_share", float, "Share of all revenue", 0.1821),
    ("repeat_customer_rate", float, "Buyers on 2 or more dates / buyers", 0.4412),
    ("first_sale_date", date, "First sale in the category", date(2023, 1, 2)),
    ("last_sale_date", date, "Latest sale in the category", date(2025, 12, 31)),
]

add_query_route(
    router,
    "/digital-engagement-analysis",
    ("product", "digital_engagement_analysis"),
    ENGAGEMENT,
    summary="Digital engagement by generation",
    message="app and web engagement by generation",
)
add_query_route(
    router,
    "/cross-sell-opportunities",
    ("product", "cross_sell_opportunities"),
    CROSS_SELL,
    summary="Cross-sell opportunities",
    message="cross-sell candidates by opportunity type and recommendation",
)
add_query_route(
    router,
    "/category-insights",
    ("product", "category_insights"),
    CATEGORIES,
    summary="Category insights",
    message="categories with revenue, customers, margin and repeat rate",
)
