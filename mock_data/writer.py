"""Writing generated sources to CSV or Parquet (the only generator code that touches paths)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from mock_data.text import DATE_PATTERNS

METADATA_FILE = "_generator.json"
GROUND_TRUTH_DIR = "_ground_truth"

# Every line is pre-rendered (so a defect can be any text); Spark's CSV writer then only adds
# the header to each part file. Separator and quote are control characters that never occur in
# a line, so the writer passes each line through untouched.
_PASS_THROUGH = {"sep": "\u0001", "quote": "\u0002", "escapeQuotes": "false", "header": "true"}


def source_path(output: str, source: str) -> str:
    """Directory of one source under the output root (a local path or a URI)."""
    return f"{output.rstrip('/')}/{source}"


def is_local(output: str) -> bool:
    """True when the output is a plain local path rather than a URI (s3a://, hdfs://...)."""
    return "://" not in output or output.startswith("file://")


def local_path(output: str) -> Path:
    """The local filesystem path of a local output."""
    return Path(output.removeprefix("file://"))


def write_csv_lines(lines_df: DataFrame, columns: list[str], path: str) -> None:
    """Write pre-rendered CSV lines (column `_raw_line`) with a header in every part file."""
    header = ",".join(columns)
    writer = lines_df.select(F.col("_raw_line").alias(header)).write.mode("overwrite")
    writer.options(**_PASS_THROUGH).csv(path)


def count_csv_rows(spark: SparkSession, columns: list[str], path: str) -> int:
    """Data lines written under a CSV source directory (headers excluded)."""
    header = ",".join(columns)
    return spark.read.text(path).where(F.col("value") != F.lit(header)).count()


def cast_text_to_schema(text_df: DataFrame, schema: T.StructType) -> DataFrame:
    """Turn ISO-rendered string columns back into the source's types (for Parquet)."""
    cols = []
    for field in schema.fields:
        col = F.col(field.name)
        if isinstance(field.dataType, T.DateType):
            col = F.try_to_date(col, DATE_PATTERNS["iso"])
        elif isinstance(field.dataType, T.TimestampType):
            col = F.try_to_timestamp(col)
        elif not isinstance(field.dataType, T.StringType):
            col = col.try_cast(field.dataType)
        cols.append(col.alias(field.name))
    return text_df.select(*cols)


def write_parquet(df: DataFrame, path: str) -> None:
    """Write a typed source as Parquet."""
    df.write.mode("overwrite").parquet(path)


def write_json_lines(df: DataFrame, path: str) -> None:
    """Write a small table as one JSON-lines file (ground truth)."""
    df.coalesce(1).write.mode("overwrite").option("ignoreNullFields", "false").json(path)


def write_metadata(spark: SparkSession, output: str, payload: dict[str, Any]) -> None:
    """Write the generator's metadata file; it is written last and marks a complete dataset."""
    text = json.dumps(payload, indent=2, sort_keys=True, default=str)
    if is_local(output):
        target = local_path(output) / METADATA_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(text + "\n", encoding="utf-8")
        tmp.replace(target)
        return
    spark.createDataFrame([(text,)], "value string").coalesce(1).write.mode("overwrite").text(
        source_path(output, METADATA_FILE)
    )
