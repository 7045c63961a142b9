"""Ingesting generated data: every injected defect is quarantined with its reason, nothing else."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from c360_pipeline.ingest.dataset import count_raw_rows, find_sources, validate_dataset
from c360_pipeline.ingest.readers import SourceError
from c360_pipeline.ingest.validate import REASONS
from mock_data.defects import CUSTOMER_DEFECTS, TRANSACTION_DEFECTS
from tests.conftest import Dataset, read_ground_truth


def test_generator_reasons_are_pipeline_reasons() -> None:
    assert set(TRANSACTION_DEFECTS) | set(CUSTOMER_DEFECTS) <= set(REASONS)


def test_clean_data_is_accepted_whole(
    spark: SparkSession, clean_dataset: Dataset, tmp_path: Path
) -> None:
    found = find_sources(spark, str(clean_dataset.path))
    assert set(found) == set(clean_dataset.result.rows)
    validated = validate_dataset(spark, found)
    for name, source in validated.items():
        assert source.quarantine_df.count() == 0, name
        assert source.accepted_df.count() == clean_dataset.result.rows[name], name


def test_every_injected_defect_and_nothing_else_is_quarantined(
    spark: SparkSession, dirty_dataset: Dataset, tmp_path: Path
) -> None:
    validated = validate_dataset(spark, find_sources(spark, str(dirty_dataset.path)))
    for name in ("transactions", "customers"):
        source = validated[name]
        rows = source.quarantine_df.collect()
        truth = read_ground_truth(dirty_dataset, name)
        # Ground truth keeps the raw line; the quarantine keeps JSON of fields or the raw line.
        assert Counter(r.reason for r in rows) == Counter(t["expected_reason"] for t in truth), name
        accepted = source.accepted_df.count()
        assert accepted + len(rows) == dirty_dataset.result.rows[name], name
    transactions = validated["transactions"]
    malformed = {
        r.raw_record for r in transactions.quarantine_df.where("reason = 'malformed_row'").collect()
    }
    assert malformed == {
        t["raw_line"]
        for t in read_ground_truth(dirty_dataset, "transactions")
        if t["defect"] == "malformed_row"
    }
    by_key = Counter(
        (json.loads(r.raw_record).get("transaction_id"), r.reason)
        for r in transactions.quarantine_df.where("reason != 'malformed_row'").collect()
    )
    expected = Counter(
        (t["row_key"] if t["field"] != "transaction_id" or t["defect"] == "duplicate_id" else None,
         t["expected_reason"])
        for t in read_ground_truth(dirty_dataset, "transactions")
        if t["defect"] != "malformed_row"
    )  # fmt: skip
    assert by_key == expected
    # Other sources are clean and all their customers are known.
    for name in ("loyalty", "support_tickets", "interactions", "digital_events", "products"):
        assert validated[name].quarantine_df.count() == 0, name


def test_missing_transactions_is_a_clear_error(spark: SparkSession, tmp_path: object) -> None:
    with pytest.raises(SourceError, match="no transactions source"):
        find_sources(spark, str(tmp_path))


def test_a_short_row_is_malformed_whichever_columns_are_read(
    spark: SparkSession, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "customers.csv").write_text(
        "customer_id,name,email,signup_date\nc1,Ann,ann@example.com,2024-01-02\nc2,Bob\n"
    )
    (raw / "transactions.csv").write_text(
        "transaction_id,customer_id,transaction_date,amount\nt1,c1,2024-03-05,1.00\n"
    )

    found = find_sources(spark, str(raw))
    customers = validate_dataset(spark, found)["customers"]

    # Reading only the id must not turn the short row into an accepted customer.
    assert [r.customer_id for r in customers.accepted_df.select("customer_id").collect()] == ["c1"]
    assert [r.reason for r in customers.quarantine_df.collect()] == ["malformed_row"]


def test_raw_rows_are_counted_without_blank_lines(spark: SparkSession, tmp_path: Path) -> None:
    # The conservation check's independent count: every non-blank line but the headers.
    raw = tmp_path / "raw" / "transactions"
    raw.mkdir(parents=True)
    header = "transaction_id,customer_id,transaction_date,amount\n"
    (raw / "part-1.csv").write_text(
        header + "t1,c1,2024-03-05,1.00\n\n   \n  t2,c1,2024-03-06,2.00\n \tt3,c2,x,y\n"
    )
    (raw / "part-2.csv").write_text(header + "t4,c2,2024-03-07,3.00\n    \n")

    found = find_sources(spark, str(tmp_path / "raw"))

    # t1, "  t2", " \tt3" (a tab is not blank) and t4; not the empty or spaces-only lines.
    assert count_raw_rows(spark, found["transactions"]) == 4
