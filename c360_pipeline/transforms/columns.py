"""Column helpers (`Column -> Column`) shared by the transforms."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

GENERATIONS = (
    ("Gen Z", 1997, 2012),
    ("Millennial", 1981, 1996),
    ("Gen X", 1965, 1980),
    ("Boomer", 1946, 1964),
    ("Silent", 1928, 1945),
)
"""Generation by birth year (Pew Research boundaries)."""


def days_between(later: Column, earlier: Column) -> Column:
    """Whole days from `earlier` to `later` (dates or timestamps)."""
    return F.datediff(F.to_date(later), F.to_date(earlier))


def generation(birth_year: Column) -> Column:
    """Generation name for a birth year; null when unknown or outside 1928-2012."""
    expr = F.when(birth_year.isNull(), F.lit(None).cast("string"))
    for name, first, last in GENERATIONS:
        expr = expr.when(birth_year.between(first, last), F.lit(name))
    return expr


def score_by_thresholds(
    value: Column, thresholds: list[float], *, higher_is_better: bool
) -> Column:
    """Score 1..len(thresholds)+1 from ascending cut points; equal values always score equally."""
    above = sum(
        (F.when(value > F.lit(t), F.lit(1)).otherwise(F.lit(0)) for t in thresholds), F.lit(0)
    )
    top = len(thresholds) + 1
    score = F.lit(1) + above if higher_is_better else F.lit(top) - above
    return F.when(value.isNull(), F.lit(None).cast("int")).otherwise(score.cast("int"))


def safe_ratio(numerator: Column, denominator: Column) -> Column:
    """numerator / denominator, null when the denominator is null or zero."""
    return F.when(denominator != 0, numerator / denominator)


def clamp(value: Column, low: float, high: float) -> Column:
    """Value limited to [low, high]."""
    return F.least(F.greatest(value, F.lit(low)), F.lit(high))
