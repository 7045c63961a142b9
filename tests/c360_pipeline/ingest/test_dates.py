"""Date parsing and day/month order decisions on hand-written values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from c360_pipeline.ingest.dates import (
    DateOrderError,
    DateProfile,
    is_ambiguous,
    parse_timestamp,
    profile_date_columns,
)

PARSED_SCHEMA = T.StructType(
    [
        T.StructField("value", T.StringType()),
        T.StructField("dmy", T.TimestampType()),
        T.StructField("mdy", T.TimestampType()),
        T.StructField("undecided", T.TimestampType()),
    ]
)


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    """A UTC timestamp (the session time zone), independent of the test machine's zone."""
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def _parsed_every_way(spark: SparkSession, values: list[str | None]) -> DataFrame:
    values_df = spark.createDataFrame([(v,) for v in values], "value string")
    value = F.col("value")
    return values_df.select(
        "value",
        parse_timestamp(value, "dmy").alias("dmy"),
        parse_timestamp(value, "mdy").alias("mdy"),
        parse_timestamp(value, None).alias("undecided"),
    )


def test_iso_and_compact_formats_ignore_the_order(spark: SparkSession) -> None:
    rows = [
        ("2024-03-05", at(2024, 3, 5)),
        (" 2024-03-05 ", at(2024, 3, 5)),  # trimmed
        ("2024-03-05 10:15:30", at(2024, 3, 5, 10, 15, 30)),
        ("2024-03-05T10:15", at(2024, 3, 5, 10, 15)),
        ("2024-03-05T10:15:30Z", at(2024, 3, 5, 10, 15, 30)),
        ("2024-03-05T10:15:30+02:00", at(2024, 3, 5, 8, 15, 30)),
        ("2024-03-05 10:15:30.25-0530", at(2024, 3, 5, 15, 45, 30, 250_000)),
        ("20240305", at(2024, 3, 5)),
    ]

    actual_df = _parsed_every_way(spark, [v for v, _ in rows])

    expected_df = spark.createDataFrame([(v, t, t, t) for v, t in rows], PARSED_SCHEMA)
    assert_df_equality(expected_df, actual_df, ignore_row_order=True, ignore_nullable=True)


def test_day_month_formats_follow_the_order(spark: SparkSession) -> None:
    rows = [
        # day and month both <= 12 and different: only a decided order reads them
        ("05/03/2024", at(2024, 3, 5), at(2024, 5, 3), None),
        ("05-03-2024", at(2024, 3, 5), at(2024, 5, 3), None),
        ("5/3/2024", at(2024, 3, 5), at(2024, 5, 3), None),
        ("5-3-2024", at(2024, 3, 5), at(2024, 5, 3), None),
        # day == month reads the same both ways
        ("03/03/2024", at(2024, 3, 3), at(2024, 3, 3), at(2024, 3, 3)),
        ("3-3-2024", at(2024, 3, 3), at(2024, 3, 3), at(2024, 3, 3)),
        # a part above 12 reads only one way
        ("25/12/2024", at(2024, 12, 25), None, None),
        ("12/25/2024", None, at(2024, 12, 25), None),
        ("1/31/2024", None, at(2024, 1, 31), None),
        # the calendar decides: leap days, month lengths
        ("29/02/2024", at(2024, 2, 29), None, None),
        ("31/12/1999", at(1999, 12, 31), None, None),
        ("30/4/2024", at(2024, 4, 30), None, None),
    ]

    actual_df = _parsed_every_way(spark, [r[0] for r in rows])

    expected_df = spark.createDataFrame(rows, PARSED_SCHEMA)
    assert_df_equality(expected_df, actual_df, ignore_row_order=True, ignore_nullable=True)


def test_invalid_values_do_not_parse(spark: SparkSession) -> None:
    values = [
        "2023-02-30",  # no such day
        "2024-13-45",
        "31/02/2024",
        "29/02/2023",
        "31/04/2024",
        "00/01/2024",
        "01/00/2024",
        "01/01/0000",
        "2024-03-05 25:00:00",
        "2024/03/05",  # not an accepted layout
        "00000000",
        "not a date",
        "",
        None,
    ]

    actual_df = _parsed_every_way(spark, values)

    expected_df = spark.createDataFrame([(v, None, None, None) for v in values], PARSED_SCHEMA)
    assert_df_equality(expected_df, actual_df, ignore_row_order=True, ignore_nullable=True)


