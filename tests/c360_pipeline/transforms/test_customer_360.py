"""Customer profiles, loyalty tiers and the assembled customer_360 on hand-made customers.

The health scores below are worked by hand from the formula in the module docstring:
1 + 4 x (0.40 exp(-recency_days / 90) + 0.20 trend + 0.20 support + 0.20 engagement).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from chispa import assert_approx_df_equality, assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from c360_pipeline.transforms.customer_360 import (
    build_customer_360,
    build_customer_profiles,
    loyalty_tier_for_spend,
)

PRECISION = 1e-9
AS_OF = date(2024, 6, 30)

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
PROFILES_SCHEMA = T.StructType(
    [
        T.StructField("customer_id", T.StringType()),
        T.StructField("customer_name", T.StringType()),
        T.StructField("email", T.StringType()),
        T.StructField("region", T.StringType()),
        T.StructField("customer_segment", T.StringType()),
        T.StructField("signup_date", T.DateType()),
        T.StructField("birth_year", T.IntegerType()),
        T.StructField("account_status", T.StringType()),
    ]
)
SCORED_SUMMARY_SCHEMA = T.StructType(
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
        T.StructField("r_score", T.IntegerType()),
        T.StructField("f_score", T.IntegerType()),
        T.StructField("m_score", T.IntegerType()),
        T.StructField("rfm_score", T.StringType()),
        T.StructField("rfm_segment", T.StringType()),
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
CLV_SCHEMA = T.StructType(
    [
        T.StructField("customer_id", T.StringType()),
        T.StructField("p_alive", T.DoubleType()),
        T.StructField("expected_purchases_12m", T.DoubleType()),
        T.StructField("expected_avg_value", T.DoubleType()),
        T.StructField("predicted_clv_12m", T.DoubleType()),
    ]
)
ENGAGEMENT_SCHEMA = T.StructType(
    [
        T.StructField("customer_id", T.StringType()),
        T.StructField("app_sessions_30d", T.LongType()),
        T.StructField("web_sessions_30d", T.LongType()),
        T.StructField("app_sessions_90d", T.LongType()),
        T.StructField("web_sessions_90d", T.LongType()),
        T.StructField("digital_sessions_total", T.LongType()),
        T.StructField("last_digital_date", T.DateType()),
        T.StructField("is_app_adopter", T.BooleanType()),
        T.StructField("has_used_app", T.BooleanType()),
    ]
)
SUPPORT_SCHEMA = T.StructType(
    [
        T.StructField("customer_id", T.StringType()),
        T.StructField("tickets_total", T.LongType()),
        T.StructField("open_tickets", T.LongType()),
        T.StructField("tickets_90d", T.LongType()),
        T.StructField("avg_satisfaction", T.DoubleType()),
        T.StructField("avg_resolution_hours", T.DoubleType()),
        T.StructField("last_ticket_at", T.TimestampType()),
    ]
)
INTERACTION_COUNTS = (
    "interactions_total",
    "call_count",
    "email_count",
    "meeting_count",
    "support_ticket_count",
    "complaint_count",
    "feedback_count",
    "interactions_pending",
    "interactions_in_progress",
    "interactions_completed",
    "interactions_cancelled",
    "complaints_90d",
)
INTERACTIONS_SCHEMA = T.StructType(
    [
        T.StructField("customer_id", T.StringType()),
        *[T.StructField(c, T.LongType()) for c in INTERACTION_COUNTS],
        T.StructField("last_interaction_at", T.TimestampType()),
        T.StructField("days_since_interaction", T.IntegerType()),
    ]
)
LOYALTY_SCHEMA = T.StructType(
    [
        T.StructField("customer_id", T.StringType()),
        T.StructField("tier", T.StringType()),
        T.StructField("points", T.LongType()),
        T.StructField("enrolled_date", T.DateType()),
    ]
)
CHECKED_SCHEMA = T.StructType(
    [
        T.StructField("customer_id", T.StringType()),
        T.StructField("tenure_days", T.IntegerType()),
        T.StructField("generation", T.StringType()),
        T.StructField("orders", T.LongType()),
        T.StructField("total_spent", T.DoubleType()),
        T.StructField("customer_status", T.StringType()),
        T.StructField("lifecycle_stage", T.StringType()),
        T.StructField("risk_status", T.StringType()),
        T.StructField("customer_health_score", T.DoubleType()),
        T.StructField("loyalty_tier", T.StringType()),
        T.StructField("loyalty_points", T.LongType()),
        T.StructField("is_loyalty_member", T.BooleanType()),
        T.StructField("next_loyalty_tier", T.StringType()),
        T.StructField("spend_to_next_tier", T.DoubleType()),
        T.StructField("service_cost", T.DoubleType()),
        T.StructField("net_contribution", T.DoubleType()),
    ]
)


def _at(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def _profiles_df(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(
        [
            # p1, p2: never bought; p1 signed up 60 days ago, p2 546 days ago
            ("p1", "Pia", "pia@example.com", "North", "Consumer", date(2024, 5, 1), 1990,
             "active"),
            ("p2", "Per", None, "South", "Consumer", date(2023, 1, 1), 1997, "inactive"),
            ("n1", "Nia", None, "East", "Corporate", date(2024, 5, 10), 1975, "active"),
            ("a1", "Ali", None, "West", "Consumer", date(2023, 2, 1), 1960, "active"),
            ("r1", "Rui", None, None, None, None, None, None),
            ("c1", "Cat", None, "North", "Small Business", date(2022, 5, 1), 2013, "closed"),
        ],
        PROFILES_SCHEMA,
    )  # fmt: skip


def _scored_summary_df(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(
        [
            # n1: first purchase 46 days ago, last 10; all revenue in the last 90 days
            ("n1", date(2024, 5, 15), date(2024, 6, 20), 2, 2, 120.0, 60.0, 40.0,
             120.0, 120.0, 0.0, 2, 10, 1, 36 / 7, 46 / 7, 70.0, 5, 2, 2, "522",
             "Potential Loyalists"),
            # a1: active (5 days), growing (900 > 1.2 x 300), 1,500 in 12 months
            ("a1", date(2023, 1, 10), date(2024, 6, 25), 20, 15, 3000.0, 150.0, 600.0,
             1500.0, 900.0, 300.0, 6, 5, 14, 532 / 7, 537 / 7, 200.0, 5, 5, 5, "555",
             "Champions"),
            # r1: last purchase 120 days ago (at risk), declining (0 < 0.8 x 200)
            ("r1", date(2023, 3, 1), date(2024, 3, 2), 5, 4, 800.0, 160.0, 150.0,
             450.0, 0.0, 200.0, 0, 120, 3, 367 / 7, 487 / 7, 250.0, 2, 3, 4, "234", "At Risk"),
            # c1: last purchase 212 days ago (churned, lapsed), negative margin
            ("c1", date(2022, 6, 1), date(2023, 12, 1), 3, 3, 300.0, 100.0, -10.0,
             100.0, 0.0, 0.0, 0, 212, 2, 548 / 7, 760 / 7, 100.0, 1, 2, 2, "122", "Hibernating"),
        ],
        SCORED_SUMMARY_SCHEMA,
    )  # fmt: skip


def _preferences_df(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(
        [
            ("n1", "Books", 1, "online", 1),
            ("a1", "Toys", 3, "in_store, online", 2),
            ("r1", "Books", 1, "online", 1),
            ("c1", None, 0, None, 0),
        ],
        PREFERENCES_SCHEMA,
    )


def _clv_df(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(
        [
            ("n1", 0.95, 1.2, 65.0, 78.0),
            ("a1", 0.9, 8.0, 190.0, 1520.0),
            ("r1", 0.5, 1.0, 230.0, 230.0),
            ("c1", 0.2, 0.1, 95.0, 9.5),
        ],
        CLV_SCHEMA,
    )


def _engagement_df(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(
        [
            # 10 sessions in 90 days: ln(11) / ln(21) = 0.78761
            ("n1", 1, 2, 3, 7, 12, date(2024, 6, 28), True, True),
            # 30 sessions: ln(31) / ln(21) > 1 -> 1
            ("r1", 0, 5, 0, 30, 40, date(2024, 6, 1), False, False),
            ("c1", 0, 0, 0, 0, 5, date(2023, 11, 1), False, True),
            # a1 has no digital row: engagement 0
        ],
        ENGAGEMENT_SCHEMA,
    )


def _support_df(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(
        [
            ("n1", 1, 1, 1, 4.0, None, _at(2024, 6, 25)),  # 4 / 5 - 0.2 = 0.6
            ("r1", 2, 0, 0, None, 12.5, _at(2024, 2, 1)),  # unanswered: 0.6
            ("c1", 3, 3, 0, 2.0, None, _at(2023, 12, 2)),  # 2 / 5 - 0.6 < 0 -> 0
            ("p1", 1, 1, 1, None, None, _at(2024, 6, 1)),  # a prospect with a ticket
        ],
        SUPPORT_SCHEMA,
    )


def _interaction_row(
    customer_id: str, total: int, complaints: int, complaints_90d: int, last_at: datetime
) -> tuple[object, ...]:
    counts = dict.fromkeys(INTERACTION_COUNTS, 0)
    counts.update(
        interactions_total=total,
        call_count=total - complaints,
        complaint_count=complaints,
        interactions_completed=total,
        complaints_90d=complaints_90d,
    )
    return (customer_id, *counts.values(), last_at, (AS_OF - last_at.date()).days)


def _interactions_df(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(
        [
            _interaction_row("n1", 2, 0, 0, _at(2024, 6, 1)),
            _interaction_row("a1", 3, 1, 1, _at(2024, 6, 10)),  # a recent complaint
            _interaction_row("c1", 1, 0, 0, _at(2023, 10, 1)),
        ],
        INTERACTIONS_SCHEMA,
    )


def _loyalty_df(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(
        [
            ("r1", "silver", 777, date(2023, 3, 1)),
            ("c1", "PLATINUM", None, date(2022, 6, 1)),  # no points: floor(revenue_12m)
            ("p2", "gold", 50, date(2023, 1, 1)),
        ],
        LOYALTY_SCHEMA,
    )


def _checked(customer_360_df: DataFrame) -> DataFrame:
    return customer_360_df.select(*CHECKED_SCHEMA.fieldNames())


def test_customer_profiles_from_customers(spark: SparkSession) -> None:
    customers_df = spark.createDataFrame(
        [
            # the birth date wins over the birth year
            ("c1", "Ann", "ann@example.com", date(2020, 1, 1), date(1990, 5, 1), 1985, "North",
             "Consumer", "active"),
            ("c2", "Bob", None, None, None, 1975, "South", "Corporate", "closed"),
            ("c3", None, None, None, None, None, None, None, None),
        ],
        CUSTOMERS_SCHEMA,
    )  # fmt: skip
    # c9 bought but has no customer record: the customer table is the universe
    summary_df = spark.createDataFrame([("c1",), ("c9",)], "customer_id string")

    actual_df = build_customer_profiles(customers_df, summary_df)

    expected_df = spark.createDataFrame(
        [
            ("c1", "Ann", "ann@example.com", "North", "Consumer", date(2020, 1, 1), 1990,
             "active"),
            ("c2", "Bob", None, "South", "Corporate", None, 1975, "closed"),
            ("c3", None, None, None, None, None, None, None),
        ],
        PROFILES_SCHEMA,
    )  # fmt: skip
    assert_df_equality(expected_df, actual_df, ignore_row_order=True, ignore_nullable=True)


def test_customer_profiles_without_customers(spark: SparkSession) -> None:
    summary_df = spark.createDataFrame([("c1",), ("c9",)], "customer_id string")

    actual_df = build_customer_profiles(None, summary_df)

    expected_df = spark.createDataFrame(
        [
            ("c1", None, None, None, None, None, None, None),
            ("c9", None, None, None, None, None, None, None),
        ],
        PROFILES_SCHEMA,
    )
    assert_df_equality(expected_df, actual_df, ignore_row_order=True, ignore_nullable=True)


def test_loyalty_tier_for_spend(spark: SparkSession) -> None:
    spend_df = spark.createDataFrame(
        [(None,), (0.0,), (399.99,), (400.0,), (1199.99,), (1200.0,), (2999.99,), (3000.0,)],
        "spend double",
    )

    actual_df = spend_df.select("spend", loyalty_tier_for_spend(F.col("spend")).alias("tier"))

    expected_df = spark.createDataFrame(
        [
            (None, "Bronze"),
            (0.0, "Bronze"),
            (399.99, "Bronze"),
            (400.0, "Silver"),
            (1199.99, "Silver"),
            (1200.0, "Gold"),
            (2999.99, "Gold"),
            (3000.0, "Platinum"),
        ],
        "spend double, tier string",
    )
    assert_approx_df_equality(
        expected_df, actual_df, PRECISION, ignore_row_order=True, ignore_nullable=True
    )


def test_customer_360(spark: SparkSession) -> None:
    actual_df = build_customer_360(
        _profiles_df(spark),
        _scored_summary_df(spark),
        _preferences_df(spark),
        _clv_df(spark),
        _engagement_df(spark),
        _support_df(spark),
        _interactions_df(spark),
        _loyalty_df(spark),
        AS_OF,
    )

    expected_df = spark.createDataFrame(
        [
            # never bought, signed up 60 days ago; a ticket costs 15 with no margin to pay it
            ("p1", 60, "Millennial", 0, 0.0, "New", "Prospect", "No Purchases", 1.0,
             "Bronze", 0, False, "Silver", 400.0, 15.0, -15.0),
            # never bought, signed up 546 days ago; a loyalty member from the source
            ("p2", 546, "Gen Z", 0, 0.0, "Churned", "Prospect", "No Purchases", 1.0,
             "Gold", 50, True, "Platinum", 3000.0, 0.0, 0.0),
            # tenure from the signup (before the first purchase); health
            # 1 + 4 (0.4 e^(-10/90) + 0.2 x 1 + 0.2 x 0.6 + 0.2 x 0.78761) = 4.3418
            ("n1", 51, "Gen X", 2, 120.0, "New", "New", "Low Risk", 4.34,
             "Bronze", 120, False, "Silver", 280.0, 15.0 + 2 * 5.0, 15.0),
            # tenure from the first purchase (before the signup); a complaint -> Medium;
            # trend 0.5 + 600 / 1800; no digital row -> 0:
            # 1 + 4 (0.4 e^(-5/90) + 0.2 x 0.83333 + 0.2 x 1 + 0) = 3.9802
            ("a1", 537, "Boomer", 20, 3000.0, "Active", "Growing", "Medium Risk", 3.98,
             "Gold", 1500, False, "Platinum", 1500.0, 15.0, 585.0),
            # source tier 'silver'; 1 + 4 (0.4 e^(-120/90) + 0 + 0.2 x 0.6 + 0.2 x 1) = 2.7018
            ("r1", 487, None, 5, 800.0, "At Risk", "Declining", "Medium Risk", 2.70,
             "Silver", 777, True, "Gold", 750.0, 30.0, 120.0),
            # source tier 'PLATINUM' (top: no next tier); trend 0.5 with no recent revenue:
            # 1 + 4 (0.4 e^(-212/90) + 0.2 x 0.5 + 0 + 0) = 1.5517
            ("c1", 791, None, 3, 300.0, "Churned", "Lapsed", "High Risk", 1.55,
             "Platinum", 100, True, None, None, 3 * 15.0 + 5.0, -60.0),
        ],
        CHECKED_SCHEMA,
    )  # fmt: skip
    assert_approx_df_equality(
        expected_df, _checked(actual_df), PRECISION, ignore_row_order=True, ignore_nullable=True
    )


def test_customer_360_without_optional_sources(spark: SparkSession) -> None:
    actual_df = build_customer_360(
        _profiles_df(spark),
        _scored_summary_df(spark),
        _preferences_df(spark),
        _clv_df(spark),
        None,
        None,
        None,
        None,
        AS_OF,
    )

    # Engagement is 0.5 without digital data, support 1 without tickets, tiers are derived.
    expected_df = spark.createDataFrame(
        [
            ("p1", 60, "Millennial", 0, 0.0, "New", "Prospect", "No Purchases", 1.0,
             "Bronze", 0, False, "Silver", 400.0, 0.0, 0.0),
            ("p2", 546, "Gen Z", 0, 0.0, "Churned", "Prospect", "No Purchases", 1.0,
             "Bronze", 0, False, "Silver", 400.0, 0.0, 0.0),
            # 1 + 4 (0.4 e^(-10/90) + 0.2 + 0.2 + 0.1) = 4.4317
            ("n1", 51, "Gen X", 2, 120.0, "New", "New", "Low Risk", 4.43,
             "Bronze", 120, False, "Silver", 280.0, 0.0, 40.0),
            # 1 + 4 (0.4 e^(-5/90) + 0.2 x 0.83333 + 0.2 + 0.1) = 4.3802; no complaint now
            ("a1", 537, "Boomer", 20, 3000.0, "Active", "Growing", "Low Risk", 4.38,
             "Gold", 1500, False, "Platinum", 1500.0, 0.0, 600.0),
            # 1 + 4 (0.4 e^(-120/90) + 0 + 0.2 + 0.1) = 2.6218; 450 in 12 months -> Silver
            ("r1", 487, None, 5, 800.0, "At Risk", "Declining", "Medium Risk", 2.62,
             "Silver", 450, False, "Gold", 750.0, 0.0, 150.0),
            # 1 + 4 (0.4 e^(-212/90) + 0.1 + 0.2 + 0.1) = 2.7517
            ("c1", 791, None, 3, 300.0, "Churned", "Lapsed", "High Risk", 2.75,
             "Bronze", 100, False, "Silver", 300.0, 0.0, -10.0),
        ],
        CHECKED_SCHEMA,
    )  # fmt: skip
    assert_approx_df_equality(
        expected_df, _checked(actual_df), PRECISION, ignore_row_order=True, ignore_nullable=True
    )

    # The missing sources' columns are there, typed, and empty.
    missing_df = actual_df.where(F.col("customer_id") == "a1").select(
        "app_sessions_90d",
        "is_app_adopter",
        "last_digital_date",
        "tickets_total",
        "avg_satisfaction",
        "complaints_90d",
        "last_interaction_at",
    )
    expected_missing_df = spark.createDataFrame(
        [(0, False, None, 0, None, 0, None)],
        "app_sessions_90d long, is_app_adopter boolean, last_digital_date date, "
        "tickets_total long, avg_satisfaction double, complaints_90d long, "
        "last_interaction_at timestamp",
    )
    assert_df_equality(expected_missing_df, missing_df, ignore_nullable=True)
