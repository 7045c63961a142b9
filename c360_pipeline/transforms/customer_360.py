"""Assembling `customer_360`: one row per customer with profile, purchasing, RFM, CLV, health,
status, churn risk, loyalty, lifecycle, engagement, support, interactions and profitability.

Rules (documented in docs/tables.md):
- status: New = first purchase (or, without purchases, signup) in the last 90 days;
  Active = last purchase in the last 90 days; At Risk = 91-180 days; Churned = more than 180
  days, or no purchase and signed up more than 90 days ago.
- health score 1-5 = 1 + 4 x (0.40 recency + 0.20 trend + 0.20 support + 0.20 engagement), each
  component in 0..1: recency = exp(-recency_days / 90); trend = clamp(0.5 + (revenue_90d -
  revenue_prev_90d) / (2 x max(revenue_90d, revenue_prev_90d)), 0, 1) (0.5 when both are 0);
  support = 1 without tickets, else avg_satisfaction / 5 (0.6 when unanswered) minus 0.2 per open
  ticket, floored at 0; engagement = min(1, ln(1 + sessions in 90 days) / ln(21)), and 0.5 when
  the organisation has no digital data. Customers without purchases score 1.
- churn risk (`risk_status`): "High Risk" = Churned, or P(alive) < 0.3; "Medium Risk" = At
  Risk, or P(alive) < 0.7, or a complaint in the last 90 days; "Low Risk" otherwise; "No
  Purchases" for customers who never bought.
- lifecycle: Prospect (never bought), New (first purchase <= 90 days ago), Lapsed (last
  purchase > 180 days ago), Declining (revenue_90d < 0.8 x revenue_prev_90d), Growing
  (revenue_90d > 1.2 x revenue_prev_90d), Mature (otherwise), in that order.
- loyalty: tier and points from the loyalty source when present; else tier from revenue_12m
  (Silver from 400, Gold from 1,200, Platinum from 3,000) and points = floor(revenue_12m). A
  source tier outside Bronze/Silver/Gold/Platinum is replaced by the derived tier.
- profitability: service_cost = 15 per ticket + 5 per interaction; net_contribution =
  gross_margin - service_cost.
"""

from __future__ import annotations

from datetime import date
from itertools import pairwise

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from c360_pipeline.transforms.columns import clamp, days_between, generation

LOYALTY_TIERS = (("Bronze", 0.0), ("Silver", 400.0), ("Gold", 1200.0), ("Platinum", 3000.0))
COST_PER_TICKET = 15.0
COST_PER_INTERACTION = 5.0
HEALTH_WEIGHTS = {"recency": 0.40, "trend": 0.20, "support": 0.20, "engagement": 0.20}


def build_customer_profiles(customers_df: DataFrame | None, summary_df: DataFrame) -> DataFrame:
    """The customer universe: every customer record, else every customer who bought."""
    if customers_df is None:
        return summary_df.select(
            "customer_id",
            *[F.lit(None).cast("string").alias(c) for c in ("customer_name", "email", "region")],
            F.lit(None).cast("string").alias("customer_segment"),
            F.lit(None).cast("date").alias("signup_date"),
            F.lit(None).cast("int").alias("birth_year"),
            F.lit(None).cast("string").alias("account_status"),
        )
    birth_year = F.coalesce(F.year("birth_date"), F.col("birth_year"))
    return customers_df.select(
        "customer_id",
        F.col("name").alias("customer_name"),
        "email",
        "region",
        F.col("segment").alias("customer_segment"),
        "signup_date",
        birth_year.cast("int").alias("birth_year"),
        F.col("status").alias("account_status"),
    )


def loyalty_tier_for_spend(spend: Column) -> Column:
    """Tier implied by trailing 12-month spend."""
    expr = F.when(spend.isNull(), F.lit(LOYALTY_TIERS[0][0]))
    for name, threshold in reversed(LOYALTY_TIERS[1:]):
        expr = expr.when(spend >= threshold, F.lit(name))
    return expr.otherwise(F.lit(LOYALTY_TIERS[0][0]))