def test_is_ambiguous(spark: SparkSession) -> None:
    values_df = spark.createDataFrame(
        [
            ("05/03/2024",),
            (" 5-3-2024 ",),
            ("03/03/2024",),
            ("25/12/2024",),
            ("13/13/2024",),
            ("2024-03-05",),
            (None,),
        ],
        "value string",
    )

    actual_df = values_df.select(
        "value",
        is_ambiguous(F.col("value"), None).alias("undecided"),
        is_ambiguous(F.col("value"), "dmy").alias("dmy"),
        is_ambiguous(F.col("value"), "mdy").alias("mdy"),
    )

    expected_df = spark.createDataFrame(
        [
            ("05/03/2024", True, False, False),
            (" 5-3-2024 ", True, False, False),
            ("03/03/2024", False, False, False),
            ("25/12/2024", False, False, False),
            ("13/13/2024", False, False, False),
            ("2024-03-05", False, False, False),
            (None, False, False, False),
        ],
        "value string, undecided boolean, dmy boolean, mdy boolean",
    )
    assert_df_equality(expected_df, actual_df, ignore_row_order=True, ignore_nullable=True)


def test_profile_date_columns(spark: SparkSession) -> None:
    columns_df = spark.createDataFrame(
        [
            # day_month_values counts only values that read as two different dates.
            # dmy: one day-first-only, one ambiguous; mdy: one month-first-only, two ambiguous;
            # mixed: one of each order, none ambiguous; ambiguous: 2 of 3 non-empty are
            # undecidable; rare: 1 of 4; iso: no DD/MM-style value at all
            (" 25/12/2024 ", "12/25/2024", "25/12/2024", "01/02/2024", "01/02/2024",
             "2024-01-01"),
            ("05/03/2024", "01/02/2024", "12/25/2024", "03/04/2024", "2024-01-01",
             "20240101"),
            ("2024-01-01", "03/04/2024", "2024-01-01", "2024-01-01", "2024-02-01", None),
            (None, "2024-01-01", None, None, "20240301", ""),
            ("", "20240101", None, None, None, None),
        ],
        "dmy string, mdy string, mixed string, ambiguous string, rare string, iso string",
    )  # fmt: skip

    profiles = profile_date_columns(columns_df, list(columns_df.columns))

    assert profiles == {
        "dmy": DateProfile(day_month_values=1, day_first_only=1, month_first_only=0, non_empty=3),
        "mdy": DateProfile(day_month_values=2, day_first_only=0, month_first_only=1, non_empty=5),
        "mixed": DateProfile(day_month_values=0, day_first_only=1, month_first_only=1, non_empty=3),
        "ambiguous": DateProfile(
            day_month_values=2, day_first_only=0, month_first_only=0, non_empty=3
        ),
        "rare": DateProfile(day_month_values=1, day_first_only=0, month_first_only=0, non_empty=4),
        "iso": DateProfile(day_month_values=0, day_first_only=0, month_first_only=0, non_empty=2),
    }


def test_profile_of_no_columns(spark: SparkSession) -> None:
    assert profile_date_columns(spark.createDataFrame([("x",)], "a string"), []) == {}


def test_decide_from_evidence() -> None:
    assert DateProfile(2, 1, 0, 3).decide("transactions", "transaction_date", None) == "dmy"
    assert DateProfile(3, 0, 1, 5).decide("transactions", "transaction_date", None) == "mdy"
    # one undecidable value in four: the run goes on, the value is quarantined
    assert DateProfile(1, 0, 0, 4).decide("transactions", "transaction_date", None) is None
    # no DD/MM-style values, or no values at all
    assert DateProfile(0, 0, 0, 2).decide("transactions", "transaction_date", None) is None
    assert DateProfile(0, 0, 0, 0).decide("transactions", "transaction_date", None) is None


def test_decide_mixed_orders_fail() -> None:
    with pytest.raises(DateOrderError, match=r"transactions\.transaction_date mixes"):
        DateProfile(2, 1, 1, 3).decide("transactions", "transaction_date", None)


def test_decide_undecidable_majority_fails() -> None:
    with pytest.raises(DateOrderError, match="--date-order") as raised:
        DateProfile(2, 0, 0, 3).decide("customers", "signup_date", None)
    assert "customers.signup_date" in str(raised.value)
    # exactly half is enough to stop
    with pytest.raises(DateOrderError, match="--date-order"):
        DateProfile(2, 0, 0, 4).decide("customers", "signup_date", None)


@pytest.mark.parametrize("profile", [DateProfile(2, 1, 1, 3), DateProfile(2, 0, 0, 3)])
def test_decide_explicit_order_wins(profile: DateProfile) -> None:
    assert profile.decide("transactions", "transaction_date", "mdy") == "mdy"
    assert profile.decide("transactions", "transaction_date", "dmy") == "dmy"


def test_decide_ignores_values_that_read_the_same_both_ways(spark: SparkSession) -> None:
    # Nothing here needs a day/month order: day == month reads the same either way, and
    # data-contract.md stops the run only when *ambiguous* (day != month) dates are half or more.
    column_df = spark.createDataFrame(
        [("01/01/2024",), ("02/02/2024",), ("2024-03-01",)], "signup_date string"
    )

    profile = profile_date_columns(column_df, ["signup_date"])["signup_date"]

    assert profile.decide("customers", "signup_date", None) is None
