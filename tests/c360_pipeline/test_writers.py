"""Writing snapshot tables: per-file order, customers kept whole, bucketing and order Spark can
use."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from c360_pipeline import writers
from tests.conftest import executed_plan

ROWS = [
    ("c3", date(2024, 1, 5), 5.0),
    ("c1", date(2024, 1, 9), 1.0),
    ("c2", date(2024, 1, 2), 2.0),
    ("c1", date(2024, 1, 1), 3.0),
    ("c4", date(2024, 1, 7), 4.0),
    ("c3", date(2024, 1, 1), 6.0),
    ("c5", date(2024, 1, 3), 7.0),
    ("c2", date(2024, 1, 8), 8.0),
]
SORT_BY = ("customer_id", "day")


def _frame(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(ROWS, "customer_id string, day date, amount double").repartition(3)


def _files(path: Path) -> list[list[tuple[str, date]]]:
    """(customer_id, day) of every row, per Parquet file, in file order."""
    return [
        list(
            zip(*pq.read_table(f, columns=["customer_id", "day"]).to_pydict().values(), strict=True)
        )
        for f in sorted(path.glob("*.parquet"))
    ]


def _assert_sorted_and_whole(files: list[list[tuple[str, date]]]) -> None:
    owners: dict[str, int] = {}
    for index, rows in enumerate(files):
        assert rows == sorted(rows)
        for customer, _ in rows:
            assert owners.setdefault(customer, index) == index, f"{customer} in two files"
    assert sum(len(rows) for rows in files) == len(ROWS)


def test_write_table_keeps_customers_whole_and_files_sorted(
    spark: SparkSession, tmp_path: Path
) -> None:
    writers.write_table(_frame(spark), str(tmp_path / "t"), sort_by=SORT_BY)

    _assert_sorted_and_whole(_files(tmp_path / "t"))
    assert sorted(writers.read_table(spark, str(tmp_path / "t")).collect()) == sorted(
        spark.createDataFrame(ROWS, "customer_id string, day date, amount double").collect()
    )


def test_bucketed_table_aggregates_by_customer_without_a_shuffle(
    spark: SparkSession, tmp_path: Path
) -> None:
    path = str(tmp_path / "bucketed")
    table_df = writers.write_bucketed_table(
        _frame(spark), path, "c360_test_written", bucket_by="customer_id", buckets=2,
        sort_by=SORT_BY,
    )  # fmt: skip
    try:
        files = _files(tmp_path / "bucketed")
        assert len(files) == 2
        _assert_sorted_and_whole(files)
        # Read back through the catalog, and declared again over the same files (the bench
        # does this from the manifest's layout): Spark aggregates per customer in place.
        registered_df = writers.register_bucketed_table(
            spark, path, "c360_test_registered", bucket_by="customer_id", buckets=2,
            sort_by=SORT_BY,
        )  # fmt: skip
        for df in (table_df, registered_df):
            totals_df = df.groupBy("customer_id").agg(F.sum("amount").alias("total"))
            plan = executed_plan(totals_df)
            # No shuffle, and the files' order is known: the aggregation streams over sorted
            # rows (no hash table, and no sort added for it).
            assert "Exchange" not in plan
            assert "SortAggregate" in plan
            assert "HashAggregate" not in plan
            assert "Sort [" not in plan
            assert sorted(tuple(r) for r in totals_df.collect()) == [
                ("c1", 4.0), ("c2", 10.0), ("c3", 11.0), ("c4", 4.0), ("c5", 7.0),
            ]  # fmt: skip
    finally:
        writers.drop_catalog_table(spark, "c360_test_written")
        writers.drop_catalog_table(spark, "c360_test_registered")
    # Dropping the catalog entries leaves the files.
    assert spark.read.parquet(path).count() == len(ROWS)


def test_catalog_name_is_a_plain_identifier() -> None:
    assert writers.catalog_name("c360", "acme-eu", "20261124T080520Z-eb6cbb", "transactions") == (
        "c360_acme_eu_20261124t080520z_eb6cbb_transactions"
    )


def test_only_few_valued_columns_are_dictionary_encoded(
    spark: SparkSession, tmp_path: Path
) -> None:
    # 10,000 distinct ids, each 10 times: an 80 KB dictionary, which would pay off under
    # Parquet's default 1 MB limit but outgrows the session's 32 KB one, so the ids are written
    # plain; five segment names keep their dictionary. Values read back unchanged either way.
    rows = spark.range(100_000).select(
        (F.col("id") % 10_000).alias("customer_key"),
        F.concat(F.lit("s"), (F.col("id") % 5).cast("string")).alias("segment"),
    )
    writers.write_table(rows.coalesce(1), str(tmp_path / "t"))

    (file,) = sorted((tmp_path / "t").glob("*.parquet"))
    metadata = pq.ParquetFile(file).metadata
    assert metadata.num_row_groups == 1
    chunks = {
        metadata.row_group(0).column(i).path_in_schema: metadata.row_group(0).column(i)
        for i in range(metadata.num_columns)
    }
    assert not chunks["customer_key"].has_dictionary_page
    assert chunks["segment"].has_dictionary_page
    table = pq.read_table(file).to_pydict()
    assert table["customer_key"] == [i % 10_000 for i in range(100_000)]
    assert table["segment"] == [f"s{i % 5}" for i in range(100_000)]
