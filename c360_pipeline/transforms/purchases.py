"""Purchases: the enriched transaction fact, the daily pre-aggregate and the customer summary.

The pipeline reads the transactions bucketed by customer, so every per-customer aggregation
here runs without a shuffle: `build_daily_purchases` aggregates them per customer, day, category
and channel for the summary and the CLV models, and `build_category_preferences` groups them
per customer and category or channel directly.
"""

from __future__ import annotations

from datetime import date, timedelta

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from c360_pipeline.transforms.columns import days_between, safe_ratio

TREND_WINDOW_DAYS = 90
"""Revenue in the last 90 days is compared with the 90 days before it (purchase trend)."""


def build_transactions_fact(
    transactions_df: DataFrame, products_df: DataFrame | None, as_of: date
) -> DataFrame:
    """Accepted transactions up to the as-of date, with category and margin from products."""
    in_window_df = transactions_df.where(F.col("transaction_date") <= F.lit(as_of))
    if products_df is None:
        products_df = transactions_df.sparkSession.createDataFrame(
            [], "product_id string, category string, unit_cost double"
        )
    catalogue_df = products_df.select(
        "product_id",
        F.col("category").alias("product_category"),
        F.col("unit_cost"),
    )
    joined_df = in_window_df.join(F.broadcast(catalogue_df), on="product_id", how="left")
    quantity = F.coalesce(F.col("quantity"), F.lit(1))
    cost = quantity * F.col("unit_cost")
    return joined_df.select(
        F.col("transaction_id"),
        F.col("customer_id"),
        F.col("transaction_date"),
        F.col("amount").cast("double"),
        F.col("quantity").cast("int"),
        F.col("product_id"),
        F.coalesce(F.col("category"), F.col("product_category")).alias("category"),
        F.col("channel"),
        F.col("store_id"),
        F.col("region"),
        F.col("unit_cost").cast("double"),
        cost.cast("double").alias("cost"),
        (F.col("amount") - cost).cast("double").alias("gross_margin"),
    )


def build_daily_purchases(transactions_fact_df: DataFrame) -> DataFrame:
    """One row per customer, day, category and channel: revenue, orders, cost, margin, units.

    Grouped by customer first: transactions bucketed by customer aggregate without a shuffle.
    """
    return (
        transactions_fact_df.groupBy("customer_id", "transaction_date", "category", "channel")
        .agg(
            F.sum("amount").alias("revenue"),
            F.count(F.lit(1)).alias("orders"),
            F.sum("cost").alias("cost"),
            F.sum("gross_margin").alias("gross_margin"),
            F.sum(F.coalesce(F.col("quantity"), F.lit(1))).alias("units"),
        )
        .select(
            "customer_id",
            "transaction_date",
            "category",
            "channel",
            F.col("revenue").cast("double"),
            F.col("orders").cast("long"),
            F.col("cost").cast("double"),
            F.col("gross_margin").cast("double"),
            F.col("units").cast("long"),
        )
    )


