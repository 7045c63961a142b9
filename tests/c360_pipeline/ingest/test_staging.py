"""Staging: one pass writes the checked rows; late day/month dates and duplicated ids are settled
from the written rows, with another pass over the raw source only when the data needs one."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from c360_pipeline.ingest import dataset
from c360_pipeline.ingest.dataset import ValidatedSource, find_sources, validate_dataset
from c360_pipeline.ingest.dates import DateOrderError
from c360_pipeline.ingest.readers import read_source
from c360_pipeline.ingest.staging import StagedSource, stage_source
from c360_pipeline.ingest.validate import KEY_HASH, RAW, ROW_ID, candidate_records
from c360_pipeline.schemas import SOURCES

HEADER = "transaction_id,customer_id,transaction_date,amount\n"


def _write(raw: Path, name: str, text: str) -> None:
    raw.mkdir(parents=True, exist_ok=True)
    (raw / f"{name}.csv").write_text(text)


def _validated(spark: SparkSession, raw: Path, **kwargs: object) -> dict[str, ValidatedSource]:
    return validate_dataset(spark, find_sources(spark, str(raw)), **kwargs)  # type: ignore[arg-type]


def _first_look_sees_one_row(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: str
) -> ValidatedSource:
    """The transactions `rows`, validated by a first look that reads only the first row."""
    monkeypatch.setattr(dataset, "FIRST_ROWS", 1)
    _write(tmp_path / "raw", "transactions", HEADER + rows)
    return _validated(spark, tmp_path / "raw")["transactions"]


def _stage(spark: SparkSession, source: ValidatedSource, tmp_path: Path) -> StagedSource:
    return stage_source(spark, source, str(tmp_path / "staging" / source.raw.schema.name))


def _rows(spark: SparkSession, staged: StagedSource) -> dict[str, tuple[object, ...]]:
    """transaction_id -> (transaction_date, reason, raw record) of every staged row."""
    df = staged.validated_df(spark)
    return {
        r.transaction_id: (r.transaction_date, r._reason, r[RAW])
        for r in df.select("transaction_id", "transaction_date", "_reason", RAW).collect()
    }


def test_iso_dates_are_decided_without_a_first_pass(spark: SparkSession, tmp_path: Path) -> None:
    _write(tmp_path / "raw", "transactions", HEADER + "t1,c1,2024-03-05,1.00\nt2,c1,x,2.00\n")

    source = _validated(spark, tmp_path / "raw")["transactions"]
    assert source.pending_date_columns == ["transaction_date"]
    staged = _stage(spark, source, tmp_path)

    assert staged.date_orders == {"transaction_date": None}
    assert staged.accepted == 1
    assert staged.by_reason == {"invalid_date": 1}
    rows = _rows(spark, staged)
    assert rows["t1"][:2] == (date(2024, 3, 5), None)
    assert rows["t2"][1] == "invalid_date"
    assert json.loads(rows["t2"][2]) == {
        "transaction_id": "t2", "customer_id": "c1", "transaction_date": "x", "amount": "2.00"
    }  # fmt: skip


def test_day_month_dates_in_the_first_rows_are_profiled_first(
    spark: SparkSession, tmp_path: Path
) -> None:
    _write(tmp_path / "raw", "transactions", HEADER + "t1,c1,25/03/2025,1.00\n")
    source = _validated(spark, tmp_path / "raw")["transactions"]
    assert source.pending_date_columns == []
    assert source.date_orders == {"transaction_date": "dmy"}


def test_day_month_dates_after_the_first_rows_are_checked_again(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _first_look_sees_one_row(
        spark, tmp_path, monkeypatch,
        "t1,c1,2024-03-05,1.00\nt2,c1,25/03/2025,2.00\nt3,c1,03/04/2025,-3.00\n",
    )  # fmt: skip
    assert source.pending_date_columns == ["transaction_date"]

    staged = _stage(spark, source, tmp_path)

    # Day-first, decided by 25/03: 03/04 is the 3rd of April, and its row's next check applies.
    assert staged.date_orders == {"transaction_date": "dmy"}
    rows = _rows(spark, staged)
    assert {k: v[:2] for k, v in rows.items()} == {
        "t1": (date(2024, 3, 5), None),
        "t2": (date(2025, 3, 25), None),
        "t3": (date(2025, 4, 3), "negative_amount"),
    }
    assert (staged.accepted, staged.by_reason) == (2, {"negative_amount": 1})


def test_undecidable_dates_after_the_first_rows_fail_clearly(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _first_look_sees_one_row(
        spark, tmp_path, monkeypatch,
        "t1,c1,2024-03-05,1.00\nt2,c1,03/04/2025,2.00\nt3,c1,05/06/2025,3.00\n",
    )  # fmt: skip
    with pytest.raises(DateOrderError, match="--date-order"):
        _stage(spark, source, tmp_path)


def test_a_customer_known_only_by_a_late_day_first_date_is_known(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dataset, "FIRST_ROWS", 1)
    raw = tmp_path / "raw"
    _write(
        raw,
        "customers",
        "customer_id,name,email,signup_date\n"
        "c1,Ann,ann@example.com,2024-01-02\nc2,Bob,bob@example.com,25/03/2024\n",
    )
    _write(raw, "transactions", HEADER + "t1,c1,2024-03-05,1.00\nt2,c2,2024-04-06,2.00\n")

    validated = _validated(spark, raw)

    # Read undecided, 25/03/2024 would be an invalid date and c2 an unknown customer.
    assert validated["customers"].date_orders["signup_date"] == "dmy"
    transactions = _stage(spark, validated["transactions"], tmp_path)
    assert (transactions.accepted, transactions.by_reason) == (2, {})


def test_known_customers_from_the_staged_customers(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline's path: customers staged first, the known ids taken from their staged rows."""
    monkeypatch.setattr(dataset, "FIRST_ROWS", 1)
    raw = tmp_path / "raw"
    _write(
        raw,
        "customers",
        "customer_id,name,email,signup_date\n"
        "c1,Ann,ann@example.com,2024-01-02\n"
        "c2,Bob,bob@example.com,25/03/2024\n"  # known only once the late date decides dmy
        "c3,Cy,cy@example.com,not a date\n"  # quarantined: not a known customer
        "c1,Ann,ann@example.com,2024-01-02\n",  # a duplicate: c1 is still known
    )
    _write(
        raw,
        "transactions",
        HEADER + "t1,c1,2024-03-05,1.00\nt2,c2,2024-04-06,2.00\nt3,c3,2024-04-07,3.00\n"
        "t4,c4,2024-04-08,4.00\n",
    )
    validated = dataset.read_dataset(spark, find_sources(spark, str(raw)))
    assert validated["transactions"].known_customers_df is None

    customers = _stage(spark, validated["customers"], tmp_path)
    known_df = dataset.known_customer_ids(customers.checked_rows_df(spark))
    dataset.attach_known_customers(validated, known_df)
    transactions = _stage(spark, validated["transactions"], tmp_path)

    assert customers.by_reason == {"duplicate_id": 1, "invalid_date": 1}
    assert (transactions.accepted, transactions.by_reason) == (2, {"unknown_customer": 2})
    unknown = transactions.validated_df(spark).where(F.col("_reason") == "unknown_customer")
    assert sorted(r.transaction_id for r in unknown.collect()) == ["t3", "t4"]
    validated["transactions"].release()


