"""Parsing the date formats of the data contract, with day/month order decided per column.

Accepted: ISO `YYYY-MM-DD` (optionally with a time), `YYYYMMDD`, and day-month-year or
month-day-year with `/` or `-` (`DD/MM/YYYY`, `DD-MM-YYYY`, `MM/DD/YYYY`). Whether a column's
slash/dash dates are day-first or month-first is decided once, from values that can only be read
one way (a first part above 12, say); it is never guessed row by row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

DateOrder = Literal["dmy", "mdy"]

ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
ISO_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$"
COMPACT_DATE = r"^\d{8}$"
DAY_MONTH = r"^\d{1,2}[/-]\d{1,2}[/-]\d{4}$"
UNDECIDED_SHARE_LIMIT = 0.5
"""An undecidable order fails the run when at least this share of a column's dates needs it."""


class DateOrderError(ValueError):
    """A column's day/month order cannot be decided from its data."""


@dataclass(frozen=True)
class DateProfile:
    """What a column's values say about its day/month order."""

    day_month_values: int
    """DD/MM-style values that read as two different dates (day and month <= 12, unequal)."""
    day_first_only: int
    month_first_only: int
    non_empty: int

    @property
    def needs_order(self) -> bool:
        """Some value reads differently, or only, one way round (day == month reads the same)."""
        return bool(self.day_month_values or self.day_first_only or self.month_first_only)

    def decide(self, source: str, column: str, explicit: DateOrder | None) -> DateOrder | None:
        """The order for DD/MM-style values; None when undecided but rare enough to quarantine."""
        if explicit is not None:
            return explicit
        if self.day_first_only and not self.month_first_only:
            return "dmy"
        if self.month_first_only and not self.day_first_only:
            return "mdy"
        if self.day_month_values == 0:
            return None
        if self.day_first_only and self.month_first_only:
            raise DateOrderError(
                f"{source}.{column} mixes day-first ({self.day_first_only} values) and "
                f"month-first ({self.month_first_only} values) dates; fix the file or pass "
                "--date-order dmy|mdy"
            )
        if self.day_month_values >= UNDECIDED_SHARE_LIMIT * max(self.non_empty, 1):
            raise DateOrderError(
                f"cannot decide the day/month order of {source}.{column}: "
                f"{self.day_month_values} of its {self.non_empty} dates read as two different "
                "dates (day and month both <= 12) and none decides the order; "
                "pass --date-order dmy or --date-order mdy"
            )
        return None


DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def day_month_parts(value: Column) -> Column:
    """[first part, second part, year] of a `DD/MM/YYYY`-style value as integers, else null.

    Compute it once per column (its own projection) and pass it to `parse_timestamp` and
    `is_ambiguous`: inlined, the split is repeated in every branch that reads a part.
    """
    text = F.trim(value)
    # A separator in 2nd or 3rd place is necessary for DAY_MONTH: checking it first spares
    # the other formats (ISO dates, most of all) a regex match per value.
    separator_early = F.substring(text, 2, 1).isin("/", "-") | F.substring(text, 3, 1).isin(
        "/", "-"
    )
    return F.when(separator_early & text.rlike(DAY_MONTH), F.split(text, "[/-]").cast("array<int>"))


# Spark's try_to_date pays for a thrown exception on every value it rejects (about 2 µs each):
# over 20M rows of a day/month column that is most of an ingest. Checking the calendar first
# never throws.
def _date_from_parts(year: Column, month: Column, day: Column) -> Column:
    """The date, or null when the parts do not make one."""
    is_leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_days = F.try_element_at(F.array(*[F.lit(d) for d in DAYS_IN_MONTH]), month)
    days = month_days + F.when((month == 2) & is_leap, 1).otherwise(0)
    is_valid = (year >= 1) & month.between(1, 12) & (day >= 1) & (day <= days)
    return F.when(is_valid, F.make_date(year, month, day))


def _day_first(parts: Column) -> Column:
    return _date_from_parts(parts[2], parts[1], parts[0])


def _month_first(parts: Column) -> Column:
    return _date_from_parts(parts[2], parts[0], parts[1])


