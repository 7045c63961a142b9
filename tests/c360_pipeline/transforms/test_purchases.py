"""Purchases transforms on hand-written rows, compared with hand-computed results."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from chispa import assert_approx_df_equality, assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from c360_pipeline import writers
from c360_pipeline.transforms.purchases import (
    MAX_MASK_CHANNELS,
    build_category_preferences,
    build_customer_categories,
    build_daily_purchases,
    build_purchase_summary,
    build_transactions_fact,
    days_by_raw_category,
    mask_channels,
)
from tests.conftest import executed_plan

PRECISION = 1e-9
AS_OF = date(2024, 6, 30)

TRANSACTIONS_SCHEMA = T.StructType(
    [
        T.StructField("transaction_id", T.StringType()),
        T.StructField("customer_id", T.StringType()),
        T.StructField("transaction_date", T.DateType()),
        T.StructField("amount", T.DoubleType()),
        T.StructField("product_id", T.StringType()),
        T.StructField("category", T.StringType()),
        T.StructField("quantity", T.IntegerType()),
        T.StructField("channel", T.StringType()),
        T.StructField("store_id", T.StringType()),
        T.StructField("region", T.StringType()),
    ]
)
PRODUCTS_SCHEMA = T.StructType(
    [
        T.StructField("product_id", T.StringType()),
        T.StructField("name", T.StringType()),
        T.StructField("category", T.StringType()),
        T.StructField("unit_price", T.DoubleType()),
        T.StructField("unit_cost", T.DoubleType()),
    ]
)
FACT_SCHEMA = T.StructType(
    [
        T.StructField("transaction_id", T.StringType()),
        T.StructField("customer_id", T.StringType()),
        T.StructField("transaction_date", T.DateType()),
        T.StructField("amount", T.DoubleType()),
        T.StructField("quantity", T.IntegerType()),
        T.StructField("product_id", T.StringType()),
        T.StructField("category", T.StringType()),
        T.StructField("channel", T.StringType()),
        T.StructField("store_id", T.StringType()),
        T.StructField("region", T.StringType()),
        T.StructField("unit_cost", T.DoubleType()),
        T.StructField("cost", T.DoubleType()),
        T.StructField("gross_margin", T.DoubleType()),
    ]
)
DAILY_SCHEMA = T.StructType(
    [
        T.StructField("customer_id", T.StringType()),
        T.StructField("transaction_date", T.DateType()),
        T.StructField("revenue", T.DoubleType()),
        T.StructField("orders", T.LongType()),
        T.StructField("cost", T.DoubleType()),
        T.StructField("gross_margin", T.DoubleType()),
        T.StructField("units", T.LongType()),
    ]
)
SUMMARY_SCHEMA = T.StructType(
    [
        T.StructField("customer_id", T.StringType()),
        T.StructField("first_purchase_date", T.DateType()),
        T.StructField("last_purchase_date", T.DateType()),
        T.StructField("orders", T.LongType()),
        T.StructField("purchase_days", T.LongType()),
        T.StructField("total_spent", T.DoubleType()),
        T.StructField("avg_order_value", T.DoubleType()),
        T.StructField("gross_margin", T.DoubleType()),
        T.StructField("revenue_12m", T.DoubleType()),
        T.StructField("revenue_90d", T.DoubleType()),
        T.StructField("revenue_prev_90d", T.DoubleType()),
        T.StructField("orders_90d", T.LongType()),
        T.StructField("recency_days", T.IntegerType()),
        T.StructField("frequency", T.IntegerType()),
        T.StructField("recency_weeks", T.DoubleType()),
        T.StructField("t_weeks", T.DoubleType()),
        T.StructField("monetary", T.DoubleType()),
    ]
)
PREFERENCES_SCHEMA = T.StructType(
    [
        T.StructField("customer_id", T.StringType()),
        T.StructField("favourite_category", T.StringType()),
        T.StructField("categories_bought", T.IntegerType()),
        T.StructField("channels_used", T.StringType()),
        T.StructField("channel_count", T.IntegerType()),
    ]
)
PRODUCT_ROWS = [
    ("p1", "Novel", "Media", 45.0, 30.0),
    ("p2", "Robot", "Toys", 60.0, 20.0),
    ("p3", "Lamp", None, 15.0, 5.0),  # a product without a category
]


def test_transactions_fact_joins_products(spark: SparkSession) -> None:
    transactions_df = spark.createDataFrame(
        [
            # own category wins over the product's; cost = 2 x 30
            ("t1", "c1", date(2024, 6, 1), 100.0, "p1", "Books", 2, "online", None, "North"),
            # on the as-of date: kept; no category -> the product's; no quantity -> 1 x 20
            ("t2", "c1", date(2024, 6, 30), 50.0, "p2", None, None, "in_store", "s1", "North"),
            # the day after the as-of date: dropped
            ("t3", "c2", date(2024, 7, 1), 80.0, "p1", "Books", 1, "online", None, "South"),
            # unknown product: no category, no cost, no margin
            ("t4", "c2", date(2024, 5, 15), 25.5, "p9", None, 3, "online", None, "South"),
            # no product at all
            ("t5", "c3", date(2024, 1, 1), 10.0, None, "Books", 1, None, None, None),
            # quantity 0 costs nothing; neither the row nor the product has a category
            ("t6", "c3", date(2024, 2, 1), 12.0, "p3", None, 0, "online", None, "East"),
        ],
        TRANSACTIONS_SCHEMA,
    )
    products_df = spark.createDataFrame(PRODUCT_ROWS, PRODUCTS_SCHEMA)

    actual_df = build_transactions_fact(transactions_df, products_df, AS_OF)

    expected_df = spark.createDataFrame(
        [
            ("t1", "c1", date(2024, 6, 1), 100.0, 2, "p1", "Books", "online", None, "North",
             30.0, 60.0, 40.0),
            ("t2", "c1", date(2024, 6, 30), 50.0, None, "p2", "Toys", "in_store", "s1", "North",
             20.0, 20.0, 30.0),
            ("t4", "c2", date(2024, 5, 15), 25.5, 3, "p9", None, "online", None, "South",
             None, None, None),
            ("t5", "c3", date(2024, 1, 1), 10.0, 1, None, "Books", None, None, None,
             None, None, None),
            ("t6", "c3", date(2024, 2, 1), 12.0, 0, "p3", None, "online", None, "East",
             5.0, 0.0, 12.0),
        ],
        FACT_SCHEMA,
    )  # fmt: skip
    assert_approx_df_equality(
        expected_df, actual_df, PRECISION, ignore_row_order=True, ignore_nullable=True
    )


def test_transactions_fact_without_products(spark: SparkSession) -> None:
    transactions_df = spark.createDataFrame(
        [
            ("t1", "c1", date(2024, 6, 1), 100.0, "p1", "Books", 2, "online", None, "North"),
            ("t2", "c1", date(2024, 6, 30), 50.0, "p2", None, None, "in_store", "s1", "North"),
            ("t3", "c2", date(2024, 7, 1), 80.0, "p1", "Books", 1, "online", None, "South"),
        ],
        TRANSACTIONS_SCHEMA,
    )

    actual_df = build_transactions_fact(transactions_df, None, AS_OF)

    expected_df = spark.createDataFrame(
        [
            ("t1", "c1", date(2024, 6, 1), 100.0, 2, "p1", "Books", "online", None, "North",
             None, None, None),
            ("t2", "c1", date(2024, 6, 30), 50.0, None, "p2", None, "in_store", "s1", "North",
             None, None, None),
        ],
        FACT_SCHEMA,
    )  # fmt: skip
    assert_approx_df_equality(
        expected_df, actual_df, PRECISION, ignore_row_order=True, ignore_nullable=True
    )


def test_daily_purchases(spark: SparkSession) -> None:
    fact_df = spark.createDataFrame(
        [
            ("t1", "c1", date(2024, 6, 1), 100.0, 2, "p1", "Books", "online", None, "North",
             30.0, 60.0, 40.0),
            # same customer, day, category and channel; unknown cost; no quantity counts 1 unit
            ("t2", "c1", date(2024, 6, 1), 20.0, None, "p9", "Books", "online", None, "North",
             None, None, None),
            ("t3", "c1", date(2024, 6, 1), 50.0, 1, "p2", "Toys", "in_store", "s1", "North",
             20.0, 20.0, 30.0),
            # null category and null channel are groups of their own
            ("t4", "c2", date(2024, 5, 15), 25.5, 3, None, None, "online", None, "South",
             None, None, None),
            ("t5", "c2", date(2024, 5, 16), 10.0, 1, "p4", "Books", None, None, "South",
             4.0, 4.0, 6.0),
        ],
        FACT_SCHEMA,
    )  # fmt: skip

    actual_df = build_daily_purchases(fact_df)

    # One row per customer and day, whatever the categories and channels; sums skip unknowns.
    expected_df = spark.createDataFrame(
        [
            ("c1", date(2024, 6, 1), 170.0, 3, 80.0, 70.0, 4),
            ("c2", date(2024, 5, 15), 25.5, 1, None, None, 3),
            ("c2", date(2024, 5, 16), 10.0, 1, 4.0, 6.0, 1),
        ],
        DAILY_SCHEMA,
    )
    assert_approx_df_equality(
        expected_df, actual_df, PRECISION, ignore_row_order=True, ignore_nullable=True
    )


def test_purchase_summary(spark: SparkSession) -> None:
    # As of 2024-06-30: the last 90 days start 2024-04-02, the 90 before that 2024-01-03,
    # the last 12 months (365 days) 2023-07-02.
    daily_df = spark.createDataFrame(
        [
            # c1: six purchase days, one boundary per day
            ("c1", date(2024, 6, 30), 50.0, 3, 18.0, 32.0, 3),  # as-of day
            ("c1", date(2024, 4, 2), 10.0, 1, 4.0, 6.0, 1),  # first of 90d
            ("c1", date(2024, 4, 1), 7.0, 1, 3.0, 4.0, 1),  # last of prev
            ("c1", date(2024, 1, 3), 5.0, 1, 2.0, 3.0, 1),  # first of prev
            ("c1", date(2023, 7, 2), 3.0, 1, 1.0, 2.0, 1),  # first of 12m
            ("c1", date(2023, 7, 1), 2.0, 1, 1.0, 1.0, 1),  # before 12m
            # c2: one purchase, the day before the previous 90 days; unknown cost and margin
            ("c2", date(2024, 1, 2), 40.0, 1, None, None, 1),
            # c3: three orders on one day
            ("c3", date(2024, 6, 20), 25.0, 3, 7.5, 5.0, 3),
        ],
        DAILY_SCHEMA,
    )

    actual_df = build_purchase_summary(daily_df, AS_OF)
    _check_calibration_columns(spark, daily_df)

    expected_df = spark.createDataFrame(
        [
            # total 77 over 8 orders = 9.625 -> 9.63 (half up); 12m = 77 - 2; 90d = 50 + 10;
            # prev 90d = 7 + 5; orders 90d = 3 + 1; 365 days first to last and first to as-of;
            # monetary = (77 - 2) / 5 repeat days
            ("c1", date(2023, 7, 1), date(2024, 6, 30), 8, 6, 77.0, 9.63, 48.0,
             75.0, 60.0, 12.0, 4, 0, 5, 365 / 7, 365 / 7, 15.0),
            ("c2", date(2024, 1, 2), date(2024, 1, 2), 1, 1, 40.0, 40.0, None,
             40.0, 0.0, 0.0, 0, 180, 0, 0.0, 180 / 7, 0.0),
            # 25 / 3 orders = 8.33
            ("c3", date(2024, 6, 20), date(2024, 6, 20), 3, 1, 25.0, 8.33, 5.0,
             25.0, 25.0, 0.0, 3, 10, 0, 0.0, 10 / 7, 0.0),
        ],
        SUMMARY_SCHEMA,
    )  # fmt: skip
    assert_approx_df_equality(
        expected_df, actual_df, PRECISION, ignore_row_order=True, ignore_nullable=True
    )


def _check_calibration_columns(spark: SparkSession, daily_df: DataFrame) -> None:
    """A holdout split on 2024-04-01: the BTYD summary up to it and the purchase days after,
    from the same pass (the rows of test_purchase_summary)."""
    split = date(2024, 4, 1)
    actual_df = build_purchase_summary(daily_df, AS_OF, calibration_end=split).select(
        "customer_id",
        "calibration_frequency",
        "calibration_recency_weeks",
        "calibration_t_weeks",
        "holdout_purchase_days",
    )
    expected_df = spark.createDataFrame(
        [
            # c1: 4 days up to the split (2023-07-01 .. 2024-04-01 = 275 days), 2 after
            ("c1", 3, 275 / 7, 275 / 7, 2),
            # c2: one day, 90 days before the split
            ("c2", 0, 0.0, 90 / 7, 0),
            # c3: first bought after the split: no calibration summary
            ("c3", None, None, None, 1),
        ],
        "customer_id string, calibration_frequency int, calibration_recency_weeks double, "
        "calibration_t_weeks double, holdout_purchase_days long",
    )
    assert_approx_df_equality(
        expected_df, actual_df, PRECISION, ignore_row_order=True, ignore_nullable=True
    )


def _fact_row(
    tid: str, customer: str, day: int, amount: float, quantity: int | None,
    category: str | None, margin: float | None, channel: str | None = "online",
) -> tuple[object, ...]:  # fmt: skip
    """A transactions fact row of June 2024 (no product, store, region or cost)."""
    return (tid, customer, date(2024, 6, day), amount, quantity, None, category, channel,
            None, None, None, None, margin)  # fmt: skip


def test_mask_channels_are_sorted_and_distinct_up_to_63() -> None:
    assert mask_channels(["web", None, "app", "web", "Store"]) == ("Store", "app", "web")
    assert mask_channels([]) == ()
    many = [f"channel {i:02d}" for i in range(MAX_MASK_CHANNELS)]
    assert mask_channels(many) == tuple(many)
    assert mask_channels([*many, "one more"]) is None


@pytest.mark.parametrize("from_masks", [False, True], ids=["from-transactions", "from-masks"])
def test_category_preferences(spark: SparkSession, from_masks: bool) -> None:
    def sale(
        tid: str, customer: str, amount: float, category: str | None, channel: str | None
    ) -> tuple[object, ...]:
        return _fact_row(tid, customer, 1, amount, 1, category, None, channel)

    fact_df = spark.createDataFrame(
        [
            # c1: Books 100 + 50 beats Toys 120; two channels, one of them twice
            sale("t1", "c1", 100.0, "Books", "online"),
            sale("t2", "c1", 50.0, "Books", "in_store"),
            sale("t3", "c1", 120.0, "Toys", "online"),
            # c2: a tie on revenue: the last name wins
            sale("t4", "c2", 80.0, "Books", "mobile_app"),
            sale("t5", "c2", 80.0, "Toys", "mobile_app"),
            # c3: no category; c4: no channel; c5: neither (no row at all)
            sale("t6", "c3", 30.0, None, "web"),
            sale("t7", "c4", 10.0, "Garden", None),
            sale("t8", "c5", 5.0, None, None),
        ],
        FACT_SCHEMA,
    )

    channels = mask_channels(row.channel for row in fact_df.collect()) if from_masks else None
    categories_df = build_customer_categories(fact_df, channels)
    assert ("channel_mask" in categories_df.columns) == from_masks
    actual_df = build_category_preferences(fact_df, categories_df, channels)

    expected_df = spark.createDataFrame(
        [
            ("c1", "Books", 2, "in_store, online", 2),
            ("c2", "Toys", 2, "mobile_app", 1),
            ("c3", None, 0, "web", 1),
            ("c4", "Garden", 1, None, 0),
        ],
        PREFERENCES_SCHEMA,
    )
    assert_df_equality(expected_df, actual_df, ignore_row_order=True, ignore_nullable=True)


def test_category_preferences_from_masks_without_any_channel(spark: SparkSession) -> None:
    fact_df = spark.createDataFrame(
        [
            _fact_row("t1", "c1", 1, 10.0, 1, "Books", None, channel=None),
            _fact_row("t2", "c2", 1, 5.0, 1, None, None, channel=None),
        ],
        FACT_SCHEMA,
    )
    channels = mask_channels(row.channel for row in fact_df.collect())
    assert channels == ()

    actual_df = build_category_preferences(
        fact_df, build_customer_categories(fact_df, channels), channels
    )

    # c2 has neither a named category nor a channel: no row, as without masks.
    expected_df = spark.createDataFrame([("c1", "Books", 1, None, 0)], PREFERENCES_SCHEMA)
    assert_df_equality(expected_df, actual_df, ignore_row_order=True, ignore_nullable=True)


CATEGORIES_SCHEMA = (
    "customer_id string, category string, revenue double, orders long, units long, "
    "gross_margin double, costed_revenue double, purchase_days long, first_date date, "
    "last_date date, named_orders long, named_revenue double"
)


@pytest.mark.parametrize("raw_category_days", [False, True], ids=["coalesced", "raw"])
def test_customer_categories(spark: SparkSession, raw_category_days: bool) -> None:
    fact_df = spark.createDataFrame(
        [
            # c1 Books: two rows on day 1 and one on day 3 -> 2 purchase days; one margin unknown
            _fact_row("t1", "c1", 1, 100.0, 2, "Books", 40.0),
            _fact_row("t2", "c1", 1, 20.0, None, "Books", None),
            _fact_row("t3", "c1", 3, 30.0, 1, "Books", 10.0),
            # c1 Toys on day 1 too: a day of its own in Toys
            _fact_row("t4", "c1", 1, 50.0, 1, "Toys", 5.0),
            # c2: no category on two days (one of them twice) -> 'Unknown', not named
            _fact_row("t5", "c2", 2, 7.0, 1, None, None),
            _fact_row("t6", "c2", 2, 8.0, 3, None, 2.0),
            _fact_row("t7", "c2", 9, 5.0, 1, None, 1.0),
        ],
        FACT_SCHEMA,
    )

    actual_df = build_customer_categories(fact_df, raw_category_days=raw_category_days)

    expected_df = spark.createDataFrame(
        [
            ("c1", "Books", 150.0, 3, 3, 50.0, 130.0, 2, date(2024, 6, 1), date(2024, 6, 3),
             3, 150.0),
            ("c1", "Toys", 50.0, 1, 1, 5.0, 50.0, 1, date(2024, 6, 1), date(2024, 6, 1), 1, 50.0),
            ("c2", "Unknown", 20.0, 3, 5, 3.0, 13.0, 2, date(2024, 6, 2), date(2024, 6, 9),
             0, None),
        ],
        CATEGORIES_SCHEMA,
    )  # fmt: skip
    assert_approx_df_equality(
        expected_df, actual_df, PRECISION, ignore_row_order=True, ignore_nullable=True
    )


def test_customer_categories_merge_null_and_unknown_days(spark: SparkSession) -> None:
    # A null category and the literal 'Unknown' on one day: one 'Unknown' purchase day, of
    # which only the literal's order is named. The raw day rows would count that day twice.
    fact_df = spark.createDataFrame(
        [
            _fact_row("t1", "c1", 4, 10.0, 1, None, None),
            _fact_row("t2", "c1", 4, 6.0, 1, "Unknown", 1.0),
        ],
        FACT_SCHEMA,
    )
    assert not days_by_raw_category(null_categories=1, unknown_categories=1)

    actual_df = build_customer_categories(fact_df)

    expected_df = spark.createDataFrame(
        [("c1", "Unknown", 16.0, 2, 2, 1.0, 6.0, 1, date(2024, 6, 4), date(2024, 6, 4), 1, 6.0)],
        CATEGORIES_SCHEMA,
    )
    assert_approx_df_equality(
        expected_df, actual_df, PRECISION, ignore_row_order=True, ignore_nullable=True
    )


def test_days_by_raw_category_unless_both_null_and_unknown() -> None:
    assert days_by_raw_category(null_categories=0, unknown_categories=0)
    assert days_by_raw_category(null_categories=5, unknown_categories=0)
    assert days_by_raw_category(null_categories=0, unknown_categories=3)
    assert not days_by_raw_category(null_categories=5, unknown_categories=3)


def test_day_aggregations_stream_over_the_sorted_fact(spark: SparkSession, tmp_path: Path) -> None:
    """Over the fact as the pipeline writes it (bucketed by customer, sorted by customer, day
    and category), the daily purchases and the customer categories' day rows aggregate the
    sorted rows as they come: no hash table by day, no sort and no shuffle added."""
    rows = [
        _fact_row("t1", "c1", 1, 100.0, 2, "Books", 40.0),
        _fact_row("t2", "c1", 1, 50.0, 1, "Toys", 5.0),
        _fact_row("t3", "c2", 2, 7.0, 1, None, None),
        _fact_row("t4", "c3", 5, 9.0, 1, "Books", 3.0),
    ]
    name = "c360_test_sorted_fact"
    fact_df = writers.write_bucketed_table(
        spark.createDataFrame(rows, FACT_SCHEMA), str(tmp_path / "fact"), name,
        bucket_by="customer_id", buckets=2,
        sort_by=("customer_id", "transaction_date", "category"),
    )  # fmt: skip
    try:
        for df in (
            build_daily_purchases(fact_df),
            build_customer_categories(fact_df, raw_category_days=True),
        ):
            plan = executed_plan(df)
            assert "Exchange" not in plan
            assert "Sort [" not in plan
            day_aggregations = re.findall(r"\w+Aggregate\(keys?=\[[^\]]*transaction_date", plan)
            assert day_aggregations
            assert all(a.startswith("SortAggregate") for a in day_aggregations), plan
        categories = build_customer_categories(fact_df, raw_category_days=True).collect()
        assert sorted((r.customer_id, r.category, r.purchase_days) for r in categories) == [
            ("c1", "Books", 1), ("c1", "Toys", 1), ("c2", "Unknown", 1), ("c3", "Books", 1),
        ]  # fmt: skip
    finally:
        writers.drop_catalog_table(spark, name)
