"""Staging a validated source: its rows checked and written once, then what needs all of them.

A source is parsed once, by the pass that writes its checked rows (every reason a row shows on
its own, the unknown-customer check included) to the staging directory. What needs a look at
the whole source comes after, from the written rows, and costs another pass over the raw source
only when the data calls for it:

- Day/month orders left pending by the first look (no day/month value in the first rows) are
  decided from counts observed while the rows are written. Only when those decide an order,
  because such values appear further down, is the source checked and written again.
- Duplicated ids are found among the written valid rows, by the hashes of their ids. Their
  candidates need their raw records (to pick the row to keep and to quarantine the others),
  which the staging does not keep for valid rows: when there are candidates, those rows alone
  are taken from another pass over the raw source, found by their row ids.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from c360_pipeline.ingest.dataset import BROADCAST_ROWS, ValidatedSource
from c360_pipeline.ingest.dates import DateOrder
from c360_pipeline.ingest.validate import (
    DETAIL,
    IS_DUPLICATE_CANDIDATE,
    KEY_HASH,
    RAW,
    REASON,
    REASONS,
    ROW_ID,
    candidate_records,
    key_hash,
    with_duplicates,
)
from c360_pipeline.schemas import SourceSchema

CANDIDATE_RAW = "_candidate_raw_record"


class SourceChangedError(RuntimeError):
    """A raw source read twice in one run did not give the same rows (exit code 1)."""


@dataclass(frozen=True)
class StagedSource:
    """A source's checked rows in the staging directory, and their counts by reason."""

    schema: SourceSchema
    path: str
    by_reason: dict[str, int]
    """Quarantined rows by reason, duplicates included."""
    accepted: int
    date_orders: dict[str, DateOrder | None] = field(default_factory=dict)
    candidates: int = 0
    """Valid rows whose id hash occurs more than once: their raw records are at
    `candidates_path`."""

    @property
    def candidates_path(self) -> str:
        return f"{self.path}_candidates"

    def checked_rows_df(self, spark: SparkSession) -> DataFrame:
        """The staged rows as written: typed columns, `_reason` (duplicates not yet settled),
        `_detail`, `_row_id`, and `_raw_record` for the quarantined rows only."""
        return spark.read.parquet(self.path)

    def validated_df(self, spark: SparkSession) -> DataFrame:
        """Every row read, typed, with `_raw_record`, `_reason` and `_detail` (duplicates
        settled)."""
        names = self.schema.column_names
        staged_df = spark.read.parquet(self.path)
        if self.candidates == 0:
            return staged_df.select(*names, RAW, REASON, DETAIL)
        records_df = spark.read.parquet(self.candidates_path).select(
            F.col(ROW_ID).alias("_candidate_id"), F.col(RAW).alias(CANDIDATE_RAW)
        )
        if self.candidates <= BROADCAST_ROWS:
            records_df = F.broadcast(records_df)
        joined_df = staged_df.join(
            records_df, on=staged_df[ROW_ID] == records_df["_candidate_id"], how="left"
        )
        checked_df = joined_df.select(
            *names,
            F.coalesce(F.col(RAW), F.col(CANDIDATE_RAW)).alias(RAW),
            REASON,
            DETAIL,
            ROW_ID,
            F.col("_candidate_id").isNotNull().alias(IS_DUPLICATE_CANDIDATE),
        )
        return with_duplicates(checked_df, self.schema)


def _write_checked(source: ValidatedSource, path: str, mode: str) -> None:
    observation = source.date_profile_observation()
    source.checked_df(observation).write.mode(mode).parquet(path)
    if observation is not None and source.settle_date_orders(observation.get):
        # Day/month values further down than the first look saw decide an order that the
        # written rows were not checked with: check and write them again.
        source.checked_df().write.mode("overwrite").parquet(path)


def _reason_counts() -> list[Any]:
    return [
        F.count(F.when(F.col(REASON).isNull(), 1)).alias("accepted"),
        *[F.count(F.when(F.col(REASON) == reason, 1)).alias(reason) for reason in REASONS],
    ]


