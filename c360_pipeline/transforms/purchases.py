"""Purchases: the enriched transaction fact, the daily pre-aggregate and the customer summary.

The pipeline reads the transactions bucketed by customer, so every per-customer aggregation
here runs without a shuffle: `build_daily_purchases` aggregates them per customer and day for
the summary, the CLV models, the holdout check and the churn features (one pass for all),
`build_customer_categories` per customer and category for the preferences, baskets and
category insights, and `build_category_preferences` per customer and channel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from c360_pipeline.transforms.columns import days_between, safe_ratio

UNKNOWN_CATEGORY = "Unknown"
"""The category name of transactions without one, where they are grouped by category."""

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
    """One row per customer and purchase day: revenue, orders, cost, margin, units.

    Grouped by customer first: transactions bucketed by customer aggregate without a shuffle.
    The grain is the customer-day, not customer, day, category and channel: every reader of it
    works per customer and day, and the finer grain barely reduced the rows (19.5M of 20.0M at
    1M customers) while costing a hash aggregation of its own. The category and channel views
    aggregate the fact themselves.
    """
    return (
        transactions_fact_df.groupBy("customer_id", "transaction_date")
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
            F.col("revenue").cast("double"),
            F.col("orders").cast("long"),
            F.col("cost").cast("double"),
            F.col("gross_margin").cast("double"),
            F.col("units").cast("long"),
        )
    )


DAY_MEASURES = {
    "revenue": "day_revenue",
    "orders": "day_orders",
    "gross_margin": "day_margin",
    "cost": "day_cost",
}
"""`build_daily_purchases` measures and their names in the per-customer-day frame."""


def customer_days(daily_df: DataFrame, *measures: str) -> DataFrame:
    """`build_daily_purchases` rows as the per-customer-day frame that the per-customer
    aggregations read (`customer_id`, `transaction_date` and the DAY_MEASURES names of
    `measures`, default all)."""
    return daily_df.select(
        "customer_id",
        "transaction_date",
        *[F.col(m).alias(DAY_MEASURES[m]) for m in measures or DAY_MEASURES],
    )


def build_purchase_summary(
    daily_df: DataFrame,
    as_of: date,
    calibration_end: date | None = None,
    extra_aggregations: Mapping[str, Column] | None = None,
) -> DataFrame:
    """Per customer: first/last purchase, orders, spend, trend windows and the BTYD summary,
    from `build_daily_purchases` (one row per customer and purchase day).

    BTYD convention: frequency = distinct purchase days after the first; recency_weeks = days
    from first to last purchase / 7; t_weeks = days from first purchase to as-of / 7;
    monetary = mean revenue of the repeat purchase days (0 when frequency = 0).

    With `calibration_end` (a holdout check's split), the same pass also gives the BTYD summary
    of the purchases up to it (`calibration_frequency`, `calibration_recency_weeks`,
    `calibration_t_weeks`; null for a customer whose first purchase is later) and
    `holdout_purchase_days`, the distinct purchase days after it.

    `extra_aggregations` (name -> aggregate) are computed in the same pass over the
    per-customer-day rows (`transaction_date`, `day_revenue`, `day_orders`, `day_margin`,
    `day_cost`) and kept as columns: another consumer's per-customer purchase features
    (the churn model's) then need no pass of their own.
    """
    extra = dict(extra_aggregations or {})
    as_of_lit = F.lit(as_of)
    recent_start = F.lit(as_of - timedelta(days=TREND_WINDOW_DAYS - 1))
    previous_start = F.lit(as_of - timedelta(days=2 * TREND_WINDOW_DAYS - 1))
    year_start = F.lit(as_of - timedelta(days=364))
    day = F.col("transaction_date")
    per_day_df = customer_days(daily_df)
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
        *_calibration_aggregations(calibration_end),
        *[column.alias(name) for name, column in extra.items()],
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
        *_calibration_columns(calibration_end),
        *extra,
    )


def _calibration_aggregations(calibration_end: date | None) -> list[Column]:
    if calibration_end is None:
        return []
    day = F.col("transaction_date")
    in_calibration = day <= F.lit(calibration_end)
    return [
        F.max(F.when(in_calibration, day)).alias("calibration_last_date"),
        F.count(F.when(in_calibration, 1)).alias("calibration_days"),
        F.count(F.when(~in_calibration, 1)).alias("holdout_days"),
    ]


def _calibration_columns(calibration_end: date | None) -> list[Column]:
    if calibration_end is None:
        return []
    # A customer who bought before the split first bought on first_purchase_date.
    bought = F.col("calibration_days") > 0
    first = F.col("first_purchase_date")
    return [
        F.when(bought, F.col("calibration_days") - 1).cast("int").alias("calibration_frequency"),
        F.when(bought, days_between(F.col("calibration_last_date"), first) / 7.0).alias(
            "calibration_recency_weeks"
        ),
        F.when(bought, days_between(F.lit(calibration_end), first) / 7.0).alias(
            "calibration_t_weeks"
        ),
        F.col("holdout_days").cast("long").alias("holdout_purchase_days"),
    ]


MAX_MASK_CHANNELS = 63
"""Most distinct channels `build_customer_categories` records as bits of a long."""


def mask_channels(channels: Iterable[str | None]) -> tuple[str, ...] | None:
    """The distinct channels, sorted, for a `channel_mask`; None when there are too many."""
    distinct = tuple(sorted({c for c in channels if c is not None}))
    return distinct if len(distinct) <= MAX_MASK_CHANNELS else None


def _channel_bit(channels: Sequence[str]) -> Column:
    """1 << (the index of the row's channel in `channels`); null for a null channel."""
    if not channels:
        return F.lit(None).cast("long")
    channel = F.col("channel")
    bit = F.when(channel == channels[0], F.lit(1).cast("long"))
    for index in range(1, len(channels)):
        bit = bit.when(channel == channels[index], F.lit(1 << index).cast("long"))
    return bit


def days_by_raw_category(null_categories: int, unknown_categories: int) -> bool:
    """Whether `build_customer_categories` may take its per-day rows by the raw category, given
    how many transactions have a null category and how many the literal 'Unknown': yes unless
    there are both (a customer's day with both would then count twice in 'Unknown')."""
    return null_categories == 0 or unknown_categories == 0


def build_customer_categories(
    transactions_fact_df: DataFrame,
    channels: Sequence[str] | None = None,
    *,
    raw_category_days: bool = False,
) -> DataFrame:
    """One row per customer and category ('Unknown' for a null category): what the category
    preferences, the baskets and the category insights need, in one pass over the transactions
    (grouped by customer first: clustered transactions are not shuffled).

    revenue, orders, units (sum of known quantities), gross_margin (sum of known margins),
    costed_revenue (revenue of the rows with a known margin), purchase_days (distinct days),
    first_date, last_date; named_orders and named_revenue count only the rows whose category is
    not null (a literal 'Unknown' category and null categories share a row).

    `channels`: every channel of the transactions (`mask_channels`). Given, the rows also get
    `channel_mask`, bit i set when channels[i] was used (null when no row had a channel), from
    which `build_category_preferences` takes the channels used without a pass of its own.

    `raw_category_days`: take the per-day rows by (customer, day, raw category) and merge null
    into 'Unknown' after, which is right when no customer's day has both
    (`days_by_raw_category`). Over transactions clustered by customer and sorted by customer,
    day and category (the pipeline's fact), Spark then aggregates the day rows as they stream
    by instead of in a hash table of every customer-day of a bucket: 5.7-6.6 s instead of
    10.2-12.5 s (JVM CPU 10.7-12.6 s instead of 19.7-24.2 s) at 1M customers, in one warm JVM.
    """
    named = F.col("category").isNotNull()
    masks = [] if channels is None else [F.bit_or(_channel_bit(channels)).alias("channel_mask")]
    category = F.coalesce(F.col("category"), F.lit(UNKNOWN_CATEGORY)).alias("category")
    day_keys: list[Column | str] = (
        ["customer_id", "transaction_date", "category"]
        if raw_category_days
        else ["customer_id", category, "transaction_date"]
    )
    by_day_df = transactions_fact_df.groupBy(*day_keys).agg(
        F.sum("amount").alias("revenue"),
        F.count(F.lit(1)).alias("orders"),
        F.sum("quantity").alias("units"),
        F.sum("gross_margin").alias("gross_margin"),
        F.sum(F.when(F.col("gross_margin").isNotNull(), F.col("amount"))).alias("costed_revenue"),
        F.count(F.when(named, 1)).alias("named_orders"),
        F.sum(F.when(named, F.col("amount"))).alias("named_revenue"),
        *masks,
    )
    return by_day_df.groupBy("customer_id", category if raw_category_days else "category").agg(
        F.sum("revenue").alias("revenue"),
        F.sum("orders").alias("orders"),
        F.sum("units").alias("units"),
        F.sum("gross_margin").alias("gross_margin"),
        F.sum("costed_revenue").alias("costed_revenue"),
        F.count(F.lit(1)).alias("purchase_days"),
        F.min("transaction_date").alias("first_date"),
        F.max("transaction_date").alias("last_date"),
        F.sum("named_orders").alias("named_orders"),
        F.sum("named_revenue").alias("named_revenue"),
        *([] if channels is None else [F.bit_or("channel_mask").alias("channel_mask")]),
    )


def build_category_preferences(
    transactions_fact_df: DataFrame,
    customer_categories_df: DataFrame,
    channels: Sequence[str] | None = None,
) -> DataFrame:
    """Per customer: favourite category (most revenue) and the channels used.

    Categories from `build_customer_categories` (of the same transactions). Channels from its
    `channel_mask` when it was built with `channels` (the same list goes here), else from the
    transactions themselves: grouped by customer and channel, they reduce at once to a few rows
    per customer (and, clustered by customer, without a shuffle), but that is a pass over every
    transaction (categories and preferences took 16.4-17.5 s with masks and 20.1-22.0 s without
    at 1M customers, in one warm JVM).
    """
    if channels is not None:
        return _preferences_from_masks(customer_categories_df, channels)
    by_category_df = customer_categories_df.where(F.col("named_orders") > 0).select(
        "customer_id", "category", F.col("named_revenue").alias("revenue")
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
    return _preferences(joined_df)


def _preferences_from_masks(
    customer_categories_df: DataFrame, channels: Sequence[str]
) -> DataFrame:
    named = F.col("named_orders") > 0
    by_customer_df = customer_categories_df.groupBy("customer_id").agg(
        F.max(F.when(named, F.struct(F.col("named_revenue"), F.col("category")))).alias("_best"),
        F.count(F.when(named, 1)).alias("categories_bought"),
        F.bit_or("channel_mask").alias("_mask"),
    )
    used = F.filter(
        F.array(*[F.lit(c) for c in channels]).cast("array<string>"),
        lambda _, i: F.getbit(F.col("_mask"), i) == 1,
    )
    # A customer with neither a named category nor a channel has no row, as from the join.
    return _preferences(
        by_customer_df.where((F.col("categories_bought") > 0) | F.col("_mask").isNotNull()).select(
            "customer_id", "_best", "categories_bought", used.alias("_channels")
        )
    )


def _preferences(df: DataFrame) -> DataFrame:
    """The preference columns from `_best` (max (revenue, category)), `categories_bought` and
    `_channels` (sorted distinct channels)."""
    return df.select(
        "customer_id",
        F.col("_best.category").alias("favourite_category"),
        F.coalesce(F.col("categories_bought"), F.lit(0)).cast("int").alias("categories_bought"),
        F.when(F.size("_channels") > 0, F.concat_ws(", ", "_channels")).alias("channels_used"),
        F.when(F.col("_channels").isNull(), F.lit(0))
        .otherwise(F.size("_channels"))
        .cast("int")
        .alias("channel_count"),
    )
