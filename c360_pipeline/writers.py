"""Writing snapshot tables (the only pipeline code, with the readers, that touches paths)."""

from __future__ import annotations

import re

from pyspark.sql import DataFrame, SparkSession

ROW_GROUP_BYTES = 8 * 1024 * 1024
"""Small Parquet row groups: a per-customer lookup in a customer-sorted table reads little."""


def table_path(snapshot_path: str, table: str) -> str:
    """Where a table of a snapshot lives."""
    return f"{snapshot_path.rstrip('/')}/{table}"


def write_table(df: DataFrame, path: str, sort_by: tuple[str, ...] = ()) -> None:
    """Write a table as Parquet; with `sort_by`, hash-partitioned on its first column (all rows
    of one value in one file) and each file sorted by all of them.

    Not a global sort: a range partitioning would first run a sampling job that computes
    `df` a second time, and per-file order is all a reader's row-group pruning needs.
    """
    if sort_by:
        df = df.repartition(sort_by[0]).sortWithinPartitions(*sort_by)
    df.write.mode("errorifexists").option("parquet.block.size", ROW_GROUP_BYTES).parquet(path)


def catalog_name(*parts: str) -> str:
    """A session-catalog table name made of `parts` (anything but letters and digits → _)."""
    return re.sub(r"[^0-9a-zA-Z]+", "_", "_".join(parts)).strip("_").lower()


def write_bucketed_table(
    df: DataFrame,
    path: str,
    name: str,
    *,
    bucket_by: str,
    buckets: int,
    sort_by: tuple[str, ...],
) -> DataFrame:
    """Write `df` as Parquet in `buckets` files by hash of `bucket_by`, each sorted by `sort_by`,
    and return it read back as the session-catalog table `name`.

    Read through the catalog, Spark knows every row of one `bucket_by` value is in one file:
    aggregations and joins by that column then run without a shuffle. The files are plain
    Parquet for any other reader. Call `drop_catalog_table(name)` when done (the files stay).
    """
    spark = df.sparkSession
    (
        df.repartition(buckets, bucket_by)
        .write.bucketBy(buckets, bucket_by)
        .sortBy(*sort_by)
        .option("path", path)
        .option("parquet.block.size", ROW_GROUP_BYTES)
        .mode("errorifexists")
        .format("parquet")
        .saveAsTable(name)
    )
    return spark.table(name)


def register_bucketed_table(
    spark: SparkSession,
    path: str,
    name: str,
    *,
    bucket_by: str,
    buckets: int,
    sort_by: tuple[str, ...],
) -> DataFrame:
    """Read the files of an earlier `write_bucketed_table` (its manifest records the layout)
    through the session-catalog table `name`, so that Spark knows their bucketing again."""
    location = path.replace("'", "''")
    # Bucketing can only be declared with the column list spelled out.
    columns = ", ".join(
        f"`{field.name}` {field.dataType.simpleString()}"
        for field in spark.read.parquet(path).schema.fields
    )
    sorted_by = ", ".join(f"`{column}`" for column in sort_by)
    spark.sql(
        f"create table `{name}` ({columns}) using parquet clustered by (`{bucket_by}`) "
        f"sorted by ({sorted_by}) into {int(buckets)} buckets location '{location}'"
    )
    return spark.table(name)


def drop_catalog_table(spark: SparkSession, name: str) -> None:
    """Forget a table of `write_bucketed_table` (its files were written with a path: they stay)."""
    spark.sql(f"drop table if exists `{name}`")


def read_table(spark: SparkSession, path: str) -> DataFrame:
    """Read a table written by `write_table`."""
    return spark.read.parquet(path)


def count_rows(spark: SparkSession, path: str) -> int:
    """Rows of a written table (from Parquet footers, cheap)."""
    return spark.read.parquet(path).count()
