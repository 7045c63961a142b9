"""`run --if-changed`: unchanged input and options publish nothing; a change builds again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from structlog.testing import capture_logs

from c360_pipeline import snapshots
from c360_pipeline.run import (
    INPUTS_UNCHANGED,
    PipelineError,
    RunOptions,
    RunResult,
    SkippedRun,
    run_pipeline,
    run_pipeline_if_changed,
)
from c360_pipeline.settings import PipelineSettings

TRANSACTIONS = (
    "customer_id,invoice_date,invoice_id,amount,product,category\n"
    "A1,25/03/2025,INV-1,10.50,P1,Books\n"
    "B2,03/04/2025,INV-2,20.00,P2,Toys\n"
    "C3,01/05/2025,INV-3,5.25,,\n"
)


def write_raw(raw: Path) -> Path:
    """A one-source raw area (transactions only; the other sources are optional)."""
    raw.mkdir(parents=True)
    (raw / "transactions.csv").write_text(TRANSACTIONS)
    return raw


def test_if_changed_skips_until_the_input_or_the_options_change(
    spark: SparkSession, tmp_path: Path
) -> None:
    raw = write_raw(tmp_path / "raw")
    settings = PipelineSettings(data_dir=tmp_path / "data")
    data_dir = settings.data_dir
    options = RunOptions(org="shop", input_path=str(raw))

    first = run_pipeline_if_changed(spark, settings, options)
    assert isinstance(first, RunResult)  # nothing published yet: a full build
    assert first.manifest["options"] == {"as_of": None, "column_maps": {}, "date_order": None}
    assert first.manifest["input"]["sources"]["transactions"]["files"] == 1

    with capture_logs() as events:
        second = run_pipeline_if_changed(spark, settings, options)
    assert isinstance(second, SkippedRun)
    assert second.snapshot_id == first.snapshot_id
    assert second.reason == INPUTS_UNCHANGED
    assert snapshots.current_snapshot_id(data_dir, "shop") == first.snapshot_id
    assert [s.snapshot_id for s in snapshots.list_snapshots(data_dir, "shop")] == [
        first.snapshot_id
    ]
    run_events = [e for e in events if e["event"].startswith(("run_", "stage_"))]
    assert [(e["event"], e["org"], e["snapshot_id"], e["reason"]) for e in run_events] == [
        ("run_skipped", "shop", first.snapshot_id, INPUTS_UNCHANGED)
    ]
    last = snapshots.last_run(data_dir, "shop")
    assert last is not None
    assert last["status"] == "skipped"
    assert last["snapshot_id"] == first.snapshot_id

    # Another option that shapes the output: no skip (the injected failure stops the build at
    # once, which is all this needs to show).
    dmy = replace(options, date_order="dmy", fail_at_stage="ingest")
    with pytest.raises(PipelineError, match="injected failure at stage 'ingest'"):
        run_pipeline_if_changed(spark, settings, dmy)
    assert snapshots.current_snapshot_id(data_dir, "shop") == first.snapshot_id

    # A touched input file (same bytes, newer modification time): a new build.
    source = raw / "transactions.csv"
    modified_ns = source.stat().st_mtime_ns + 5_000_000_000
    os.utime(source, ns=(modified_ns, modified_ns))
    third = run_pipeline_if_changed(spark, settings, options)
    assert isinstance(third, RunResult)
    assert third.snapshot_id != first.snapshot_id
    assert snapshots.current_snapshot_id(data_dir, "shop") == third.snapshot_id
    fingerprint = third.manifest["input"]["sources"]["transactions"]
    assert fingerprint["latest_modified_ms"] == modified_ns // 1_000_000
    assert isinstance(run_pipeline_if_changed(spark, settings, options), SkippedRun)
    history = (data_dir / "orgs" / "shop" / "runs" / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["status"] for line in history] == [
        "published", "skipped", "failed", "published", "skipped",
    ]  # fmt: skip


def test_cli_if_changed_prints_one_line_and_logs_run_skipped(
    spark: SparkSession, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    write_raw(snapshots.org_root(data_dir, "shop") / "raw")
    # A plain run records what --if-changed compares too.
    published = run_pipeline(spark, PipelineSettings(data_dir=data_dir), RunOptions(org="shop"))
    env = {
        "C360_DATA_DIR": str(data_dir),
        "C360_SPARK_MASTER": "local[1]",
        "C360_SPARK_DRIVER_MEMORY": "1g",
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "c360_pipeline.cli", "run", "--org", "shop", "--if-changed"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == [
        f"Skipped: inputs unchanged, snapshot {published.snapshot_id} stays current."
    ]
    logged = [json.loads(line) for line in completed.stderr.splitlines() if line.startswith("{")]
    skipped = [e for e in logged if e["event"] == "run_skipped"]
    assert len(skipped) == 1
    assert skipped[0]["org"] == "shop"
    assert skipped[0]["snapshot_id"] == published.snapshot_id
    assert skipped[0]["reason"] == INPUTS_UNCHANGED
    assert not [e for e in logged if e["event"] == "stage_finished"]
    assert snapshots.current_snapshot_id(data_dir, "shop") == published.snapshot_id
