"""Digital engagement, support and interaction summaries on hand-written rows."""

from __future__ import annotations

from datetime import UTC, date, datetime

from chispa import assert_approx_df_equality, assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from c360_pipeline.transforms.engagement import (
    build_digital_engagement,
    build_interaction_summary,
    build_support_summary,
)

PRECISION = 1e-9
AS_OF = date(2024, 6, 30)
# As of 2024-06-30 the last 30 days start 2024-06-01 and the last 90 days 2024-04-02.


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """A UTC timestamp (the session time zone), independent of the test machine's zone."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


EVENTS_SCHEMA = T.StructType(
    [
        T.StructField("customer_id", T.StringType()),
        T.StructField("event_date", T.DateType()),
        T.StructField("channel", T.StringType()),
        T.StructField("event_type", T.StringType()),
        T.StructField("session_count", T.IntegerType()),
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
TICKETS_SCHEMA = T.StructType(
    [
        T.StructField("ticket_id", T.StringType()),
        T.StructField("customer_id", T.StringType()),
        T.StructField("opened_at", T.TimestampType()),
        T.StructField("closed_at", T.TimestampType()),
        T.StructField("ticket_type", T.StringType()),
        T.StructField("status", T.StringType()),
        T.StructField("priority", T.StringType()),
        T.StructField("satisfaction_score", T.IntegerType()),
        T.StructField("channel", T.StringType()),
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
INTERACTIONS_SCHEMA = T.StructType(
    [
        T.StructField("interaction_id", T.StringType()),
        T.StructField("customer_id", T.StringType()),
        T.StructField("interaction_type", T.StringType()),
        T.StructField("status", T.StringType()),
        T.StructField("interaction_at", T.TimestampType()),
        T.StructField("channel", T.StringType()),
        T.StructField("duration_minutes", T.IntegerType()),
    ]
)
INTERACTION_SUMMARY_SCHEMA = T.StructType(
    [
        T.StructField("customer_id", T.StringType()),
        *[
            T.StructField(name, T.LongType())
            for name in (
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
        ],
        T.StructField("last_interaction_at", T.TimestampType()),
        T.StructField("days_since_interaction", T.IntegerType()),
    ]
)


def test_digital_engagement(spark: SparkSession) -> None:
    events_df = spark.createDataFrame(
        [
            ("c1", date(2024, 6, 30), "app", "login", 2),  # the as-of day: 30d and 90d
            ("c1", date(2024, 6, 1), "web", "browse", 3),  # first day of 30d
            ("c1", date(2024, 5, 31), "app", "search", None),  # 90d only; null counts 1
            ("c1", date(2024, 4, 2), "web", "browse", 4),  # first day of 90d
            ("c1", date(2024, 4, 1), "app", "login", 5),  # before 90d: total only
            ("c1", date(2024, 7, 1), "app", "login", 100),  # after as-of: ignored
            ("c2", date(2024, 3, 1), "WEB", "browse", 2),  # web only, old, upper case
            ("c3", date(2024, 1, 1), "App", "login", None),  # used the app, long ago
            ("c3", date(2024, 6, 15), None, "browse", 1),  # unknown channel: total only
            ("c4", date(2024, 7, 2), "app", "login", 1),  # only after as-of: no row
        ],
        EVENTS_SCHEMA,
    )

    actual_df = build_digital_engagement(events_df, AS_OF)

    expected_df = spark.createDataFrame(
        [
            ("c1", 2, 3, 3, 7, 15, date(2024, 6, 30), True, True),
            ("c2", 0, 0, 0, 0, 2, date(2024, 3, 1), False, False),
            ("c3", 0, 0, 0, 0, 2, date(2024, 6, 15), False, True),
        ],
        ENGAGEMENT_SCHEMA,
    )
    assert_df_equality(expected_df, actual_df, ignore_row_order=True, ignore_nullable=True)


def test_support_summary(spark: SparkSession) -> None:
    tickets_df = spark.createDataFrame(
        [
            # c1: open at the last second of the as-of day; no satisfaction answer
            ("k1", "c1", at(2024, 6, 30, 23, 59, 59), None, "billing", "open", "low", None,
             "email"),
            # closed after 36 hours; opened on the first instant of the 90 days
            ("k2", "c1", at(2024, 4, 2), at(2024, 4, 3, 12), "delivery", "closed", "high", 4,
             "phone"),
            # pending: open; opened before the 90 days
            ("k3", "c1", at(2024, 4, 1, 23), None, "returns", "pending", "low", 2, "chat"),
            # closed by status though without a closing time: not open, no resolution time
            ("k4", "c1", at(2024, 5, 1, 10), None, "account", "Closed", "low", 5, "chat"),
            # opened on the first instant after the as-of day: ignored
            ("k5", "c1", at(2024, 7, 1), None, "billing", "open", "low", 1, "email"),
            # c2: resolved in 1.5 and 24 1/3 hours (status unknown), no satisfaction answers
            ("k6", "c2", at(2024, 1, 10, 8), at(2024, 1, 10, 9, 30), "technical", "resolved",
             "low", None, "web_form"),
            ("k7", "c2", at(2024, 1, 31), at(2024, 2, 1, 0, 20), "technical", None, "low", None,
             "web_form"),
            # c3: no status and no closing time: open
            ("k8", "c3", at(2024, 6, 1, 12), None, "billing", None, None, None, None),
            # c4: only tickets after the as-of date: no row
            ("k9", "c4", at(2024, 7, 5), None, "billing", "open", "low", None, "email"),
        ],
        TICKETS_SCHEMA,
    )  # fmt: skip

    actual_df = build_support_summary(tickets_df, AS_OF)

    expected_df = spark.createDataFrame(
        [
            # satisfaction (4 + 2 + 5) / 3 = 3.666.. -> 3.67; resolution k2 only
            ("c1", 4, 2, 3, 3.67, 36.0, at(2024, 6, 30, 23, 59, 59)),
            # resolution (1.5 + 24.333..) / 2 = 12.9166.. -> 12.9
            ("c2", 2, 0, 0, None, 12.9, at(2024, 1, 31)),
            ("c3", 1, 1, 1, None, None, at(2024, 6, 1, 12)),
        ],
        SUPPORT_SCHEMA,
    )
    assert_approx_df_equality(
        expected_df, actual_df, PRECISION, ignore_row_order=True, ignore_nullable=True
    )


def test_ticket_status_is_the_current_one(spark: SparkSession) -> None:
    # docs/tables.md: open = not closed by D *and* the current status is not closed/resolved/
    # cancelled, so a ticket resolved after D does not count as open on D.
    tickets_df = spark.createDataFrame(
        [
            ("k1", "c1", at(2024, 6, 20), at(2024, 7, 2), "billing", "resolved", "low", 4,
             "email"),
            ("k2", "c1", at(2024, 6, 21), None, "billing", "open", "low", None, "email"),
        ],
        TICKETS_SCHEMA,
    )  # fmt: skip

    actual_df = build_support_summary(tickets_df, AS_OF)

    # k1 is neither open nor resolved by D: no resolution time
    expected_df = spark.createDataFrame(
        [("c1", 2, 1, 2, 4.0, None, at(2024, 6, 21))], SUPPORT_SCHEMA
    )
    assert_approx_df_equality(
        expected_df, actual_df, PRECISION, ignore_row_order=True, ignore_nullable=True
    )


def test_interaction_summary(spark: SparkSession) -> None:
    interactions_df = spark.createDataFrame(
        [
            ("i1", "c1", "call", "completed", at(2024, 6, 30, 23), "phone", 5),  # the last
            ("i2", "c1", "Complaint", "pending", at(2024, 4, 2), "email", 10),  # first of 90d
            ("i3", "c1", "complaint", "completed", at(2024, 4, 1, 23, 59, 59), "phone", 7),
            ("i4", "c1", "email", "cancelled", at(2024, 7, 1), "email", None),  # after as-of
            ("i5", "c1", "meeting", "In_Progress", at(2024, 5, 1), "in_person", 30),
            ("i6", "c2", "feedback", "completed", at(2024, 3, 1, 10), "app", None),
            ("i7", "c2", "support_ticket", "cancelled", at(2024, 2, 1), "chat", None),
            ("i8", "c2", "chat", None, at(2024, 1, 15), None, None),  # unknown type and status
            ("i9", "c3", "call", "pending", at(2024, 7, 3), "phone", 1),  # only after as-of
        ],
        INTERACTIONS_SCHEMA,
    )

    actual_df = build_interaction_summary(interactions_df, AS_OF)

    expected_df = spark.createDataFrame(
        [
            # total, call, email, meeting, ticket, complaint, feedback,
            # pending, in progress, completed, cancelled, complaints 90d
            ("c1", 4, 1, 0, 1, 0, 2, 0, 1, 1, 2, 0, 1, at(2024, 6, 30, 23), 0),
            ("c2", 3, 0, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0, at(2024, 3, 1, 10), 121),
        ],
        INTERACTION_SUMMARY_SCHEMA,
    )
    assert_df_equality(expected_df, actual_df, ignore_row_order=True, ignore_nullable=True)