def _next_tier(tier: Column) -> tuple[Column, Column]:
    next_name = F.when(F.lit(False), F.lit(None).cast("string"))
    next_threshold = F.when(F.lit(False), F.lit(None).cast("double"))
    for (name, _), (upper, threshold) in pairwise(LOYALTY_TIERS):
        next_name = next_name.when(tier == name, F.lit(upper))
        next_threshold = next_threshold.when(tier == name, F.lit(threshold))
    return next_name, next_threshold


def _customer_status(as_of: date) -> Column:
    as_of_lit = F.lit(as_of)
    recency = F.col("recency_days")
    first_age = days_between(as_of_lit, F.col("first_purchase_date"))
    signup_age = days_between(as_of_lit, F.col("signup_date"))
    return (
        F.when(F.col("first_purchase_date").isNull() & (signup_age <= 90), F.lit("New"))
        .when(F.col("first_purchase_date").isNull(), F.lit("Churned"))
        .when(first_age <= 90, F.lit("New"))
        .when(recency <= 90, F.lit("Active"))
        .when(recency <= 180, F.lit("At Risk"))
        .otherwise(F.lit("Churned"))
    )


def _health_score(has_digital_data: bool) -> Column:
    recency = F.exp(-F.col("recency_days") / F.lit(90.0))
    biggest = F.greatest(F.col("revenue_90d"), F.col("revenue_prev_90d"))
    trend = F.when(biggest > 0, clamp(
        F.lit(0.5) + (F.col("revenue_90d") - F.col("revenue_prev_90d")) / (2 * biggest), 0.0, 1.0
    )).otherwise(F.lit(0.5))  # fmt: skip
    satisfaction = F.coalesce(F.col("avg_satisfaction") / 5.0, F.lit(0.6))
    support = F.when(F.coalesce(F.col("tickets_total"), F.lit(0)) == 0, F.lit(1.0)).otherwise(
        F.greatest(satisfaction - 0.2 * F.coalesce(F.col("open_tickets"), F.lit(0)), F.lit(0.0))
    )
    sessions = F.coalesce(F.col("app_sessions_90d"), F.lit(0)) + F.coalesce(
        F.col("web_sessions_90d"), F.lit(0)
    )
    engagement = (
        F.least(F.log1p(sessions.cast("double")) / F.log(F.lit(21.0)), F.lit(1.0))
        if has_digital_data
        else F.lit(0.5)
    )
    w = HEALTH_WEIGHTS
    weighted = (
        w["recency"] * recency
        + w["trend"] * trend
        + w["support"] * support
        + w["engagement"] * engagement
    )
    return F.when(F.col("first_purchase_date").isNull(), F.lit(1.0)).otherwise(
        F.round(F.lit(1.0) + 4 * weighted, 2)
    )


