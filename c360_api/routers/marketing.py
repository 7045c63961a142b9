"""Marketing: customer health, churn-risk lists, loyalty programme, RFM and behavioural
segmentation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from c360_api.cache import CachedAnswer
from c360_api.deps import TeamQueryDep
from c360_api.envelopes import Column, ErrorResponse, envelope, row_model
from c360_api.routers.team_route import add_query_route, responses_for
from c360_api.service import OutputFormat, Page, QueryAnswer, QueryCall, Renderer, render
from c360_api.snapshot_models import require_clustering

router = APIRouter(prefix="/marketing", tags=["marketing"])

HEALTH_OVERVIEW: list[Column] = [
    ("customer_status", str, "Active, At Risk, Churned or New", "Active"),
    ("customers", int, "Customers with this status", 5120),
    ("customer_share", float, "Share of all customers (0–1)", 0.512),
    ("avg_health_score", float, "Mean customer health score (1–5)", 3.84),
    ("avg_total_spent", float, "Mean lifetime spend", 1412.35),
    ("total_spent", float, "Lifetime spend of these customers", 7231232.0),
    ("avg_p_alive", float, "Mean BG/NBD probability of being alive", 0.9123),
    ("avg_recency_days", float, "Mean days since the last purchase", 31.4),
]

CHURN_RISK: list[Column] = [
    ("customer_id", str, "Customer key", "C000123"),
    ("customer_name", str, "Name from the customers source", "Ada Lovelace"),
    ("customer_segment", str, "Segment from the customers source", "Consumer"),
    ("loyalty_tier", str, "Bronze, Silver, Gold or Platinum", "Gold"),
    ("total_spent", float, "Lifetime spend (historic CLV)", 2310.5),
    ("risk_status", str, "High Risk or Medium Risk", "High Risk"),
    ("customer_health_score", float, "Customer health score (1–5)", 1.87),
    ("customer_status", str, "Active, At Risk, Churned or New", "At Risk"),
    ("recency_days", int, "Days since the last purchase", 152),
    ("p_alive", float, "BG/NBD probability of being alive", 0.21),
    ("predicted_clv_12m", float, "Predicted value of the next 12 months", 140.2),
]

LOYALTY: list[Column] = [
    ("loyalty_tier", str, "Bronze, Silver, Gold or Platinum", "Gold"),
    ("customers", int, "Customers in the tier", 1800),
    ("loyalty_members", int, "Of them, members of the loyalty programme", 1500),
    ("customer_share", float, "Share of all customers (0–1)", 0.18),
    ("total_loyalty_points", int, "Points held by the tier", 2712000),
    ("avg_loyalty_points", float, "Mean points per customer", 1506.7),
    ("revenue_12m", float, "Spend over the last 12 months", 3120400.0),
    ("avg_revenue_12m", float, "Mean 12-month spend", 1733.56),
    ("avg_spend_to_next_tier", float, "Mean spend still needed for the next tier", 812.4),
    ("tier_rank", int, "Sort key: 1 Platinum … 4 Bronze", 2),
]

SEGMENTATION: list[Column] = [
    ("rfm_segment", str, "RFM segment ('No Purchases' for prospects)", "Champions"),
    ("customers", int, "Customers in the segment", 1210),
    ("customer_share", float, "Share of all customers (0–1)", 0.121),
    ("avg_recency_days", float, "Mean days since the last purchase", 9.3),
    ("avg_orders", float, "Mean number of orders", 41.2),
    ("avg_total_spent", float, "Mean lifetime spend", 4012.0),
    ("total_revenue", float, "Lifetime spend of the segment", 4854520.0),
    ("avg_health_score", float, "Mean customer health score (1–5)", 4.41),
    ("avg_predicted_clv_12m", float, "Mean predicted 12-month CLV", 1290.77),
]

CLUSTERS: list[Column] = [
    ("cluster_id", int, "Behavioural cluster (null: customers without a purchase)", 2),
    ("cluster_label", str, "The cluster's plain-English label ('No Purchases')", "Big Spenders"),
    ("customers", int, "Customers in the cluster", 1830),
    ("customer_share", float, "Share of all customers (0–1)", 0.183),
    ("avg_recency_days", float, "Mean days since the last purchase", 14.2),
    ("avg_orders", float, "Mean number of orders", 22.5),
    ("avg_total_spent", float, "Mean lifetime spend", 3120.0),
    ("total_revenue", float, "Lifetime spend of the cluster", 5709600.0),
    ("avg_health_score", float, "Mean customer health score (1–5)", 4.1),
    ("avg_predicted_clv_12m", float, "Mean predicted 12-month CLV", 980.4),
    ("recommendation", str, "The pipeline's marketing recommendation for the cluster",
     "Reward and upsell: premium offers, early access"),
]  # fmt: skip

SEGMENTATION_MESSAGE = "RFM segments with size, recency, frequency and value"
CLUSTERS_MESSAGE = "behavioural clusters with size, recency, frequency, value and recommendation"
SegmentationRow = row_model("CustomerSegmentationRow", SEGMENTATION)
ClusterRow = row_model("CustomerClusterRow", CLUSTERS)
SegmentationResponse = envelope(
    "CustomerSegmentationResponse",
    SEGMENTATION,
    SEGMENTATION_MESSAGE,
    row=SegmentationRow | ClusterRow,
)

CHURN_RISK_MESSAGE = "customers at high or medium churn risk, most valuable first"
ChurnRiskResponse = envelope("ChurnRiskCustomersResponse", CHURN_RISK, CHURN_RISK_MESSAGE)

add_query_route(
    router,
    "/customer-health-overview",
    ("marketing", "customer_health_overview"),
    HEALTH_OVERVIEW,
    summary="Customer health by status",
    message="customers by status with health, value and P(alive)",
)


@router.get(
    "/churn-risk-customers",
    response_model=ChurnRiskResponse,
    responses=responses_for(ChurnRiskResponse, CHURN_RISK),
    summary="Churn-risk customers (retention list)",
)
async def churn_risk_customers(
    request: Request,
    team_query: TeamQueryDep,
    min_lifetime_value: Annotated[
        float,
        Query(
            ge=0,
            allow_inf_nan=False,
            description="Only customers whose lifetime spend is at least this.",
        ),
    ] = 0.0,
) -> Response:
    """Customers at high or medium churn risk, most valuable first."""
    return await team_query.respond(
        request,
        ("marketing", "churn_risk_customers"),
        {"min_lifetime_value": min_lifetime_value},
        CHURN_RISK_MESSAGE,
    )


add_query_route(
    router,
    "/loyalty-program-metrics",
    ("marketing", "loyalty_program_metrics"),
    LOYALTY,
    summary="Loyalty programme by tier",
    message="loyalty tiers with members, points, spend and distance to the next tier",
)


@router.get(
    "/customer-segmentation",
    response_model=SegmentationResponse,
    responses={
        **responses_for(SegmentationResponse, SEGMENTATION),
        409: {
            "model": ErrorResponse,
            "description": "`view=cluster` on a snapshot without behavioural clusters.",
        },
    },
    summary="Segmentation: RFM segments or behavioural clusters",
)
async def customer_segmentation(
    request: Request,
    team_query: TeamQueryDep,
    view: Annotated[
        Literal["rfm", "cluster"],
        Query(
            description="`rfm` (default): a row per RFM segment (`CustomerSegmentationRow`); "
            "`cluster`: a row per behavioural cluster (`CustomerClusterRow`)."
        ),
    ] = "rfm",
) -> Response:
    """RFM segments, or behavioural clusters with their recommendation, by size and value."""
    if view == "rfm":
        return await team_query.respond(
            request, ("marketing", "customer_segmentation"), {}, SEGMENTATION_MESSAGE
        )
    return await team_query.service.respond(
        request,
        team_query.org,
        [QueryCall(("marketing", "customer_clusters"), {}, team_query.page)],
        cluster_renderer(team_query.page, team_query.output),
        output=team_query.output,
    )


def cluster_renderer(page: Page, output: OutputFormat) -> Renderer:
    """Render the clusters with each one's recommendation from the snapshot's manifest (a 409
    when the snapshot has no clustering)."""

    def render_clusters(answers: Sequence[QueryAnswer]) -> CachedAnswer:
        answer = answers[0]
        assert answer.snapshot is not None
        clusters = require_clustering(answer.snapshot).get("clusters") or []
        recommendations = {
            cluster.get("cluster_id"): cluster.get("recommendation")
            for cluster in clusters
            if isinstance(cluster, dict)
        }
        key = answer.columns.index("cluster_id")
        with_recommendations = replace(
            answer,
            columns=[*answer.columns, "recommendation"],
            rows=[(*row, recommendations.get(row[key])) for row in answer.rows],
        )
        return render(with_recommendations, page, output, CLUSTERS_MESSAGE, "customer_clusters")

    return render_clusters
