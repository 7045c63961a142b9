"""Analytics (/api/v1/analytics): demographics, transaction trends, a customer's interactions,
RFM segments and their activity, the organisation summary and the dashboard figures.

Each answer combines several `sql/` files run on one snapshot (one `QueryService.respond`);
the functions here only arrange their rows into the documented objects. Interaction figures
count interactions up to the end of the snapshot's as-of day, which the service binds as
`$as_of` from the snapshot's manifest.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel

from c360_api.deps import OrgDep, QueryServiceDep, TeamQueryDep, check_range
from c360_api.envelopes import (
    Column,
    envelope,
    example_row,
    object_envelope,
    row_model,
    rows_field,
)
from c360_api.params import IsoDate
from c360_api.routers.customers import CustomerId, unknown_customer
from c360_api.routers.team_route import ERROR_RESPONSES, responses_for
from c360_api.service import Page, QueryAnswer, QueryCall, object_renderer

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics v1"])

TOP_SEGMENTS = 5
RECENT_ACTIVITY = 10
DEMOGRAPHIC_DIMENSIONS = (
    "generation", "region", "customer_segment", "loyalty_tier", "customer_status",
)  # fmt: skip

DEMOGRAPHIC: list[Column] = [
    ("dimension_value", str, "The generation, region, ... ('Unknown' when missing)", "Gen X"),
    ("customers", int, "Customers with this value", 3100),
    ("customer_share", float, "Share of all customers (0–1)", 0.31),
    ("total_spent", float, "Their lifetime spend", 4120500.0),
    ("avg_total_spent", float, "Mean lifetime spend", 1329.19),
    ("predicted_clv_12m", float, "Their predicted 12-month CLV", 1030200.0),
]
SIGNUPS: list[Column] = [
    ("signup_month", date, "First day of the month", date(2025, 12, 1)),
    ("signups", int, "Customers who signed up that month", 310),
]
TREND: list[Column] = [
    ("period_start", date, "First day of the day, week (Monday) or month", date(2025, 12, 1)),
    ("revenue", float, "Revenue", 120400.5),
    ("orders", int, "Transactions", 1502),
    ("customers", int, "Distinct buyers", 1210),
    ("avg_order_value", float, "revenue / orders", 80.16),
]
BREAKDOWN: list[Column] = [
    ("dimension_value", str, "Category or channel ('Unknown' when missing)", "Electronics"),
    ("revenue", float, "Revenue in the range", 301200.0),
    ("orders", int, "Transactions in the range", 2400),
    ("avg_order_value", float, "revenue / orders", 125.5),
    ("revenue_share", float, "Share of the range's revenue (0–1)", 0.21),
]
INTERACTION_COUNTS: list[Column] = [
    ("dimension_value", str, "Interaction type or status, as recorded", "call"),
    ("interactions", int, "Interactions", 4),
    ("last_interaction_at", datetime, "The latest (UTC)", datetime(2025, 12, 30, 9, 15)),
]
INTERACTION: list[Column] = [
    ("interaction_id", str, "Interaction key", "INT00001234001"),
    ("interaction_type", str, "call, email, meeting, support_ticket, complaint, ...", "call"),
    ("status", str, "pending, in_progress, completed or cancelled", "completed"),
    ("interaction_at", datetime, "When it happened (UTC)", datetime(2025, 12, 30, 9, 15)),
    ("channel", str, "phone, email, in_person, chat, app (null when unknown)", "phone"),
    ("duration_minutes", int, "Duration (null when not recorded)", 12),
]
ACTIVITY: list[Column] = [
    INTERACTION[0],
    ("customer_id", str, "Customer key", "C000123"),
    *INTERACTION[1:],
]
MEMBERSHIPS: list[Column] = [
    ("rfm_segment", str, "RFM segment (null without a purchase)", "Champions"),
    ("customer_segment", str, "Segment from the customers source", "Consumer"),
    ("lifecycle_stage", str, "Lifecycle stage", "Growing"),
    ("loyalty_tier", str, "Loyalty tier", "Platinum"),
    ("customer_status", str, "Active, At Risk, Churned or New", "Active"),
]
SEGMENTS: list[Column] = [
    ("rfm_segment", str, "RFM segment ('No Purchases' for customers without one)", "Champions"),
    ("customers", int, "Customers in the segment", 1210),
    ("customer_share", float, "Share of all customers (0–1)", 0.121),
]
SEGMENT_TYPES: list[Column] = [
    ("interaction_type", str, "Interaction type, as recorded", "email"),
    ("interactions", int, "Interactions in the window", 512),
    ("active_customers", int, "Segment customers with one", 300),
    ("interaction_share", float, "Share of the window's interactions (0–1)", 0.35),
]
DAILY: list[Column] = [
    ("activity_date", date, "Day (UTC)", date(2025, 12, 30)),
    ("interactions", int, "Interactions that day (0 on a quiet day)", 41),
    ("active_customers", int, "Segment customers with one that day", 38),
]
MONTHLY: list[Column] = [
    ("month_date", date, "First day of the month (UTC)", date(2025, 12, 1)),
    ("interactions", int, "Interactions that month", 30120),
    ("active_customers", int, "Customers with one that month", 21000),
]
TOTALS: list[Column] = [
    ("as_of", date, "The snapshot's as-of date: figures count up to the end of it",
     date(2025, 12, 31)),
    ("customers", int, "Customers", 10000),
    ("interactions", int, "Interactions", 35120),
    ("interacting_customers", int, "Customers with an interaction", 8100),
    ("avg_interactions_per_customer", float, "interactions / customers", 3.51),
    ("interactions_today", int, "Interactions on the as-of day", 41),
    ("interactions_this_week", int, "Since the Monday of the as-of week", 260),
    ("interactions_this_month", int, "Since the first of the as-of month", 1102),
    ("last_interaction_at", datetime, "The latest interaction (UTC)",
     datetime(2025, 12, 31, 17, 2)),
]  # fmt: skip


DemographicRow = row_model("DemographicRow", DEMOGRAPHIC)
SignupRow = row_model("SignupRow", SIGNUPS)
TrendRow = row_model("TrendRow", TREND)
BreakdownRow = row_model("BreakdownRow", BREAKDOWN)
InteractionCountRow = row_model("InteractionCountRow", INTERACTION_COUNTS)
InteractionRow = row_model("InteractionRow", INTERACTION)
ActivityRow = row_model("ActivityRow", ACTIVITY)
SegmentRow = row_model("SegmentSizeRow", SEGMENTS)
SegmentTypeRow = row_model("SegmentInteractionTypeRow", SEGMENT_TYPES)
DailyRow = row_model("DailyActivityRow", DAILY)
MonthlyRow = row_model("MonthlyInteractionsRow", MONTHLY)
Memberships = row_model("Memberships", MEMBERSHIPS, doc="The customer's current segments.")


def _columns(columns: list[Column], *names: str) -> list[Column]:
    return [column for column in columns if column[0] in names]


DEMOGRAPHICS_MESSAGE = "customers by generation, region, segment, loyalty tier and status"
DemographicsResponse = object_envelope(
    "CustomerDemographicsResponse",
    [
        ("customers", int, "All customers", 10000),
        ("total_spent", float, "Their lifetime spend", 13290000.0),
        ("avg_total_spent", float, "Mean lifetime spend", 1329.0),
        ("predicted_clv_12m", float, "Their predicted 12-month CLV", 3300000.0),
        *[
            rows_field(f"by_{dimension}", DemographicRow, f"By {dimension}, most customers first")
            for dimension in DEMOGRAPHIC_DIMENSIONS
        ],
        rows_field("signups_by_month", SignupRow, "Signups per month, oldest first"),
    ],
    DEMOGRAPHICS_MESSAGE,
)  # fmt: skip

TRENDS_MESSAGE = "revenue, orders and average order value over time, by category and channel"
TrendsResponse = object_envelope(
    "TransactionTrendsResponse",
    [
        ("granularity", str, "day, week or month", "month"),
        ("start_date", date, "First day included (null: from the first sale)", date(2025, 1, 1)),
        ("end_date", date, "Last day included (null: to the last sale)", date(2025, 12, 31)),
        ("revenue", float, "Revenue in the range", 1434000.0),
        ("orders", int, "Transactions in the range", 17900),
        ("avg_order_value", float, "revenue / orders", 80.11),
        rows_field("trend", TrendRow, "One row per period with a sale, oldest first"),
        rows_field("by_category", BreakdownRow, "By category, highest revenue first"),
        rows_field("by_channel", BreakdownRow, "By channel, highest revenue first"),
    ],
    TRENDS_MESSAGE,
)  # fmt: skip

CustomerAnalyticsResponse = object_envelope(
    "CustomerInteractionAnalyticsResponse",
    [
        ("customer_id", str, "Customer key", "C000123"),
        ("segments", Memberships, "Current segment memberships", example_row(MEMBERSHIPS)),
        ("interactions", int, "Interactions up to the as-of day", 9),
        ("last_interaction_at", datetime, "The latest (UTC)", datetime(2025, 12, 30, 9, 15)),
        rows_field("by_interaction_type", InteractionCountRow, "By type, most first"),
        rows_field("by_status", InteractionCountRow, "By status, most first"),
        rows_field("recent_interactions", InteractionRow, "The latest `recent_limit` of them"),
    ],
    "customer C000123's interactions",
)  # fmt: skip

SEGMENTS_MESSAGE = "RFM segments with their customers, largest first"
SegmentsResponse = envelope("SegmentsResponse", SEGMENTS, SEGMENTS_MESSAGE)

SegmentAnalyticsResponse = object_envelope(
    "SegmentAnalyticsResponse",
    [
        ("rfm_segment", str, "The segment", "Champions"),
        ("days", int, "Days in the window", 30),
        ("window_start", date, "First day of the window", date(2025, 12, 2)),
        ("window_end", date, "Last day of the window: the snapshot's as-of date",
         date(2025, 12, 31)),
        ("customers", int, "Customers in the segment", 1210),
        ("interactions", int, "Their interactions in the window", 1460),
        ("active_customers", int, "Of them, customers with an interaction in the window", 800),
        ("avg_interactions_per_customer", float, "interactions / customers", 1.21),
        rows_field("interaction_types", SegmentTypeRow, "By interaction type, most first"),
        rows_field("daily_activity", DailyRow, "Every day of the window, oldest first"),
    ],
    "segment Champions over the last 30 days",
)  # fmt: skip

SUMMARY_TOTALS = _columns(
    TOTALS, "as_of", "customers", "interactions", "interacting_customers",
    "avg_interactions_per_customer", "last_interaction_at",
)  # fmt: skip
DASHBOARD_TOTALS = _columns(
    TOTALS, "as_of", "customers", "interactions_today", "interactions_this_week",
    "interactions_this_month",
)  # fmt: skip

SUMMARY_MESSAGE = "organisation summary: customers, interactions, segments, monthly trend"
SummaryResponse = object_envelope(
    "OrganizationSummaryResponse",
    [
        *SUMMARY_TOTALS,
        rows_field("segments", SegmentRow, "RFM segments, largest first"),
        rows_field("monthly_interactions", MonthlyRow, "Interactions per month, oldest first"),
    ],
    SUMMARY_MESSAGE,
)  # fmt: skip

DASHBOARD_MESSAGE = "dashboard metrics as of the snapshot's as-of date"
DashboardResponse = object_envelope(
    "DashboardMetricsResponse",
    [
        *DASHBOARD_TOTALS,
        rows_field("top_segments", SegmentRow, f"The {TOP_SEGMENTS} largest RFM segments"),
        rows_field("recent_activity", ActivityRow, f"The {RECENT_ACTIVITY} latest interactions"),
    ],
    DASHBOARD_MESSAGE,
)  # fmt: skip


def _responses(model: type[BaseModel], not_found: str | None = None) -> dict[int | str, Any]:
    """OpenAPI responses of an object route: the model, the errors, and a 404 if it has one."""
    return {
        200: {"model": model, "description": "The answer (JSON envelope)."},
        **({404: {"description": not_found}} if not_found else {}),
        **ERROR_RESPONSES,
    }


def _pick(row: dict[str, Any], columns: list[Column]) -> dict[str, Any]:
    return {column[0]: row.get(column[0]) for column in columns}


def _rows(answer: QueryAnswer, columns: list[Column]) -> list[dict[str, Any]]:
    """The answer's rows with the documented columns only."""
    return [_pick(row, columns) for row in answer.records()]


