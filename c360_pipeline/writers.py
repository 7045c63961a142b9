"""Writing snapshot tables (the only pipeline code, with the readers, that touches paths)."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

ROW_GROUP_BYTES = 8 * 1024 * 1024
"""Small Parquet row groups: a per-customer lookup in a customer-sorted table reads little."""


def table_path(snapshot_path: str, table: str) -> str:
    """Where a table of a snapshot lives."""
    return f"{snapshot_path.rstrip('/')}/{table}"


def write_table(df: DataFrame, path: str, sort_by: tuple[str, ...] = ()) -> None:
    """Write a table as Parquet, range-partitioned and sorted by `sort_by` when given."""
    if sort_by:
        df = df.repartitionByRange(*sort_by).sortWithinPartitions(*sort_by)
    df.write.mode("errorifexists").option("parquet.block.size", ROW_GROUP_BYTES).parquet(path)


def read_table(spark: SparkSession, path: str) -> DataFrame:
    """Read a table written by `write_table`."""
    return spark.read.parquet(path)


def count_rows(spark: SparkSession, path: str) -> int:
    """Rows of a written table (from Parquet footers, cheap)."""
    return spark.read.parquet(path).count()
