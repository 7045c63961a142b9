"""Insight tables on hand-written rows, compared value by value with hand-computed results."""

from __future__ import annotations

from datetime import date

import pytest
from chispa import assert_approx_df_equality, assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from c360_pipeline.transforms.customer_360 import LOYALTY_TIERS
from c360_pipeline.transforms.insights import (
    LOYALTY_TIER_THRESHOLDS,
    build_category_associations,
    build_category_baskets,
    build_category_insights,
    build_cross_sell_candidates,
    build_revenue_monthly,
)
from c360_pipeline.transforms.purchases import build_customer_categories

PRECISION = 1e-9

TRANSACTIONS_SCHEMA = T.StructType(
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

CUSTOMERS_SCHEMA = T.StructType(
    [
        T.StructField("customer_id", T.StringType()),
        T.StructField("name", T.StringType()),
        T.StructField("email", T.StringType()),
        T.StructField("signup_date", T.DateType()),
        T.StructField("birth_date", T.DateType()),
        T.StructField("birth_year", T.IntegerType()),
        T.StructField("region", T.StringType()),
        T.StructField("segment", T.StringType()),
        T.StructField("status", T.StringType()),
    ]
)

BASKETS_SCHEMA = T.StructType(
    [
        T.StructField("customer_id", T.StringType()),
        T.StructField("categories", T.ArrayType(T.StringType())),
    ]
)

ASSOCIATIONS_SCHEMA = T.StructType(
    [
        T.StructField("antecedent", T.StringType()),
        T.StructField("consequent", T.StringType()),
        T.StructField("antecedent_size", T.IntegerType()),
        T.StructField("support", T.DoubleType()),
        T.StructField("confidence", T.DoubleType()),
        T.StructField("lift", T.DoubleType()),
        T.StructField("customers", T.LongType()),
    ]
)

CANDIDATES_SCHEMA = T.StructType(
    [
        T.StructField("customer_id", T.StringType()),
        T.StructField("opportunity_type", T.StringType()),
        T.StructField("recommendation", T.StringType()),
        T.StructField("score", T.DoubleType()),
        T.StructField("detail", T.StringType()),
    ]
)


@pytest.fixture
def transactions_df(spark: SparkSession) -> DataFrame:
    """Six transactions: unknown costs, a null quantity, a null category and a null channel."""
    rows = [
        ("t1", "c1", date(2024, 1, 5), 100.0, 2, "p1", "Books", "online", "s1", "North",
         30.0, 60.0, 40.0),
        ("t2", "c1", date(2024, 1, 20), 50.0, 1, "p2", "Books", "online", "s1", "North",
         None, None, None),
        ("t3", "c2", date(2024, 1, 10), 80.0, 4, "p3", "Toys", None, "s2", "South",
         10.0, 40.0, 40.0),
        ("t4", "c2", date(2024, 2, 3), 30.0, None, "p4", None, "mobile_app", "s2", "South",
         None, None, None),
        ("t5", "c3", date(2024, 1, 12), 60.0, None, "p3", "Toys", None, "s2", "South",
         10.0, None, None),
        ("t6", "c1", date(2024, 2, 20), 20.0, 1, "p5", "Toys", "in_store", "s1", "North",
         15.0, 15.0, 5.0),
    ]  # fmt: skip
    return spark.createDataFrame(rows, TRANSACTIONS_SCHEMA)


def test_revenue_monthly(spark: SparkSession, transactions_df: DataFrame) -> None:
    customers_df = spark.createDataFrame(
        [
            ("c1", "Ann", "ann@x.org", date(2023, 5, 1), None, 1980, "North", "Premium", "active"),
            ("c2", "Bob", "bob@x.org", date(2023, 6, 1), None, None, "South", None, "active"),
            # c3 has no customers row: its segment is Unknown as well.
        ],
        CUSTOMERS_SCHEMA,
    )
    expected_df = spark.createDataFrame(
        [
            (date(2024, 1, 1), "Premium", "Books", "online", 150.0, 2, 1, 40.0, 3),
            (date(2024, 1, 1), "Unknown", "Toys", "unknown", 140.0, 2, 2, 40.0, 4),
            (date(2024, 2, 1), "Unknown", "Unknown", "mobile_app", 30.0, 1, 1, None, None),
            (date(2024, 2, 1), "Premium", "Toys", "in_store", 20.0, 1, 1, 5.0, 1),
        ],
        "month_date date, customer_segment string, category string, channel string, "
        "revenue double, orders long, customers long, gross_margin double, units long",
    )

    actual_df = build_revenue_monthly(transactions_df, customers_df)

    assert_approx_df_equality(
        expected_df, actual_df, PRECISION, ignore_row_order=True, ignore_nullable=True
    )


def test_category_insights(spark: SparkSession, transactions_df: DataFrame) -> None:
    # Total revenue 340. Books: c1 on two days (repeat), margin known on t1 only -> 40 / 100.
    # Toys: three customers once each, margin known on t3 and t6 -> 45 / (80 + 20).
    rows = [
        ("Books", 150.0, 2, 1, 75.0, 3, 40.0, 0.4, 150.0 / 340.0, 1.0,
         date(2024, 1, 5), date(2024, 1, 20)),
        ("Toys", 160.0, 3, 3, 160.0 / 3.0, 5, 45.0, 0.45, 160.0 / 340.0, 0.0,
         date(2024, 1, 10), date(2024, 2, 20)),
        ("Unknown", 30.0, 1, 1, 30.0, None, None, None, 30.0 / 340.0, 0.0,
         date(2024, 2, 3), date(2024, 2, 3)),
    ]  # fmt: skip
    expected_df = spark.createDataFrame(
        rows,
        "category string, revenue double, orders long, customers long, avg_order_value double, "
        "units long, gross_margin double, margin_pct double, revenue_share double, "
        "repeat_customer_rate double, first_sale_date date, last_sale_date date",
    )

    actual_df = build_category_insights(build_customer_categories(transactions_df))

    assert_approx_df_equality(
        expected_df, actual_df, PRECISION, ignore_row_order=True, ignore_nullable=True
    )


def test_category_baskets(spark: SparkSession, transactions_df: DataFrame) -> None:
    # c2's null-category purchase is left out of its basket; c1's categories come sorted.
    expected_df = spark.createDataFrame(
        [("c1", ["Books", "Toys"]), ("c2", ["Toys"]), ("c3", ["Toys"])], BASKETS_SCHEMA
    )

    actual_df = build_category_baskets(build_customer_categories(transactions_df))

    assert_df_equality(expected_df, actual_df, ignore_row_order=True, ignore_nullable=True)


def test_category_associations(spark: SparkSession) -> None:
    baskets_df = spark.createDataFrame(
        [
            ("c1", ["Books", "Games", "Toys"]),
            ("c2", ["Books", "Games", "Toys"]),
            ("c3", ["Books", "Toys"]),
            ("c4", ["Books"]),
            ("c5", ["Games"]),
            ("c6", ["Music"]),
        ],
        BASKETS_SCHEMA,
    )
    # N = 6; freq: Books 4, Toys 3, Games 3, Music 1 (below min count ceil(0.3 x 6) = 2),
    # {Books, Toys} 3, {Books, Games} 2, {Games, Toys} 2, {Books, Games, Toys} 2.
    # Books -> Games has confidence 2/4 = 0.5 < 0.6 and is dropped.
    expected_df = spark.createDataFrame(
        [
            ("Books", "Toys", 1, 3 / 6, 3 / 4, (3 / 4) / (3 / 6), 3),
            ("Toys", "Books", 1, 3 / 6, 3 / 3, 1.0 / (4 / 6), 3),
            ("Games", "Books", 1, 2 / 6, 2 / 3, (2 / 3) / (4 / 6), 2),
            ("Games", "Toys", 1, 2 / 6, 2 / 3, (2 / 3) / (3 / 6), 2),
            ("Toys", "Games", 1, 2 / 6, 2 / 3, (2 / 3) / (3 / 6), 2),
            ("Books + Games", "Toys", 2, 2 / 6, 2 / 2, 1.0 / (3 / 6), 2),
            ("Books + Toys", "Games", 2, 2 / 6, 2 / 3, (2 / 3) / (3 / 6), 2),
            ("Games + Toys", "Books", 2, 2 / 6, 2 / 2, 1.0 / (4 / 6), 2),
        ],
        ASSOCIATIONS_SCHEMA,
    )

    actual_df = build_category_associations(baskets_df, min_support=0.3, min_confidence=0.6)

    assert_approx_df_equality(
        expected_df, actual_df, PRECISION, ignore_row_order=True, ignore_nullable=True
    )


def test_cross_sell_candidates(spark: SparkSession) -> None:
    customer_360_df = spark.createDataFrame(
        [
            ("c1", "Active", "online", 1, "Silver", "Gold", 150.0, "Books"),
            ("c2", "Churned", "in_store", 1, "Bronze", "Silver", 350.0, "Books"),
            ("c3", "New", "mobile_app", 1, "Platinum", None, None, "Toys"),
            ("c4", "At Risk", "in_store, online", 2, "Gold", "Platinum", 500.0, None),
            ("c5", "Active", None, 0, None, None, None, "Books"),
            ("c6", "Active", "in_store, mobile_app", 2, "Silver", "Gold", 0.0, None),
        ],
        "customer_id string, customer_status string, channels_used string, channel_count int, "
        "loyalty_tier string, next_loyalty_tier string, spend_to_next_tier double, "
        "favourite_category string",
    )
    associations_df = spark.createDataFrame(
        [
            ("Books", "Toys", 1, 0.4, 0.75, 1.5, 4),
            ("Books", "Games", 1, 0.2, 0.5, 1.2, 2),
            ("Books", "Music", 1, 0.2, 0.6, 1.5, 2),
            ("Books + Games", "Toys", 2, 0.2, 1.0, 2.0, 2),
            ("Toys", "Books", 1, 0.4, 0.6, 1.5, 4),
            ("Toys", "Music", 1, 0.1, 0.2, 0.8, 1),
        ],
        ASSOCIATIONS_SCHEMA,
    )
    baskets_df = spark.createDataFrame(
        [("c1", ["Books"]), ("c2", ["Books", "Toys"]), ("c3", ["Books", "Toys"])],
        BASKETS_SCHEMA,
    )
    # c2 is Churned (no invitation) and 350 from Silver (> 0.2 x 400); c3 is Platinum and has
    # bought Books, leaving only Toys -> Music (lift below 1); c4 has two channels; c5 has no
    # basket, so nothing counts as bought; c6's loyalty tier lags spend that already reaches
    # Gold. Books -> Toys beats Books -> Music on confidence at equal lift (c1, c5); c2 has
    # Toys, so Music (lift 1.5) beats Games (1.2); the size-2 antecedent never matches.
    rows = [
        ("c1", "channel_expansion", "mobile_app", 1.0,
         "Invite to mobile_app: buys only via online"),
        ("c3", "channel_expansion", "online", 1.0,
         "Invite to online: buys only via mobile_app"),
        ("c1", "tier_upgrade", "Gold", 1.0 - 150.0 / 1200.0,
         "Spend 150.00 more in 12 months to reach Gold (1200)"),
        ("c4", "tier_upgrade", "Platinum", 1.0 - 500.0 / 3000.0,
         "Spend 500.00 more in 12 months to reach Platinum (3000)"),
        ("c6", "tier_upgrade", "Gold", 1.0,
         "Spend 0.00 more in 12 months to reach Gold (1200)"),
        ("c1", "category_association", "Toys", 1.5,
         "Buyers of Books also buy Toys (lift 1.50, confidence 75%)"),
        ("c2", "category_association", "Music", 1.5,
         "Buyers of Books also buy Music (lift 1.50, confidence 60%)"),
        ("c5", "category_association", "Toys", 1.5,
         "Buyers of Books also buy Toys (lift 1.50, confidence 75%)"),
    ]  # fmt: skip
    expected_df = spark.createDataFrame(rows, CANDIDATES_SCHEMA)

    actual_df = build_cross_sell_candidates(customer_360_df, associations_df, baskets_df)

    assert_approx_df_equality(
        expected_df, actual_df, PRECISION, ignore_row_order=True, ignore_nullable=True
    )


def test_tier_thresholds_match_customer_360() -> None:
    assert dict(LOYALTY_TIERS) == LOYALTY_TIER_THRESHOLDS