def _by_dimension(answer: QueryAnswer) -> dict[str, list[dict[str, Any]]]:
    """The rows of a grouping-sets query by their `dimension` ('all': the grand total, which
    DuckDB returns even over no rows)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in answer.records():
        groups.setdefault(row["dimension"], []).append(row)
    return groups


def _dimension(
    groups: dict[str, list[dict[str, Any]]], dimension: str, columns: list[Column]
) -> list[dict[str, Any]]:
    return [_pick(row, columns) for row in groups.get(dimension, [])]


def _demographics(answers: Sequence[QueryAnswer]) -> dict[str, Any]:
    grouped, signups = answers
    groups = _by_dimension(grouped)
    (overall,) = groups["all"]
    return {
        "customers": overall["customers"],
        "total_spent": overall["total_spent"],
        "avg_total_spent": overall["avg_total_spent"],
        "predicted_clv_12m": overall["predicted_clv_12m"],
        **{
            f"by_{dimension}": _dimension(groups, dimension, DEMOGRAPHIC)
            for dimension in DEMOGRAPHIC_DIMENSIONS
        },
        "signups_by_month": _rows(signups, SIGNUPS),
    }


def _every_day(rows: list[dict[str, Any]], start: date, end: date) -> list[dict[str, Any]]:
    """One row per day from `start` to `end`, zeros on a quiet day (the query has only days
    with interactions: portable SQL has no date series)."""
    by_day = {row["activity_date"]: _pick(row, DAILY) for row in rows}
    days = (start + timedelta(days=n) for n in range((end - start).days + 1))
    return [
        by_day.get(day, {"activity_date": day, "interactions": 0, "active_customers": 0})
        for day in days
    ]


@router.get(
    "/customers",
    response_model=DemographicsResponse,
    responses=_responses(DemographicsResponse),
    summary="Customer demographics",
)
async def customer_demographics(
    request: Request, service: QueryServiceDep, org: OrgDep
) -> Response:
    """Customers, lifetime spend and predicted CLV by generation, region, segment, loyalty
    tier and status, and signups per month."""
    return await service.respond(
        request,
        org,
        [
            QueryCall(("analytics", "customer_demographics"), {}),
            QueryCall(("analytics", "customer_signups"), {}),
        ],
        object_renderer(DEMOGRAPHICS_MESSAGE, _demographics),
    )


@router.get(
    "/transactions",
    response_model=TrendsResponse,
    responses=_responses(TrendsResponse),
    summary="Transaction trends",
)
async def transaction_trends(
    request: Request,
    service: QueryServiceDep,
    org: OrgDep,
    granularity: Annotated[
        Literal["day", "week", "month"],
        Query(description="Period of the trend: `day`, `week` (from Monday) or `month`."),
    ] = "month",
    start_date: Annotated[
        IsoDate | None, Query(description="First day included (default: the first sale).")
    ] = None,
    end_date: Annotated[
        IsoDate | None, Query(description="Last day included (default: the last sale).")
    ] = None,
) -> Response:
    """Revenue, orders, buyers and average order value per day, week or month over a date
    range, and the range's revenue by category and by channel."""
    check_range("start_date", start_date, "end_date", end_date)
    window = {"start_date": start_date, "end_date": end_date}

    def build(answers: Sequence[QueryAnswer]) -> dict[str, Any]:
        trend, breakdown = answers
        groups = _by_dimension(breakdown)
        (overall,) = groups["all"]
        return {
            "granularity": granularity,
            **window,
            "revenue": overall["revenue"],
            "orders": overall["orders"],
            "avg_order_value": overall["avg_order_value"],
            "trend": _rows(trend, TREND),
            "by_category": _dimension(groups, "category", BREAKDOWN),
            "by_channel": _dimension(groups, "channel", BREAKDOWN),
        }

    return await service.respond(
        request,
        org,
        [
            QueryCall(("analytics", "transaction_trends"), {"granularity": granularity, **window}),
            QueryCall(("analytics", "transaction_breakdown"), window),
        ],
        object_renderer(TRENDS_MESSAGE, build),
    )


