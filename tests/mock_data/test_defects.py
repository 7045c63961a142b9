"""Dirty data: the ground truth lists exactly what was injected, and only that."""

from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from datetime import date, datetime

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from mock_data.defects import CUSTOMER_DEFECTS, TEXT_ONLY_DEFECTS, TRANSACTION_DEFECTS
from tests.conftest import Dataset, read_ground_truth, read_lines

TRANSACTION_COLUMNS = 10
ACCEPTED_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%m/%d/%Y", "%Y%m%d")


def parses_as_date(value: str) -> bool:
    """True when any accepted date format reads the value."""
    for fmt in ACCEPTED_DATE_FORMATS:
        try:
            datetime.strptime(value, fmt)
        except ValueError:
            continue
        return True
    return False


def test_ground_truth_lines_are_exactly_the_injected_lines(
    clean_dataset: Dataset, dirty_dataset: Dataset
) -> None:
    """Dirty file = clean file - corrupted originals + injected lines (as multisets)."""
    for source, key_index in (("transactions", 0), ("customers", 0)):
        truth = read_ground_truth(dirty_dataset, source)
        assert truth, source
        _, clean_lines = read_lines(clean_dataset.path, source)
        _, dirty_lines = read_lines(dirty_dataset.path, source)
        replaced = {
            t["row_key"]
            for t in truth
            if source == "transactions" and t["defect"] != "duplicate_id"
        }
        kept = [line for line in clean_lines if line.split(",")[key_index] not in replaced]
        expected = Counter(kept) + Counter(str(t["raw_line"]) for t in truth)
        assert Counter(dirty_lines) == expected, source
        assert dirty_dataset.result.defects[source] == len(truth)


def test_every_defect_kind_is_injected_at_the_requested_rate(
    clean_dataset: Dataset, dirty_dataset: Dataset
) -> None:
    truth = read_ground_truth(dirty_dataset, "transactions")
    assert {t["defect"] for t in truth} == set(TRANSACTION_DEFECTS)
    assert all(t["expected_reason"] == t["defect"] for t in truth)
    n = clean_dataset.result.rows["transactions"]
    expected, sigma = 0.08 * n, math.sqrt(n * 0.08 * 0.92)
    assert abs(len(truth) - expected) < 5 * sigma
    customer_truth = read_ground_truth(dirty_dataset, "customers")
    assert {t["defect"] for t in customer_truth} == set(CUSTOMER_DEFECTS)


def test_each_transaction_defect_is_what_it_claims(
    clean_dataset: Dataset, dirty_dataset: Dataset
) -> None:
    customers = {line.split(",")[0] for line in read_lines(clean_dataset.path, "customers")[1]}
    _, dirty_lines = read_lines(dirty_dataset.path, "transactions")
    id_counts = Counter(line.split(",")[0] for line in dirty_lines)
    for record in read_ground_truth(dirty_dataset, "transactions"):
        raw = str(record["raw_line"])
        defect = record["defect"]
        fields = next(csv.reader([raw]))
        if defect == "malformed_row":
            assert record["variant"] in ("stray_delimiter", "stray_quote", "truncated_row")
            assert len(fields) != TRANSACTION_COLUMNS or '"' in raw, raw
            continue
        assert len(fields) == TRANSACTION_COLUMNS, raw
        row = dict(
            zip(
                ["transaction_id", "customer_id", "transaction_date", "product_id", "category",
                 "quantity", "amount", "channel", "store_id", "region"],
                fields,
                strict=True,
            )
        )  # fmt: skip
        field = str(record["field"])
        if defect == "missing_required":
            assert row[field] == ""
            assert record["variant"] == field
        elif defect == "invalid_date":
            assert not parses_as_date(row["transaction_date"])
        elif defect == "ambiguous_date":
            day, month, _ = (int(p) for p in row["transaction_date"].split("/"))
            assert day <= 12
            assert month <= 12
            assert day != month
        elif defect == "invalid_amount":
            assert re.fullmatch(r"-?\d+(\.\d+)?", row["amount"]) is None
        elif defect == "negative_amount":
            assert float(row["amount"]) < 0
        elif defect == "unknown_customer":
            assert row["customer_id"] not in customers
            assert re.fullmatch(r"C\d{8}", row["customer_id"])
        elif defect == "duplicate_id":
            assert id_counts[row["transaction_id"]] == 2
        else:
            raise AssertionError(f"unexpected defect {defect}")
        if field != "":
            assert record["dirty_value"] == (row[field] or None)