def build_customer_360(
    profiles_df: DataFrame,
    summary_df: DataFrame,
    preferences_df: DataFrame,
    clv_df: DataFrame,
    engagement_df: DataFrame | None,
    support_df: DataFrame | None,
    interactions_df: DataFrame | None,
    loyalty_df: DataFrame | None,
    as_of: date,
    churn_df: DataFrame | None = None,
    clusters_df: DataFrame | None = None,
) -> DataFrame:
    """Join every per-customer feature onto the customer universe and derive the scores.

    `churn_df` (customer_id, churn_probability, churn_risk_band) is the churn model's scores;
    without it (no model could be trained) both columns are null for purchasing customers.
    `clusters_df` (customer_id, cluster_id, cluster_label) is the behavioural clustering's
    assignment, likewise."""
    sides = [
        summary_df,
        preferences_df,
        clv_df.select(
            "customer_id", "p_alive", "expected_purchases_12m", "expected_avg_value",
            "predicted_clv_12m",
        ),
    ]  # fmt: skip
    nulls: list[Column] = []
    optional = [
        (engagement_df, ("app_sessions_30d", "web_sessions_30d", "app_sessions_90d",
                         "web_sessions_90d", "last_digital_date", "is_app_adopter")),
        (support_df, ("tickets_total", "open_tickets", "tickets_90d", "avg_satisfaction",
                      "avg_resolution_hours")),
        (interactions_df, ("interactions_total", "call_count", "email_count", "meeting_count",
                           "support_ticket_count", "complaint_count", "feedback_count",
                           "interactions_pending", "interactions_in_progress",
                           "interactions_completed", "interactions_cancelled", "complaints_90d",
                           "last_interaction_at")),
        (loyalty_df, ("tier", "points")),
        (churn_df, ("churn_probability", "churn_risk_band")),
        (clusters_df, ("cluster_id", "cluster_label")),
    ]  # fmt: skip
    for df, columns in optional:
        if df is not None:
            sides.append(df.select("customer_id", *columns))
        else:
            null_types = {
                "last_digital_date": "date", "is_app_adopter": "boolean", "avg_satisfaction":
                "double", "avg_resolution_hours": "double", "last_interaction_at": "timestamp",
                "tier": "string", "churn_probability": "double", "churn_risk_band": "string",
                "cluster_id": "int", "cluster_label": "string",
            }  # fmt: skip
            nulls += [F.lit(None).cast(null_types.get(c, "long")).alias(c) for c in columns]
    # Left joins on the profiles' customer_id give the same rows in any order. Each sort-merge
    # join copies the whole joined row so far into a new one: joining the narrow sides first
    # and the wide summary last halves the columns copied per customer (joins of 1M customers
    # in one JVM: 26-29 CPU-s instead of 33-59).
    joined_df = profiles_df
    for side_df in sorted(sides, key=lambda df: len(df.columns)):
        joined_df = joined_df.join(side_df, on="customer_id", how="left")
    if nulls:
        joined_df = joined_df.select("*", *nulls)
    as_of_lit = F.lit(as_of)
    status = _customer_status(as_of)
    derived_tier = loyalty_tier_for_spend(F.col("revenue_12m"))
    source_tier = F.initcap(F.trim(F.col("tier")))
    known_tier = source_tier.isin(*[name for name, _ in LOYALTY_TIERS])
    tier = F.when(known_tier, source_tier).otherwise(derived_tier)
    staged_df = joined_df.select(
        "*",
        status.alias("customer_status"),
        tier.alias("loyalty_tier"),
        F.coalesce(F.col("points"), F.floor(F.coalesce(F.col("revenue_12m"), F.lit(0.0))))
        .cast("long")
        .alias("loyalty_points"),
        F.col("tier").isNotNull().alias("is_loyalty_member"),
    )
    next_name, next_threshold = _next_tier(F.col("loyalty_tier"))
    tickets = F.coalesce(F.col("tickets_total"), F.lit(0))
    interactions = F.coalesce(F.col("interactions_total"), F.lit(0))
    service_cost = tickets * COST_PER_TICKET + interactions * COST_PER_INTERACTION
    churn_risk = (
        F.when(F.col("first_purchase_date").isNull(), F.lit("No Purchases"))
        .when(
            (F.col("customer_status") == "Churned") | (F.col("p_alive") < 0.3), F.lit("High Risk")
        )
        .when(
            (F.col("customer_status") == "At Risk")
            | (F.col("p_alive") < 0.7)
            | (F.coalesce(F.col("complaints_90d"), F.lit(0)) > 0),
            F.lit("Medium Risk"),
        )
        .otherwise(F.lit("Low Risk"))
    )
    lifecycle = (
        F.when(F.col("first_purchase_date").isNull(), F.lit("Prospect"))
        .when(days_between(as_of_lit, F.col("first_purchase_date")) <= 90, F.lit("New"))
        .when(F.col("recency_days") > 180, F.lit("Lapsed"))
        .when(F.col("revenue_90d") < 0.8 * F.col("revenue_prev_90d"), F.lit("Declining"))
        .when(F.col("revenue_90d") > 1.2 * F.col("revenue_prev_90d"), F.lit("Growing"))
        .otherwise(F.lit("Mature"))
    )
    tenure_start = F.coalesce(
        F.least(F.col("signup_date"), F.col("first_purchase_date")),
        F.col("signup_date"),
        F.col("first_purchase_date"),
    )
    return staged_df.select(
        # profile
        "customer_id", "customer_name", "email", "region", "customer_segment", "signup_date",
        days_between(as_of_lit, tenure_start).alias("tenure_days"),
        "birth_year",
        generation(F.col("birth_year")).alias("generation"),
        "account_status",
        # purchasing
        "first_purchase_date", "last_purchase_date",
        F.coalesce(F.col("orders"), F.lit(0)).cast("long").alias("orders"),
        F.coalesce(F.col("purchase_days"), F.lit(0)).cast("long").alias("purchase_days"),
        F.coalesce(F.col("total_spent"), F.lit(0.0)).alias("total_spent"),
        "avg_order_value", "favourite_category", "channels_used",
        F.coalesce(F.col("channel_count"), F.lit(0)).cast("int").alias("channel_count"),
        F.coalesce(F.col("revenue_12m"), F.lit(0.0)).alias("revenue_12m"),
        F.coalesce(F.col("revenue_90d"), F.lit(0.0)).alias("revenue_90d"),
        F.coalesce(F.col("revenue_prev_90d"), F.lit(0.0)).alias("revenue_prev_90d"),
        # RFM
        "recency_days", "frequency", "recency_weeks", "t_weeks", "monetary",
        "r_score", "f_score", "m_score", "rfm_score", "rfm_segment",
        # CLV
        F.coalesce(F.col("total_spent"), F.lit(0.0)).alias("historic_clv"),
        F.coalesce(F.col("gross_margin"), F.lit(0.0)).alias("historic_gross_margin"),
        "p_alive", "expected_purchases_12m", "expected_avg_value", "predicted_clv_12m",
        # health and churn
        _health_score(engagement_df is not None).alias("customer_health_score"),
        "customer_status",
        churn_risk.alias("risk_status"),
        # loyalty
        "loyalty_tier", "loyalty_points", "is_loyalty_member",
        next_name.alias("next_loyalty_tier"),
        F.when(next_threshold.isNotNull(), F.round(F.greatest(
            next_threshold - F.coalesce(F.col("revenue_12m"), F.lit(0.0)), F.lit(0.0)), 2
        )).alias("spend_to_next_tier"),
        lifecycle.alias("lifecycle_stage"),
        # engagement
        *[F.coalesce(F.col(c), F.lit(0)).cast("long").alias(c) for c in (
            "app_sessions_30d", "web_sessions_30d", "app_sessions_90d", "web_sessions_90d")],
        "last_digital_date",
        F.coalesce(F.col("is_app_adopter"), F.lit(False)).alias("is_app_adopter"),
        # support and interactions
        F.coalesce(F.col("tickets_total"), F.lit(0)).cast("long").alias("tickets_total"),
        F.coalesce(F.col("open_tickets"), F.lit(0)).cast("long").alias("open_tickets"),
        "avg_satisfaction", "avg_resolution_hours",
        *[F.coalesce(F.col(c), F.lit(0)).cast("long").alias(c) for c in (
            "interactions_total", "call_count", "email_count", "meeting_count",
            "support_ticket_count", "complaint_count", "feedback_count", "interactions_pending",
            "interactions_in_progress", "interactions_completed", "interactions_cancelled",
            "complaints_90d")],
        "last_interaction_at",
        # profitability
        F.coalesce(F.col("gross_margin"), F.lit(0.0)).alias("gross_margin"),
        F.round(service_cost.cast("double"), 2).alias("service_cost"),
        F.round(F.coalesce(F.col("gross_margin"), F.lit(0.0)) - service_cost, 2).alias(
            "net_contribution"
        ),
        # models
        "churn_probability",
        F.when(F.col("first_purchase_date").isNull(), F.lit("No Purchases"))
        .otherwise(F.col("churn_risk_band"))
        .alias("churn_risk_band"),
        F.col("cluster_id").cast("int").alias("cluster_id"),
        F.when(F.col("first_purchase_date").isNull(), F.lit("No Purchases"))
        .otherwise(F.col("cluster_label"))
        .alias("cluster_label"),
    )  # fmt: skip