@router.get(
    "/customers/{customer_id}/analytics",
    response_model=CustomerAnalyticsResponse,
    responses=_responses(CustomerAnalyticsResponse, "No customer with this id."),
    summary="One customer's interactions",
)
async def customer_interactions(
    request: Request,
    service: QueryServiceDep,
    org: OrgDep,
    customer_id: CustomerId,
    recent_limit: Annotated[
        int, Query(ge=1, le=100, description="How many of the latest interactions to list.")
    ] = 10,
) -> Response:
    """A customer's interactions up to the as-of day: total, latest, by type and by status,
    the most recent ones, and the segments the customer belongs to now."""
    customer = {"customer_id": customer_id}

    def build(answers: Sequence[QueryAnswer]) -> dict[str, Any] | None:
        memberships, counts, recent = answers
        segments = memberships.first_record()
        if segments is None:
            return None
        groups = _by_dimension(counts)
        (overall,) = groups["all"]
        return {
            "customer_id": customer_id,
            "segments": _pick(segments, MEMBERSHIPS),
            "interactions": overall["interactions"],
            "last_interaction_at": overall["last_interaction_at"],
            "by_interaction_type": _dimension(groups, "interaction_type", INTERACTION_COUNTS),
            "by_status": _dimension(groups, "status", INTERACTION_COUNTS),
            "recent_interactions": _rows(recent, INTERACTION),
        }

    return await service.respond(
        request,
        org,
        [
            QueryCall(("customers", "customer_memberships"), customer),
            QueryCall(("analytics", "customer_interactions"), customer),
            QueryCall(("analytics", "customer_recent_interactions"), customer, Page(recent_limit)),
        ],
        object_renderer(f"customer {customer_id}'s interactions", build),
        not_found=unknown_customer(customer_id),
    )


