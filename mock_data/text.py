"""Rendering typed rows as CSV text, exactly as the generator writes them."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

DATE_PATTERNS = {
    "iso": "yyyy-MM-dd",
    "dmy": "dd/MM/yyyy",
    "mdy": "MM/dd/yyyy",
    "dmy_dash": "dd-MM-yyyy",
    "compact": "yyyyMMdd",
}
"""Date styles a raw file can be written in (the data contract accepts all of them)."""

TIMESTAMP_PATTERN = "yyyy-MM-dd HH:mm:ss"


def _render(field: T.StructField, date_pattern: str) -> Column:
    col = F.col(field.name)
    dtype = field.dataType
    # Casts are much faster than date_format / format_string where they give the same text.
    if isinstance(dtype, T.DateType):
        if date_pattern == DATE_PATTERNS["iso"]:
            return col.cast("string")
        return F.date_format(col, date_pattern)
    if isinstance(dtype, T.TimestampType):
        return F.date_format(col, TIMESTAMP_PATTERN)
    if isinstance(dtype, T.DoubleType | T.FloatType | T.DecimalType):
        return col.cast("decimal(18,2)").cast("string")
    if isinstance(dtype, T.BooleanType):
        return F.when(col, F.lit("true")).when(~col, F.lit("false"))
    return col.cast("string")


def to_text_columns(df: DataFrame, date_style: str) -> DataFrame:
    """Every column as the string it is written as (nulls stay null)."""
    pattern = DATE_PATTERNS[date_style]
    return df.select(*[_render(f, pattern).alias(f.name) for f in df.schema.fields])


def csv_field(col: Column) -> Column:
    """A CSV field: null as empty, quoted (with doubled quotes) when it holds , or " or newline."""
    value = F.coalesce(col, F.lit(""))
    # Four substring tests are much cheaper per row than one regex.
    needs_quotes = (
        value.contains(",") | value.contains('"') | value.contains("\n") | value.contains("\r")
    )
    quoted = F.concat(F.lit('"'), F.regexp_replace(value, '"', '""'), F.lit('"'))
    return F.when(needs_quotes, quoted).otherwise(value)


def csv_line(columns: list[Column]) -> Column:
    """One CSV line (no newline) from already-rendered string columns."""
    return F.concat_ws(",", *[csv_field(c) for c in columns])
