"""Validating a raw source: typed accepted rows, and quarantined rows with a reason.

Each row gets the first reason that applies, in the order of `REASONS`; a row without one is
accepted. Nothing is dropped: accepted + quarantined = read, and the run checks it.

Validation is two steps so that a large source is parsed once: `with_row_checks` decides every
reason that one row shows on its own (plus unknown customers, by a join); `with_duplicates` then
settles the duplicates among the candidate rows, those whose id may occur twice. Staging a
source (`ingest.staging`) finds its few candidates from the checked rows it wrote.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Observation, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from c360_pipeline.ingest.dates import (
    DateOrder,
    date_profile_aggregations,
    day_month_parts,
    is_ambiguous,
    parse_timestamp,
)
from c360_pipeline.ingest.readers import CORRUPT, RAW, RAW_FIELDS
from c360_pipeline.schemas import SourceSchema

REASONS = (
    "malformed_row",
    "missing_required",
    "ambiguous_date",
    "invalid_date",
    "invalid_amount",
    "invalid_number",
    "negative_amount",
    "negative_value",
    "unknown_customer",
    "duplicate_id",
)
"""Quarantine reason codes, in the order they are checked (docs/data-contract.md)."""

REASON = "_reason"
DETAIL = "_detail"
ROW_ID = "_row_id"
IS_DUPLICATE_CANDIDATE = "_is_duplicate_candidate"
KEY_HASH = "_key_hash"
NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"
INTEGER = r"^[+-]?\d+$"

_SPARK_TYPES = {
    "string": T.StringType(),
    "date": T.DateType(),
    "timestamp": T.TimestampType(),
    "double": T.DoubleType(),
    "int": T.IntegerType(),
    "long": T.LongType(),
}


def _is_text(df: DataFrame, column: str) -> bool:
    return isinstance(df.schema[column].dataType, T.StringType)


def _blank(col: Column) -> Column:
    """Null, or text that is empty after trimming."""
    return col.isNull() | (F.trim(col.cast("string")) == "")


def _parsed(
    df: DataFrame, schema: SourceSchema, column: str, orders: dict[str, DateOrder | None]
) -> Column:
    spec = schema.spec(column)
    raw = F.col(column)
    target = _SPARK_TYPES[spec.dtype]
    if not _is_text(df, column):
        # Typed input (Parquet): the same rules as for text — no silent truncation, overflow,
        # NaN or infinity; such a value becomes null and the row is quarantined.
        converted = raw.try_cast(target)
        source_type = df.schema[column].dataType
        if isinstance(source_type, T.FractionalType) and spec.dtype in ("int", "long"):
            return F.when(raw == F.floor(raw), converted)
        if isinstance(source_type, T.FractionalType) and spec.dtype == "double":
            as_double = raw.cast("double")
            finite = ~F.isnan(as_double) & (F.abs(as_double) != F.lit(float("inf")))
            return F.when(finite, converted)
        return converted
    text = F.trim(raw)
    if spec.dtype == "string":
        return F.when(text != "", text)
    if spec.dtype in ("date", "timestamp"):
        parts = F.col(_parts(column)) if _parts(column) in df.columns else None
        return parse_timestamp(text, orders.get(column), parts).cast(target)
    pattern = NUMBER if spec.dtype == "double" else INTEGER
    return F.when(text.rlike(pattern), text.try_cast(target))


def _parts(column: str) -> str:
    """Name of the column holding `day_month_parts` of a text date column."""
    return f"_dm_{column}"


def _first_failing(checks: list[tuple[str, Column]]) -> Column:
    """Name of the first column whose check is true (null when none is)."""
    expr = None
    for name, failing in checks:
        expr = F.when(failing, F.lit(name)) if expr is None else expr.when(failing, F.lit(name))
    return expr if expr is not None else F.lit(None).cast("string")


def key_hash(typed_key: Column) -> Column:
    """64-bit hash of a typed id (equal ids hash equally; a collision only makes a candidate)."""
    return F.xxhash64(typed_key)


def with_row_ids(raw_df: DataFrame) -> DataFrame:
    """`raw_df` with `_row_id`: unique, and the same for a row whenever `raw_df`'s scan is run.

    Taken straight off the scan, before any filter or shuffle could change which rows a task
    sees or their order; `candidate_records` relies on it to find rows again by id.
    """
    return raw_df.select("*", F.monotonically_increasing_id().alias(ROW_ID))


def with_row_checks(
    raw_df: DataFrame,
    schema: SourceSchema,
    date_orders: dict[str, DateOrder | None],
    known_customers_df: DataFrame | None = None,
    raw_record: Column | None = None,
    *,
    defer_duplicates: bool = False,
    date_profile: Observation | None = None,
) -> DataFrame:
    """Typed columns (canonical names), `_reason` and `_detail` (the column at fault) for every
    reason but `duplicate_id`, a unique `_row_id`, and `_is_duplicate_candidate`.

    Candidates are the otherwise valid rows of a source with an id. `_raw_record` is kept for
    quarantined rows and candidates only: `raw_record` (default: the `_raw_record` column) is
    evaluated for those rows alone, so its inputs are carried through the checks instead of its
    value.

    `defer_duplicates`: leave `_is_duplicate_candidate` out (and keep no raw record for valid
    rows), for the duplicates to be found afterwards among the written rows (`ingest.staging`).
    `date_profile`: observe on it, as the rows go by, the `date_profile_aggregations` of the
    text date columns.
    """
    raw_record = F.col(RAW) if raw_record is None else raw_record
    carried = [c for c in (RAW, RAW_FIELDS) if c in raw_df.columns]
    names = schema.column_names
    date_cols = [c for c in names if schema.spec(c).dtype in ("date", "timestamp")]
    # The day/month parts get their own projection: computed once, read by several checks.
    text_date_cols = [c for c in date_cols if _is_text(raw_df, c)]
    raw_df = with_row_ids(raw_df).select(
        "*", *[day_month_parts(F.col(c)).alias(_parts(c)) for c in text_date_cols]
    )
    if date_profile is not None:
        parts = [F.col(_parts(c)) for c in text_date_cols]
        raw_df = raw_df.observe(date_profile, *date_profile_aggregations(text_date_cols, parts))
    typed = [_parsed(raw_df, schema, c, date_orders).alias(f"_t_{c}") for c in names]
    staged_df = raw_df.select(
        *[F.col(c) for c in names],
        CORRUPT,
        *carried,
        *[_parts(c) for c in text_date_cols],
        F.col(ROW_ID),
        *typed,
    )

    def t(c: str) -> Column:
        return F.col(f"_t_{c}")

    missing = _first_failing([(c, _blank(F.col(c))) for c in schema.required])
    ambiguous = _first_failing(
        [(c, is_ambiguous(F.col(c), date_orders.get(c), F.col(_parts(c)))) for c in text_date_cols]
    )
    bad_date = _first_failing([(c, ~_blank(F.col(c)) & t(c).isNull()) for c in date_cols])
    number_cols = [c for c in names if schema.spec(c).dtype in ("double", "int", "long")]
    bad_amount = _first_failing(
        [(c, ~_blank(F.col(c)) & t(c).isNull()) for c in number_cols if c == "amount"]
    )
    bad_number = _first_failing(
        [(c, ~_blank(F.col(c)) & t(c).isNull()) for c in number_cols if c != "amount"]
    )
    negative_amount = _first_failing([(c, t(c) < 0) for c in schema.non_negative if c == "amount"])
    negative = _first_failing([(c, t(c) < 0) for c in schema.non_negative if c != "amount"])
    no_column = F.lit(None).cast("string")
    checks = [
        ("malformed_row", no_column, F.col(CORRUPT).isNotNull()),
        ("missing_required", missing, missing.isNotNull()),
        ("ambiguous_date", ambiguous, ambiguous.isNotNull()),
        ("invalid_date", bad_date, bad_date.isNotNull()),
        ("invalid_amount", bad_amount, bad_amount.isNotNull()),
        ("invalid_number", bad_number, bad_number.isNotNull()),
        ("negative_amount", negative_amount, negative_amount.isNotNull()),
        ("negative_value", negative, negative.isNotNull()),
    ]
    reason = F.when(checks[0][2], F.lit(checks[0][0]))
    detail = F.when(checks[0][2], checks[0][1])
    for name, what, failing in checks[1:]:
        reason = reason.when(failing, F.lit(name))
        detail = detail.when(failing, what)
    checked_df = staged_df.select(
        *[t(c).alias(c) for c in names],
        CORRUPT,
        *carried,
        reason.alias(REASON),
        detail.alias(DETAIL),
        F.col(ROW_ID),
    )
    if schema.references_customers and known_customers_df is not None:
        known_df = known_customers_df.select(
            F.col("customer_id").alias("_known_id"), F.lit(True).alias("_is_known")
        )
        joined_df = checked_df.join(
            known_df, on=checked_df["customer_id"] == known_df["_known_id"], how="left"
        )
        unknown = F.col(REASON).isNull() & F.col("_is_known").isNull()
        checked_df = joined_df.select(
            *[F.col(c) for c in checked_df.columns if c not in (REASON, DETAIL)],
            F.when(unknown, F.lit("unknown_customer")).otherwise(F.col(REASON)).alias(REASON),
            F.when(unknown, F.lit("customer_id")).otherwise(F.col(DETAIL)).alias(DETAIL),
        )
    is_valid = F.col(REASON).isNull()
    has_candidates = schema.key is not None and not defer_duplicates
    is_candidate = is_valid if has_candidates else F.lit(False)
    return checked_df.select(
        *[F.col(c) for c in names],
        F.when(~is_valid | is_candidate, raw_record).alias(RAW),
        F.col(REASON),
        F.col(DETAIL),
        F.col(ROW_ID),
        *([] if defer_duplicates else [is_candidate.alias(IS_DUPLICATE_CANDIDATE)]),
    )


def candidate_records(
    raw_df: DataFrame, schema: SourceSchema, raw_record: Column, candidates_df: DataFrame
) -> DataFrame:
    """`_row_id`, `_raw_record` and `_is_same_row` of the rows of `raw_df` picked by
    `candidates_df` (`_row_id`, `_key_hash`), from another pass over `raw_df`'s scan.

    `_is_same_row` is whether the row's typed id still hashes (`key_hash`) to the one picked:
    false (or a picked row missing) means the source changed since the pass that gave the ids.
    """
    rows_df = with_row_ids(raw_df)
    picked_df = candidates_df.select(
        F.col(ROW_ID).alias("_picked_id"), F.col(KEY_HASH).alias("_picked_hash")
    )
    joined_df = rows_df.join(picked_df, on=rows_df[ROW_ID] == picked_df["_picked_id"])
    assert schema.key is not None
    typed_key = _parsed(joined_df, schema, schema.key, {})
    return joined_df.select(
        F.col(ROW_ID),
        raw_record.alias(RAW),
        F.coalesce(key_hash(typed_key) == F.col("_picked_hash"), F.lit(False)).alias(
            "_is_same_row"
        ),
    )


def with_duplicates(checked_df: DataFrame, schema: SourceSchema) -> DataFrame:
    """Settle `duplicate_id` among the candidates of `with_row_checks`: of the valid rows with
    one id, the first by raw record is kept (deterministic) and the others are quarantined."""
    names = schema.column_names
    if schema.key is None:
        return checked_df.select(*names, RAW, REASON, DETAIL)
    same_id = (
        Window.partitionBy(schema.key)
        .orderBy(RAW, ROW_ID)
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    # Candidates are few (ids seen twice): the loser ids are broadcast to the rows.
    losers_df = (
        checked_df.where(F.col(IS_DUPLICATE_CANDIDATE))
        .select(ROW_ID, F.row_number().over(same_id).alias("_position"))
        .where(F.col("_position") > 1)
        .select(F.col(ROW_ID).alias("_loser_id"), F.lit(True).alias("_is_duplicate"))
    )
    joined_df = checked_df.join(
        F.broadcast(losers_df), on=checked_df[ROW_ID] == losers_df["_loser_id"], how="left"
    )
    duplicate = F.col("_is_duplicate").isNotNull()
    return joined_df.select(
        *[F.col(c) for c in names],
        F.col(RAW),
        F.when(duplicate, F.lit("duplicate_id")).otherwise(F.col(REASON)).alias(REASON),
        F.when(duplicate, F.lit(schema.key)).otherwise(F.col(DETAIL)).alias(DETAIL),
    )


def with_validation(
    raw_df: DataFrame,
    schema: SourceSchema,
    date_orders: dict[str, DateOrder | None],
    known_customers_df: DataFrame | None = None,
) -> DataFrame:
    """Typed columns (canonical names), `_raw_record`, `_reason` and `_detail` for every row."""
    checked_df = with_row_checks(raw_df, schema, date_orders, known_customers_df)
    return with_duplicates(checked_df, schema)


def accepted(validated_df: DataFrame, schema: SourceSchema) -> DataFrame:
    """The rows without a reason, with the contract's typed columns."""
    return validated_df.where(F.col(REASON).isNull()).select(*schema.column_names)


def quarantined(validated_df: DataFrame, schema: SourceSchema) -> DataFrame:
    """The rows with a reason: source, reason, the column at fault and the original record."""
    return validated_df.where(F.col(REASON).isNotNull()).select(
        F.lit(schema.name).alias("source"),
        F.col(REASON).alias("reason"),
        F.col(DETAIL).alias("column"),
        F.col(RAW).alias("raw_record"),
    )