@router.get(
    "/segments",
    response_model=SegmentsResponse,
    responses=responses_for(SegmentsResponse, SEGMENTS),
    summary="RFM segments and their customers",
)
async def segments(request: Request, team_query: TeamQueryDep) -> Response:
    """The RFM segments that exist (`No Purchases` for customers without a purchase), with
    their customers, largest first."""
    return await team_query.respond(request, ("analytics", "segment_sizes"), {}, SEGMENTS_MESSAGE)


@router.get(
    "/segments/{segment_name}/analytics",
    response_model=SegmentAnalyticsResponse,
    responses=_responses(SegmentAnalyticsResponse, "No customer is in this segment."),
    summary="One RFM segment's activity",
)
async def segment_analytics(
    request: Request,
    service: QueryServiceDep,
    org: OrgDep,
    segment_name: Annotated[
        str,
        Path(min_length=1, max_length=100, description="An RFM segment from /segments."),
    ],
    days: Annotated[
        int, Query(ge=7, le=365, description="Days in the window, up to the as-of date.")
    ] = 30,
) -> Response:
    """A segment's customers and their interactions over the last `days` days up to the
    snapshot's as-of date: total and per customer, by type, and every day's activity."""
    parameters = {"segment_name": segment_name, "days": days}

    def build(answers: Sequence[QueryAnswer]) -> dict[str, Any] | None:
        summary_answer, activity = answers
        summary = summary_answer.first_record()
        if summary is None or not summary["customers"]:
            return None
        groups = _by_dimension(activity)
        return {
            "rfm_segment": segment_name,
            "days": days,
            **summary,
            "interaction_types": _dimension(groups, "interaction_type", SEGMENT_TYPES),
            "daily_activity": _every_day(
                groups.get("activity_date", []), summary["window_start"], summary["window_end"]
            ),
        }

    return await service.respond(
        request,
        org,
        [
            QueryCall(("analytics", "segment_summary"), parameters),
            QueryCall(("analytics", "segment_activity"), parameters),
        ],
        object_renderer(f"segment {segment_name} over the last {days} days", build),
        not_found=f"no customer is in RFM segment {segment_name!r}",
    )