def stage_source(spark: SparkSession, source: ValidatedSource, path: str) -> StagedSource:
    """Check and write a source's rows to `path` (a new directory), settle its pending date
    orders and find its duplicated ids; `path` + `_duplicate_keys` / `_candidates` are used too.
    """
    schema = source.raw.schema
    _write_checked(source, path, "errorifexists")
    staged_df = spark.read.parquet(path)
    counting = Observation(f"c360_reasons_{schema.name}_{uuid.uuid4().hex}")
    hashes = [key_hash(F.col(schema.key)).alias(KEY_HASH)] if schema.key else []
    observed_df = staged_df.select(REASON, *hashes).observe(counting, *_reason_counts())
    if schema.key is None:
        observed_df.write.format("noop").mode("overwrite").save()
        return _staged(source, path, counting.get, 0, 0)
    # Ids are (nearly) all distinct: a map-side partial count would only build a hash table as
    # big as its input. Shuffling the 8-byte hashes first leaves one aggregation after the
    # exchange. A hash collision only adds a candidate, which `with_duplicates` then keeps.
    hashes_path = f"{path}_duplicate_keys"
    (
        observed_df.where(F.col(REASON).isNull())
        .select(KEY_HASH)
        .repartition(KEY_HASH)
        .groupBy(KEY_HASH)
        .count()
        .where(F.col("count") > 1)
        .select(KEY_HASH)
        .write.mode("errorifexists")
        .parquet(hashes_path)
    )
    counts = counting.get
    hashes_df = spark.read.parquet(hashes_path)
    duplicated = hashes_df.count()
    if duplicated == 0:
        return _staged(source, path, counts, 0, 0)
    if duplicated <= BROADCAST_ROWS:
        hashes_df = F.broadcast(hashes_df)
    valid_df = staged_df.where(F.col(REASON).isNull()).select(
        ROW_ID, schema.key, key_hash(F.col(schema.key)).alias(KEY_HASH)
    )
    candidates_df = valid_df.join(hashes_df, on=KEY_HASH)
    summary = candidates_df.agg(
        F.count(F.lit(1)).alias("rows"), F.count_distinct(schema.key).alias("ids")
    ).first()
    assert summary is not None
    candidates, ids = int(summary["rows"]), int(summary["ids"])
    picked_df = candidates_df.select(ROW_ID, KEY_HASH)
    if candidates <= BROADCAST_ROWS:
        picked_df = F.broadcast(picked_df)
    staged = _staged(source, path, counts, candidates, candidates - ids)
    records_df = candidate_records(source.raw.df, schema, source.raw.raw_record, picked_df)
    records_df.write.mode("errorifexists").parquet(staged.candidates_path)
    check = (
        spark.read.parquet(staged.candidates_path)
        .agg(F.count(F.lit(1)).alias("rows"), F.count(F.when(~F.col("_is_same_row"), 1)))
        .first()
    )
    assert check is not None
    if check[0] != candidates or check[1]:
        raise SourceChangedError(
            f"{source.found.path} changed while the run read it: {candidates} rows with a "
            f"duplicated id were staged, and reading them again found {check[0]} rows of which "
            f"{check[1]} differ; run again once the input is complete"
        )
    return staged


def _staged(
    source: ValidatedSource,
    path: str,
    counts: dict[str, Any],
    candidates: int,
    duplicates: int,
) -> StagedSource:
    by_reason = {r: int(counts[r]) for r in REASONS if counts[r]}
    if duplicates:
        by_reason["duplicate_id"] = by_reason.get("duplicate_id", 0) + duplicates
    return StagedSource(
        schema=source.raw.schema,
        path=path,
        by_reason=by_reason,
        accepted=int(counts["accepted"]) - duplicates,
        date_orders=dict(source.date_orders),
        candidates=candidates,
    )
