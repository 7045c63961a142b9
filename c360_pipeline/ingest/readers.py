"""Reading raw sources (CSV or Parquet) into canonical columns, keeping every original row."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.utils import AnalysisException

from c360_pipeline.schemas import SourceSchema, map_columns

CORRUPT = "_corrupt_record"
RAW = "_raw_record"
"""The original row: the CSV line for a malformed row, else JSON of the raw fields."""
RAW_FIELDS = "_raw_fields"
"""Struct of a row's original fields (header names): `RawSource.raw_record` turns it into JSON
only for the rows that need it (quarantined ones), not for all rows."""


class SourceError(ValueError):
    """A source cannot be read as the contract requires (bad usage or input, exit code 2)."""


@dataclass(frozen=True)
class RawSource:
    """A source read with canonical column names; values are still the raw ones."""

    schema: SourceSchema
    df: DataFrame
    mapping: dict[str, str]
    file_format: str
    path: str

    @property
    def raw_record(self) -> Column:
        """The original row (`RAW`) from the columns of `df`: evaluate it only where needed."""
        return F.when(F.col(CORRUPT).isNotNull(), F.col(CORRUPT)).otherwise(
            F.to_json(F.col(RAW_FIELDS))
        )


def _csv_reader(spark: SparkSession) -> object:
    # RFC 4180: quotes are escaped by doubling them.
    return (
        spark.read.option("header", True)
        .option("quote", '"')
        .option("escape", '"')
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT)
    )


def read_header(spark: SparkSession, path: str) -> list[str]:
    """Column names in a CSV source's header line."""
    try:
        return spark.read.option("header", True).csv(path).columns
    except AnalysisException as exc:
        raise SourceError(f"cannot read {path}: {exc.getMessage()}") from exc


def _canonical(schema: SourceSchema, mapping: dict[str, str], raw_df: DataFrame) -> DataFrame:
    by_target = {target: raw for raw, target in mapping.items()}
    missing = [c for c in schema.required if c not in by_target]
    if missing:
        raise SourceError(
            f"{schema.name} has no column for {', '.join(missing)} (columns: "
            f"{', '.join(raw_df.columns)}); map one with --column-map "
            f"{schema.name}.<column>={missing[0]}"
        )
    columns = [
        (F.col(f"`{by_target[c]}`") if c in by_target else F.lit(None).cast("string")).alias(c)
        for c in schema.column_names
    ]
    return raw_df.select(*columns, F.col(CORRUPT), F.col(RAW_FIELDS))


def read_source(
    spark: SparkSession,
    schema: SourceSchema,
    path: str,
    file_format: str,
    column_map: dict[str, str] | None = None,
) -> RawSource:
    """Read one source; malformed CSV lines are kept (with their text) for the quarantine."""
    if file_format == "csv":
        header = read_header(spark, path)
        mapping = map_columns(schema, header, column_map)
        fields = [T.StructField(h, T.StringType()) for h in header]
        fields.append(T.StructField(CORRUPT, T.StringType()))
        raw_df = _csv_reader(spark).schema(T.StructType(fields)).csv(path)  # type: ignore[attr-defined]
        raw_df = raw_df.select("*", F.struct(*[F.col(f"`{h}`") for h in header]).alias(RAW_FIELDS))
    elif file_format == "parquet":
        try:
            raw_df = spark.read.parquet(path)
        except AnalysisException as exc:
            raise SourceError(f"cannot read {path}: {exc.getMessage()}") from exc
        header = raw_df.columns
        mapping = map_columns(schema, header, column_map)
        raw_df = raw_df.select(
            "*",
            F.lit(None).cast("string").alias(CORRUPT),
            F.struct(*[F.col(f"`{h}`") for h in header]).alias(RAW_FIELDS),
        )
    else:
        raise SourceError(f"unsupported format {file_format!r} for {path}")
    return RawSource(
        schema=schema,
        df=_canonical(schema, mapping, raw_df),
        mapping=mapping,
        file_format=file_format,
        path=path,
    )