@router.get(
    "/organization/summary",
    response_model=SummaryResponse,
    responses=_responses(SummaryResponse),
    summary="Organisation summary",
)
async def organization_summary(request: Request, service: QueryServiceDep, org: OrgDep) -> Response:
    """Customers and interactions up to the as-of day, the RFM segment distribution and the
    monthly interaction trend."""

    def build(answers: Sequence[QueryAnswer]) -> dict[str, Any]:
        totals, segment_sizes, monthly = answers
        return {
            **_pick(totals.records()[0], SUMMARY_TOTALS),
            "segments": _rows(segment_sizes, SEGMENTS),
            "monthly_interactions": _rows(monthly, MONTHLY),
        }

    return await service.respond(
        request,
        org,
        [
            QueryCall(("analytics", "interaction_totals"), {}),
            QueryCall(("analytics", "segment_sizes"), {}),
            QueryCall(("analytics", "interaction_trend"), {}),
        ],
        object_renderer(SUMMARY_MESSAGE, build),
    )


@router.get(
    "/dashboard/metrics",
    response_model=DashboardResponse,
    responses=_responses(DashboardResponse),
    summary="Dashboard metrics",
)
async def dashboard_metrics(request: Request, service: QueryServiceDep, org: OrgDep) -> Response:
    """Customers; interactions on the as-of day, in its week and in its month; the largest
    segments; the latest interactions."""

    def build(answers: Sequence[QueryAnswer]) -> dict[str, Any]:
        totals, top_segments, recent = answers
        return {
            **_pick(totals.records()[0], DASHBOARD_TOTALS),
            "top_segments": _rows(top_segments, SEGMENTS),
            "recent_activity": _rows(recent, ACTIVITY),
        }

    return await service.respond(
        request,
        org,
        [
            QueryCall(("analytics", "interaction_totals"), {}),
            QueryCall(("analytics", "segment_sizes"), {}, Page(TOP_SEGMENTS)),
            QueryCall(("analytics", "recent_interactions"), {}, Page(RECENT_ACTIVITY)),
        ],
        object_renderer(DASHBOARD_MESSAGE, build),
    )