def with_date_parts(df: DataFrame, columns: list[str]) -> DataFrame:
    """`df` with, per profiled column i, `_dp<i>`: its `day_month_parts` and whether it is
    present (the input of `date_profile_aggregations`)."""
    return df.select(
        "*",
        *[
            F.struct(
                day_month_parts(F.col(c)).alias("parts"),
                (F.trim(F.col(c)) != "").alias("is_present"),
            ).alias(f"_dp{i}")
            for i, c in enumerate(columns)
        ],
    )


def date_profile_aggregations(
    columns: list[str], parts: Sequence[Column] | None = None
) -> list[Column]:
    """Aggregates over `with_date_parts(df, columns)` counting what decides each column's
    day/month order (read them back with `date_profiles`).

    `parts`: each column's `day_month_parts`, when `df` already has them (then the aggregates
    read `df`'s columns themselves rather than `with_date_parts`'s).
    """
    aggregations = []
    for i, column in enumerate(columns):
        if parts is None:
            parts_i, is_present = F.col(f"_dp{i}.parts"), F.col(f"_dp{i}.is_present")
        else:
            parts_i, is_present = parts[i], F.trim(F.col(column)) != ""
        day_first, month_first = _day_first(parts_i), _month_first(parts_i)
        aggregations += [
            F.count(
                F.when(
                    day_first.isNotNull() & month_first.isNotNull() & (day_first != month_first),
                    1,
                )
            ).alias(f"dm{i}"),
            F.count(F.when(day_first.isNotNull() & month_first.isNull(), 1)).alias(f"d{i}"),
            F.count(F.when(month_first.isNotNull() & day_first.isNull(), 1)).alias(f"m{i}"),
            F.count(F.when(is_present, 1)).alias(f"n{i}"),
        ]
    return aggregations


def date_profiles(values: Mapping[str, Any], columns: list[str]) -> dict[str, DateProfile]:
    """The profiles from the values of `date_profile_aggregations` (a row or observed metrics)."""
    return {
        column: DateProfile(
            int(values[f"dm{i}"]), int(values[f"d{i}"]), int(values[f"m{i}"]), int(values[f"n{i}"])
        )
        for i, column in enumerate(columns)
    }


def profile_date_columns(df: DataFrame, columns: list[str]) -> dict[str, DateProfile]:
    """Count the values that decide each string column's day/month order (one aggregation)."""
    if not columns:
        return {}
    row = with_date_parts(df, columns).agg(*date_profile_aggregations(columns)).first()
    assert row is not None
    return date_profiles(row.asDict(), columns)


def parse_timestamp(value: Column, order: DateOrder | None, parts: Column | None = None) -> Column:
    """Parse a string in any accepted format to a timestamp (null when it does not parse).

    `parts`: the value's `day_month_parts`, when already computed.
    """
    v = F.trim(value)
    parts = day_month_parts(v) if parts is None else parts
    if order == "dmy":
        day_month = _day_first(parts)
    elif order == "mdy":
        day_month = _month_first(parts)
    else:
        # Undecided: only values that read the same both ways (day == month) are unambiguous.
        day_month = F.when(parts[0] == parts[1], _day_first(parts))
    return (
        # try_cast is Spark's hand-written date parser: 4x faster than try_to_date with a
        # pattern. The pattern's year-of-era has no year 0; keep rejecting it.
        F.when(v.rlike(ISO_DATE) & ~v.startswith("0000"), v.try_cast("date").cast("timestamp"))
        .when(v.rlike(ISO_TIMESTAMP), F.try_to_timestamp(v))
        .when(v.rlike(COMPACT_DATE), F.try_to_date(v, "yyyyMMdd").cast("timestamp"))
        .when(parts.isNotNull(), day_month.cast("timestamp"))
    )


def is_ambiguous(value: Column, order: DateOrder | None, parts: Column | None = None) -> Column:
    """True for a DD/MM-style value that reads as two different dates under an undecided order."""
    if order is not None:
        return F.lit(False)
    parts = day_month_parts(value) if parts is None else parts
    day_first, month_first = _day_first(parts), _month_first(parts)
    return F.coalesce(
        day_first.isNotNull() & month_first.isNotNull() & (day_first != month_first),
        F.lit(False),
    )
