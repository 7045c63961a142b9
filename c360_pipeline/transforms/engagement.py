"""Digital engagement, support and interaction features per customer (as of a date)."""

from __future__ import annotations

from datetime import date, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from c360_pipeline.schemas import INTERACTIONS
from c360_pipeline.transforms.columns import days_between

INTERACTION_TYPES = ("call", "email", "meeting", "support_ticket", "complaint", "feedback")
INTERACTION_STATUSES = ("pending", "in_progress", "completed", "cancelled")


def build_digital_engagement(events_df: DataFrame, as_of: date) -> DataFrame:
    """App and web sessions over the last 30 and 90 days, last activity, app adoption."""
    start_30 = F.lit(as_of - timedelta(days=29))
    start_90 = F.lit(as_of - timedelta(days=89))
    day = F.col("event_date")
    sessions = F.coalesce(F.col("session_count"), F.lit(1))
    is_app = F.lower(F.col("channel")) == "app"
    is_web = F.lower(F.col("channel")) == "web"

    def window_sum(start: Column, channel: Column) -> Column:
        return F.sum(F.when((day >= start) & channel, sessions).otherwise(F.lit(0)))

    agg_df = (
        events_df.where(day <= F.lit(as_of))
        .groupBy("customer_id")
        .agg(
            window_sum(start_30, is_app).alias("app_sessions_30d"),
            window_sum(start_30, is_web).alias("web_sessions_30d"),
            window_sum(start_90, is_app).alias("app_sessions_90d"),
            window_sum(start_90, is_web).alias("web_sessions_90d"),
            F.sum(sessions).alias("digital_sessions_total"),
            F.max(day).alias("last_digital_date"),
            F.max(F.when(is_app, day)).alias("last_app_date"),
        )
    )
    return agg_df.select(
        "customer_id",
        *[
            F.col(c).cast("long").alias(c)
            for c in (
                "app_sessions_30d",
                "web_sessions_30d",
                "app_sessions_90d",
                "web_sessions_90d",
            )
        ],
        F.col("digital_sessions_total").cast("long"),
        "last_digital_date",
        (F.col("app_sessions_90d") > 0).alias("is_app_adopter"),
        (F.col("last_app_date").isNotNull()).alias("has_used_app"),
    )


def build_support_summary(tickets_df: DataFrame, as_of: date) -> DataFrame:
    """Tickets, open tickets, mean satisfaction and mean resolution hours per customer."""
    opened = F.col("opened_at")
    as_of_end = F.lit(as_of + timedelta(days=1)).cast("timestamp")
    in_window_df = tickets_df.where(opened < as_of_end)
    closed_by_as_of = F.col("closed_at").isNotNull() & (F.col("closed_at") < as_of_end)
    is_open = ~closed_by_as_of & ~F.lower(F.coalesce(F.col("status"), F.lit(""))).isin(
        "closed", "resolved", "cancelled"
    )
    resolution_hours = F.when(
        closed_by_as_of,
        (F.unix_seconds(F.col("closed_at")) - F.unix_seconds(opened)) / 3600.0,
    )
    agg_df = in_window_df.groupBy("customer_id").agg(
        F.count(F.lit(1)).alias("tickets_total"),
        F.sum(F.when(is_open, 1).otherwise(0)).alias("open_tickets"),
        F.sum(F.when(opened >= F.lit(as_of - timedelta(days=89)).cast("timestamp"), 1).otherwise(0))
        .alias("tickets_90d"),
        F.avg("satisfaction_score").alias("avg_satisfaction"),
        F.avg(resolution_hours).alias("avg_resolution_hours"),
        F.max(opened).alias("last_ticket_at"),
    )  # fmt: skip
    return agg_df.select(
        "customer_id",
        F.col("tickets_total").cast("long"),
        F.col("open_tickets").cast("long"),
        F.col("tickets_90d").cast("long"),
        F.round("avg_satisfaction", 2).alias("avg_satisfaction"),
        F.round("avg_resolution_hours", 1).alias("avg_resolution_hours"),
        "last_ticket_at",
    )


INTERACTIONS_FACT_SCHEMA = ", ".join(f"{c.name} {c.dtype}" for c in INTERACTIONS.columns)
"""Schema (DDL) of the published `interactions` table: the accepted source's columns, as typed."""


def build_interactions_fact(interactions_df: DataFrame, as_of: date) -> DataFrame:
    """Accepted interactions up to the end of the as-of day: the per-customer history the API
    reads (the same cut `build_interaction_summary` counts)."""
    as_of_end = F.lit(as_of + timedelta(days=1)).cast("timestamp")
    in_window_df = interactions_df.where(F.col("interaction_at") < as_of_end)
    return in_window_df.select(*INTERACTIONS.column_names)


def build_interaction_summary(interactions_df: DataFrame, as_of: date) -> DataFrame:
    """Interactions per customer: total, by type, by status, complaints in 90 days, last one."""
    as_of_end = F.lit(as_of + timedelta(days=1)).cast("timestamp")
    kind = F.lower(F.col("interaction_type"))
    status = F.lower(F.col("status"))
    start_90 = F.lit(as_of - timedelta(days=89)).cast("timestamp")
    agg_df = (
        interactions_df.where(F.col("interaction_at") < as_of_end)
        .groupBy("customer_id")
        .agg(
            F.count(F.lit(1)).alias("interactions_total"),
            *[
                F.sum(F.when(kind == t, 1).otherwise(0)).alias(f"{t}_count")
                for t in INTERACTION_TYPES
            ],
            *[
                F.sum(F.when(status == s, 1).otherwise(0)).alias(f"interactions_{s}")
                for s in INTERACTION_STATUSES
            ],
            F.sum(
                F.when((kind == "complaint") & (F.col("interaction_at") >= start_90), 1).otherwise(
                    0
                )
            ).alias("complaints_90d"),
            F.max("interaction_at").alias("last_interaction_at"),
        )
    )
    counts = [
        "interactions_total",
        *[f"{t}_count" for t in INTERACTION_TYPES],
        *[f"interactions_{s}" for s in INTERACTION_STATUSES],
        "complaints_90d",
    ]
    return agg_df.select(
        "customer_id",
        *[F.col(c).cast("long").alias(c) for c in counts],
        "last_interaction_at",
        days_between(F.lit(as_of), F.col("last_interaction_at")).alias("days_since_interaction"),
    )