def build_purchase_summary(daily_df: DataFrame, as_of: date) -> DataFrame:
    """Per customer: first/last purchase, orders, spend, trend windows and the BTYD summary.

    BTYD convention: frequency = distinct purchase days after the first; recency_weeks = days
    from first to last purchase / 7; t_weeks = days from first purchase to as-of / 7;
    monetary = mean revenue of the repeat purchase days (0 when frequency = 0).
    """
    as_of_lit = F.lit(as_of)
    recent_start = F.lit(as_of - timedelta(days=TREND_WINDOW_DAYS - 1))
    previous_start = F.lit(as_of - timedelta(days=2 * TREND_WINDOW_DAYS - 1))
    year_start = F.lit(as_of - timedelta(days=364))
    day = F.col("transaction_date")
    per_day_df = daily_df.groupBy("customer_id", "transaction_date").agg(
        F.sum("revenue").alias("day_revenue"),
        F.sum("orders").alias("day_orders"),
        F.sum("gross_margin").alias("day_margin"),
        F.sum("cost").alias("day_cost"),
    )
    summary_df = per_day_df.groupBy("customer_id").agg(
        F.min(day).alias("first_purchase_date"),
        F.max(day).alias("last_purchase_date"),
        F.min_by("day_revenue", day).alias("first_day_revenue"),
        F.count(F.lit(1)).alias("purchase_days"),
        F.sum("day_orders").alias("orders"),
        F.sum("day_revenue").alias("total_spent"),
        F.sum("day_margin").alias("gross_margin"),
        F.sum("day_cost").alias("cost_of_goods"),
        F.sum(F.when(day >= year_start, F.col("day_revenue"))).alias("revenue_12m"),
        F.sum(F.when(day >= recent_start, F.col("day_revenue"))).alias("revenue_90d"),
        F.sum(F.when((day >= previous_start) & (day < recent_start), F.col("day_revenue"))).alias(
            "revenue_prev_90d"
        ),
        F.sum(F.when(day >= recent_start, F.col("day_orders"))).alias("orders_90d"),
    )
    frequency = F.col("purchase_days") - 1
    return summary_df.select(
        "customer_id",
        "first_purchase_date",
        "last_purchase_date",
        F.col("orders").cast("long"),
        F.col("purchase_days").cast("long"),
        F.round("total_spent", 2).alias("total_spent"),
        F.round(safe_ratio(F.col("total_spent"), F.col("orders")), 2).alias("avg_order_value"),
        F.round("gross_margin", 2).alias("gross_margin"),
        F.round(F.coalesce("revenue_12m", F.lit(0.0)), 2).alias("revenue_12m"),
        F.round(F.coalesce("revenue_90d", F.lit(0.0)), 2).alias("revenue_90d"),
        F.round(F.coalesce("revenue_prev_90d", F.lit(0.0)), 2).alias("revenue_prev_90d"),
        F.coalesce("orders_90d", F.lit(0)).cast("long").alias("orders_90d"),
        days_between(as_of_lit, F.col("last_purchase_date")).alias("recency_days"),
        frequency.cast("int").alias("frequency"),
        (days_between(F.col("last_purchase_date"), F.col("first_purchase_date")) / 7.0).alias(
            "recency_weeks"
        ),
        (days_between(as_of_lit, F.col("first_purchase_date")) / 7.0).alias("t_weeks"),
        F.when(frequency > 0, (F.col("total_spent") - F.col("first_day_revenue")) / frequency)
        .otherwise(F.lit(0.0))
        .cast("double")
        .alias("monetary"),
    )


def build_category_preferences(transactions_fact_df: DataFrame) -> DataFrame:
    """Per customer: favourite category (most revenue) and the channels used.

    From the transactions themselves: grouped by customer and one column each, they reduce at
    once to a few rows per customer (and, clustered by customer, without a shuffle).
    """
    by_category_df = (
        transactions_fact_df.where(F.col("category").isNotNull())
        .groupBy("customer_id", "category")
        .agg(F.sum("amount").alias("revenue"))
    )
    # max over (revenue, category) is deterministic: on equal revenue the last name wins.
    favourite_df = by_category_df.groupBy("customer_id").agg(
        F.max(F.struct(F.col("revenue"), F.col("category"))).alias("_best"),
        F.count(F.lit(1)).alias("categories_bought"),
    )
    channels_df = (
        transactions_fact_df.where(F.col("channel").isNotNull())
        .select("customer_id", "channel")
        .distinct()
        .groupBy("customer_id")
        .agg(F.array_sort(F.collect_list("channel")).alias("_channels"))
    )
    joined_df = favourite_df.join(channels_df, on="customer_id", how="full")
    return joined_df.select(
        "customer_id",
        F.col("_best.category").alias("favourite_category"),
        F.coalesce(F.col("categories_bought"), F.lit(0)).cast("int").alias("categories_bought"),
        F.when(F.size("_channels") > 0, F.concat_ws(", ", "_channels")).alias("channels_used"),
        F.when(F.col("_channels").isNull(), F.lit(0))
        .otherwise(F.size("_channels"))
        .cast("int")
        .alias("channel_count"),
    )
