"""Injecting realistic defects into raw sources, with a ground truth of every defect.

Transactions: a selected row is replaced by a corrupted copy (or, for duplicate ids, written
twice). Customers: defects arrive as extra rows (a duplicated record, a half-filled record with
no id, a record with a malformed date under a fresh id) so that no real customer disappears and
no transaction is orphaned by a customer defect.

Every injected row is listed in the ground truth with the exact CSV line written for it (or the
JSON of the row for Parquet), the defect, the field and the quarantine reason the pipeline must
give: one of the pipeline's reason codes (`c360_pipeline.ingest.validate.REASONS`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from mock_data.randomness import categorical, uniform
from mock_data.text import csv_field, csv_line

TEXT_ONLY_DEFECTS = frozenset({"invalid_date", "ambiguous_date", "invalid_amount", "malformed_row"})
"""Defects that only a text format can carry (a Parquet column has a type)."""

TRANSACTION_DEFECTS = (
    "invalid_date",
    "ambiguous_date",
    "invalid_amount",
    "negative_amount",
    "unknown_customer",
    "duplicate_id",
    "missing_required",
    "malformed_row",
)
CUSTOMER_DEFECTS = ("duplicate_id", "missing_required", "invalid_date")

TRANSACTION_REQUIRED = ("transaction_id", "customer_id", "transaction_date", "amount")
INVALID_DATES = ("2024-13-45", "2023-02-30", "not a date", "N/A", "0000-00-00", "31/31/2024")
INVALID_AMOUNTS = ("N/A", "twelve", "12.3.4", "$", "4..50", "1O0.00")

GROUND_TRUTH_COLUMNS = (
    "source",
    "defect",
    "variant",
    "expected_reason",
    "row_key",
    "field",
    "dirty_value",
    "raw_line",
)


@dataclass(frozen=True)
class DirtyResult:
    """The rows to write (clean and dirty, as text) and the ground truth of the dirty ones."""

    rows_df: DataFrame
    ground_truth_df: DataFrame


def allowed_defects(defects: tuple[str, ...], file_format: str, date_style: str) -> tuple[str, ...]:
    """The defects a file of this format and date style can carry."""
    allowed = [d for d in defects if file_format == "csv" or d not in TEXT_ONLY_DEFECTS]
    # A slash date with day and month <= 12 is only undecidable in a file that has no
    # slash dates of its own to decide the order from.
    if date_style not in ("iso", "compact"):
        allowed = [d for d in allowed if d != "ambiguous_date"]
    return tuple(allowed)


def _pick(u: Column, values: tuple[str, ...]) -> Column:
    return categorical(u, list(values), [1.0] * len(values))


def _mark(
    text_df: DataFrame,
    key: Column,
    defects: tuple[str, ...],
    *,
    seed: int,
    fraction: float,
    stream: str,
) -> DataFrame:
    """Add `_is_dirty` (chosen with probability `fraction`), `_defect` and a variant draw `_v`."""
    return text_df.select(
        "*",
        (uniform(seed, stream, key) < F.lit(fraction)).alias("_is_dirty"),
        _pick(uniform(seed, f"{stream}_kind", key), defects).alias("_defect"),
        uniform(seed, f"{stream}_variant", key).alias("_v"),
    )


def _ambiguous(date_text: Column) -> Column:
    """An ISO (or yyyymmdd) date rewritten as dd/mm/yyyy with day and month <= 12, unequal."""
    d = F.coalesce(F.try_to_date(date_text, "yyyy-MM-dd"), F.try_to_date(date_text, "yyyyMMdd"))
    month = F.month(d)
    day = (F.dayofmonth(d) - 1) % 12 + 1
    day = F.when(day == month, day % 12 + 1).otherwise(day)
    return F.format_string("%02d/%02d/%04d", day, month, F.year(d))


def _raw_line(columns: list[str], file_format: str, raw_field: str | None = None) -> Column:
    """The row as written: a CSV line (one field left unescaped if asked), or JSON for Parquet."""
    if file_format != "csv":
        return F.to_json(F.struct(*[F.col(c) for c in columns]))
    if raw_field is None:
        return csv_line([F.col(c) for c in columns])
    return F.concat_ws(
        ",",
        *[
            F.coalesce(F.col(c), F.lit("")) if c == raw_field else csv_field(F.col(c))
            for c in columns
        ],
    )


def _dirty_value(columns: list[str], field: Column) -> Column:
    expr = F.when(F.lit(False), F.lit(None).cast("string"))
    for c in columns:
        expr = expr.when(field == c, F.col(c))
    return expr


def _assemble(
    source: str,
    columns: list[str],
    clean_df: DataFrame,
    injected_df: DataFrame,
    file_format: str,
) -> DirtyResult:
    """Union clean and injected rows (with their raw lines) and list the injected ones."""
    clean_rows_df = clean_df.select(*columns, _raw_line(columns, file_format).alias("_raw_line"))
    rows_df = clean_rows_df.unionByName(injected_df.select(*columns, "_raw_line"))
    ground_truth_df = injected_df.select(
        F.lit(source).alias("source"),
        F.col("_defect").alias("defect"),
        F.col("_variant").alias("variant"),
        F.col("_defect").alias("expected_reason"),
        F.col("_row_key").alias("row_key"),
        F.col("_field").alias("field"),
        _dirty_value(columns, F.col("_field")).alias("dirty_value"),
        F.col("_raw_line").alias("raw_line"),
    )
    return DirtyResult(rows_df=rows_df, ground_truth_df=ground_truth_df)


def inject_transaction_defects(
    text_df: DataFrame,
    *,
    fraction: float,
    seed: int,
    customers: int,
    file_format: str,
    date_style: str,
) -> DirtyResult:
    """Corrupt about `fraction` of the transaction rows (all columns rendered as strings)."""
    columns = text_df.columns
    key = F.col("transaction_id")
    defects = allowed_defects(TRANSACTION_DEFECTS, file_format, date_style)
    marked_df = _mark(text_df, key, defects, seed=seed, fraction=fraction, stream="dirty")
    v, defect = F.col("_v"), F.col("_defect")
    missing_field = _pick(v, TRANSACTION_REQUIRED)
    malformed_variant = _pick(v, ("stray_delimiter", "stray_quote", "truncated_row"))
    # Looks like a real id, but lies above every generated customer.
    unknown_number = F.lit(customers + 1) + F.pmod(F.xxhash64(F.lit(seed), key), F.lit(1_000_000))
    unknown_id = F.concat(F.lit("C"), F.lpad(unknown_number.cast("string"), 8, "0"))
    variant = (
        F.when(defect == "missing_required", missing_field)
        .when(defect == "malformed_row", malformed_variant)
        .when(defect == "invalid_date", _pick(v, INVALID_DATES))
        .when(defect == "invalid_amount", _pick(v, INVALID_AMOUNTS))
    )
    field = (
        F.when(defect == "missing_required", missing_field)
        .when(defect.isin("invalid_date", "ambiguous_date"), F.lit("transaction_date"))
        .when(defect.isin("invalid_amount", "negative_amount"), F.lit("amount"))
        .when(defect == "unknown_customer", F.lit("customer_id"))
        .when(defect == "duplicate_id", F.lit("transaction_id"))
    )

    def corrupt(name: str) -> Column:
        col = F.col(name)
        expr = F.when(
            (defect == "missing_required") & (missing_field == name), F.lit(None).cast("string")
        )
        if name == "transaction_date":
            expr = expr.when(defect == "invalid_date", variant).when(
                defect == "ambiguous_date", _ambiguous(col)
            )
        elif name == "amount":
            expr = expr.when(defect == "invalid_amount", variant).when(
                defect == "negative_amount", F.concat(F.lit("-"), col)
            )
        elif name == "customer_id":
            expr = expr.when(defect == "unknown_customer", unknown_id)
        elif name == "category":
            expr = expr.when(
                (defect == "malformed_row") & (malformed_variant == "stray_delimiter"),
                F.concat(col, F.lit(", sale")),
            ).when(
                (defect == "malformed_row") & (malformed_variant == "stray_quote"),
                F.concat(F.lit('"'), col),
            )
        return expr.otherwise(col).alias(name)

    corrupted_df = marked_df.where(F.col("_is_dirty")).select(
        *[corrupt(c) for c in columns],
        defect.alias("_defect"),
        variant.alias("_variant"),
        field.alias("_field"),
        key.alias("_row_key"),
    )
    if file_format == "csv":
        # A CSV writer would quote a stray delimiter or quote away: malformed rows are raw text.
        variant_col = F.col("_variant")
        raw = (
            F.when(
                variant_col.isin("stray_delimiter", "stray_quote"),
                _raw_line(columns, file_format, raw_field="category"),
            )
            .when(variant_col == "truncated_row", csv_line([F.col(c) for c in columns[:-3]]))
            .otherwise(_raw_line(columns, file_format))
        )
    else:
        raw = _raw_line(columns, file_format)
    injected_df = corrupted_df.select("*", raw.alias("_raw_line"))
    # A duplicate keeps its original row: the injected copy is the extra one.
    clean_df = marked_df.where(~F.col("_is_dirty") | (defect == "duplicate_id"))
    return _assemble("transactions", columns, clean_df, injected_df, file_format)


def inject_customer_defects(
    text_df: DataFrame,
    *,
    fraction: float,
    seed: int,
    customers: int,
    file_format: str,
    date_style: str,
) -> DirtyResult:
    """Add about `fraction` x customers defective extra customer rows (all columns as strings)."""
    columns = text_df.columns
    key = F.col("customer_id")
    defects = allowed_defects(CUSTOMER_DEFECTS, file_format, date_style)
    marked_df = _mark(text_df, key, defects, seed=seed, fraction=fraction, stream="c_dirty")
    v, defect = F.col("_v"), F.col("_defect")
    # Fresh ids for junk records, disjoint from real customers and from unknown-customer ids.
    number = F.lit(customers + 2_000_001) + F.substring(key, 2, 8).cast("long")
    fresh_id = F.concat(F.lit("C"), F.lpad(number.cast("string"), 8, "0"))
    date_field = _pick(v, ("signup_date", "birth_date"))
    bad_date = _pick(uniform(seed, "c_bad_date", key), INVALID_DATES)

    def corrupt(name: str) -> Column:
        col = F.col(name)
        expr = F.when(F.lit(False), F.lit(None).cast("string"))
        if name == "customer_id":
            expr = expr.when(defect == "missing_required", F.lit(None).cast("string")).when(
                defect == "invalid_date", fresh_id
            )
        elif name in ("signup_date", "birth_date"):
            expr = expr.when((defect == "invalid_date") & (date_field == name), bad_date)
        return expr.otherwise(col).alias(name)

    injected_df = (
        marked_df.where(F.col("_is_dirty"))
        .select(
            *[corrupt(c) for c in columns],
            defect.alias("_defect"),
            F.when(defect == "invalid_date", bad_date).alias("_variant"),
            F.when(defect == "missing_required", F.lit("customer_id"))
            .when(defect == "invalid_date", date_field)
            .when(defect == "duplicate_id", F.lit("customer_id"))
            .alias("_field"),
            key.alias("_row_key"),
        )
        .select("*", _raw_line(columns, file_format).alias("_raw_line"))
    )
    return _assemble("customers", columns, marked_df, injected_df, file_format)