def test_spark_flags_exactly_the_malformed_rows(
    spark: SparkSession, dirty_dataset: Dataset
) -> None:
    df = (
        spark.read.option("header", True)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", "_corrupt_record")
        .schema("transaction_id string, customer_id string, transaction_date string, "
                "product_id string, category string, quantity string, amount string, "
                "channel string, store_id string, region string, _corrupt_record string")
        .csv(str(dirty_dataset.path / "transactions"))
    )  # fmt: skip
    flagged = {r._corrupt_record for r in df.where(F.col("_corrupt_record").isNotNull()).collect()}
    malformed = {
        t["raw_line"]
        for t in read_ground_truth(dirty_dataset, "transactions")
        if t["defect"] == "malformed_row"
    }
    assert malformed
    assert flagged == malformed


def test_customer_defects_never_orphan_a_transaction(
    clean_dataset: Dataset, dirty_dataset: Dataset
) -> None:
    clean_ids = {line.split(",")[0] for line in read_lines(clean_dataset.path, "customers")[1]}
    _, dirty_customer_lines = read_lines(dirty_dataset.path, "customers")
    id_counts = Counter(line.split(",")[0] for line in dirty_customer_lines)
    for record in read_ground_truth(dirty_dataset, "customers"):
        fields = next(csv.reader([str(record["raw_line"])]))
        if record["defect"] == "duplicate_id":
            assert id_counts[fields[0]] == 2
        elif record["defect"] == "missing_required":
            assert fields[0] == ""
        else:
            assert record["defect"] == "invalid_date"
            assert fields[0] not in clean_ids
            value = fields[3] if record["field"] == "signup_date" else fields[4]
            assert not parses_as_date(value)
    # Every real customer still has exactly one well-formed record among the dirty rows.
    assert clean_ids <= set(id_counts)


def test_parquet_dirty_data_is_typed_and_carries_only_typed_defects(
    spark: SparkSession, dirty_parquet_dataset: Dataset
) -> None:
    transactions = spark.read.parquet(str(dirty_parquet_dataset.path / "transactions"))
    types = dict(transactions.dtypes)
    assert types["transaction_date"] == "date"
    assert types["amount"] == "double"
    assert types["quantity"] == "int"
    truth = read_ground_truth(dirty_parquet_dataset, "transactions")
    kinds = {t["defect"] for t in truth}
    assert kinds == set(TRANSACTION_DEFECTS) - TEXT_ONLY_DEFECTS
    assert transactions.count() == dirty_parquet_dataset.result.rows["transactions"]
    negatives = transactions.where(F.col("amount") < 0).count()
    assert negatives == sum(t["defect"] == "negative_amount" for t in truth)
    missing = transactions.where(
        F.col("transaction_id").isNull()
        | F.col("customer_id").isNull()
        | F.col("transaction_date").isNull()
        | F.col("amount").isNull()
    ).count()
    assert missing == sum(t["defect"] == "missing_required" for t in truth)
    duplicates = (
        transactions.where(F.col("transaction_id").isNotNull())
        .groupBy("transaction_id")
        .count()
        .where("count > 1")
        .count()
    )
    assert duplicates == sum(t["defect"] == "duplicate_id" for t in truth)
    for record in truth:
        row = json.loads(str(record["raw_line"]))
        if row.get("transaction_date"):
            assert date.fromisoformat(row["transaction_date"])