def test_duplicated_ids_keep_the_first_raw_record_and_quarantine_the_rest(
    spark: SparkSession, tmp_path: Path
) -> None:
    _write(
        tmp_path / "raw",
        "transactions",
        HEADER
        + "t1,c2,2024-03-05,9.00\n"
        + "t2,c1,2024-03-06,2.00\n"
        + "t1,c1,2024-03-05,1.00\n"
        + "t1,c1,bad,1.00\n"  # invalid: not a candidate, quarantined for its date
        + "t3,c1,2024-03-07,3.00\n"
        + "t3,c1,2024-03-07,3.00\n",
    )
    staged = _stage(spark, _validated(spark, tmp_path / "raw")["transactions"], tmp_path)

    assert staged.candidates == 4
    assert staged.accepted == 3
    assert staged.by_reason == {"duplicate_id": 2, "invalid_date": 1}
    df = staged.validated_df(spark)
    accepted = df.where(F.col("_reason").isNull()).select("transaction_id", "customer_id")
    # The kept t1 is the first by raw record: {"...":"t1","customer_id":"c1",...} < "c2".
    assert sorted(tuple(r) for r in accepted.collect()) == [
        ("t1", "c1"), ("t2", "c1"), ("t3", "c1")
    ]  # fmt: skip
    losers = df.where(F.col("_reason") == "duplicate_id").select(RAW, "_detail").collect()
    assert sorted(json.loads(r[RAW])["customer_id"] for r in losers) == ["c1", "c2"]
    assert {r["_detail"] for r in losers} == {"transaction_id"}


def test_a_source_without_duplicates_reads_no_second_time(
    spark: SparkSession, tmp_path: Path
) -> None:
    _write(tmp_path / "raw", "transactions", HEADER + "t1,c1,2024-03-05,1.00\n")
    staged = _stage(spark, _validated(spark, tmp_path / "raw")["transactions"], tmp_path)
    assert staged.candidates == 0
    assert not Path(staged.candidates_path).exists()
    assert staged.validated_df(spark).count() == 1


def test_candidate_records_tell_a_changed_row(spark: SparkSession, tmp_path: Path) -> None:
    _write(tmp_path / "raw", "transactions", HEADER + "t1,c1,2024-03-05,1.00\nt2,c1,x,2\n")
    raw = read_source(spark, SOURCES["transactions"], str(tmp_path / "raw"), "csv")
    ids = raw.df.select(F.monotonically_increasing_id().alias(ROW_ID), "transaction_id")
    by_id = {r.transaction_id: r[ROW_ID] for r in ids.collect()}
    picked_df = spark.createDataFrame(
        [(by_id["t1"], _key_hash_of(spark, "t1")), (by_id["t2"], _key_hash_of(spark, "t9"))],
        f"{ROW_ID} long, {KEY_HASH} long",
    )

    records = {
        r[ROW_ID]: (json.loads(r[RAW])["transaction_id"], r["_is_same_row"])
        for r in candidate_records(raw.df, raw.schema, raw.raw_record, picked_df).collect()
    }

    assert records == {by_id["t1"]: ("t1", True), by_id["t2"]: ("t2", False)}


def _key_hash_of(spark: SparkSession, value: str) -> int:
    """The `_key_hash` of a text id."""
    row = spark.range(1).select(F.xxhash64(F.lit(value))).first()
    assert row is not None
    return int(row[0])
