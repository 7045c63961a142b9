"""End to end: generated data → pipeline run → published snapshot, checked value by value."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from c360_api.snapshots import current_snapshot
from c360_pipeline import snapshots
from c360_pipeline.run import STAGES, PipelineError, RunOptions, run_pipeline
from c360_pipeline.settings import PipelineSettings
from c360_pipeline.transforms.rfm import SEGMENTS
from tests.conftest import CUSTOMERS, Dataset, Published, read_ground_truth, read_rows


def test_snapshot_is_published_and_readable_by_the_api(published: Published) -> None:
    snapshot = current_snapshot(published.settings.data_dir, "acme")
    assert snapshot is not None
    assert snapshot.snapshot_id == published.result.snapshot_id
    assert snapshot.as_of == published.result.as_of.isoformat()
    for table in ("customer_360", "transactions", "revenue_monthly", "category_insights",
                  "category_associations", "cross_sell_candidates", "_quarantine"):  # fmt: skip
        assert (published.path / table).is_dir(), table
    assert not (published.path / "_staging").exists()


def test_manifest_records_counts_models_and_timings(
    published: Published, clean_dataset: Dataset
) -> None:
    manifest = json.loads((published.path / "manifest.json").read_text())
    assert manifest["status"] == "published"
    assert manifest["as_of"] == "2025-12-31"
    for source, rows in clean_dataset.result.rows.items():
        counts = manifest["sources"][source]
        assert counts["rows_read"] == rows
        assert counts["accepted"] == rows
        assert counts["quarantined"] == 0
    clv = manifest["models"]["clv"]
    assert clv["time_unit"] == "weeks"
    assert set(clv["bgnbd"]["params"]) == {"r", "alpha", "a", "b"}
    assert clv["bgnbd"]["converged"] is True
    assert clv["bgnbd"]["log_likelihood"] < 0
    assert set(clv["gamma_gamma"]["params"]) == {"p", "q", "v"}
    holdout = clv["holdout"]
    assert holdout["holdout_weeks"] == 26
    assert 0.5 < holdout["ratio_predicted_to_actual"] < 2.0
    assert manifest["tables"]["customer_360"]["rows"] == CUSTOMERS
    assert "customer_id string" in manifest["tables"]["customer_360"]["columns"]
    assert set(manifest["stage_seconds"]) >= {"ingest", "validate", "customer_360", "clv_models"}
    jvm = manifest["driver_jvm"]
    assert set(jvm) == {"cpu_seconds", "jit_compile_seconds", "gc_seconds"}
    # Real work, bounded by what the cores can do in the run's wall time.
    assert 0 < jvm["cpu_seconds"] <= manifest["duration_seconds"] * (os.cpu_count() or 1) + 1
    assert jvm["jit_compile_seconds"] >= 0
    assert jvm["gc_seconds"] >= 0


def test_stages_names_every_stage_in_the_order_it_runs(published: Published) -> None:
    assert tuple(published.result.stage_seconds) == STAGES


def test_customer_360_values_match_an_independent_computation(
    spark: SparkSession, published: Published, clean_dataset: Dataset
) -> None:
    as_of = published.result.as_of
    spend: dict[str, float] = defaultdict(float)
    orders: dict[str, int] = defaultdict(int)
    days: dict[str, set[date]] = defaultdict(set)
    day_spend: dict[tuple[str, date], float] = defaultdict(float)
    for t in read_rows(clean_dataset, "transactions"):
        d = date.fromisoformat(t["transaction_date"])
        cid = t["customer_id"]
        spend[cid] += float(t["amount"])
        orders[cid] += 1
        days[cid].add(d)
        day_spend[(cid, d)] += float(t["amount"])
    customers = {c["customer_id"]: c for c in read_rows(clean_dataset, "customers")}
    loyalty = {r["customer_id"]: r for r in read_rows(clean_dataset, "loyalty")}
    c360 = {
        r.customer_id: r for r in spark.read.parquet(str(published.path / "customer_360")).collect()
    }
    assert set(c360) == set(customers)
    for cid, row in c360.items():
        assert row.customer_name == customers[cid]["name"]
        assert row.birth_year == int(customers[cid]["birth_date"][:4])
        if cid not in days:
            assert row.orders == 0
            assert row.first_purchase_date is None
            assert row.risk_status == "No Purchases"
            continue
        purchase_days = sorted(days[cid])
        assert row.total_spent == pytest.approx(spend[cid], abs=0.011)
        assert row.orders == orders[cid]
        assert row.first_purchase_date == purchase_days[0]
        assert row.last_purchase_date == purchase_days[-1]
        assert row.recency_days == (as_of - purchase_days[-1]).days
        assert row.frequency == len(purchase_days) - 1
        assert row.recency_weeks == pytest.approx((purchase_days[-1] - purchase_days[0]).days / 7)
        assert row.t_weeks == pytest.approx((as_of - purchase_days[0]).days / 7)
        repeat = [day_spend[(cid, d)] for d in purchase_days[1:]]
        assert row.monetary == pytest.approx(sum(repeat) / len(repeat) if repeat else 0.0)
        assert row.rfm_segment in SEGMENTS
        assert 0.0 <= row.p_alive <= 1.0
        assert row.predicted_clv_12m >= 0.0
        assert 1.0 <= row.customer_health_score <= 5.0
        if cid in loyalty:
            assert row.loyalty_tier == loyalty[cid]["tier"]
            assert row.loyalty_points == int(loyalty[cid]["points"])
        status = row.customer_status
        if (as_of - purchase_days[0]).days <= 90:
            assert status == "New"
        elif row.recency_days <= 90:
            assert status == "Active"
        elif row.recency_days <= 180:
            assert status == "At Risk"
        else:
            assert status == "Churned"


def test_churners_look_churned(
    spark: SparkSession, published: Published, clean_dataset: Dataset
) -> None:
    truth = {
        r.customer_id: r.is_churned
        for r in spark.read.parquet(
            str(clean_dataset.path / "_ground_truth/customer_truth")
        ).collect()
    }
    by_truth: dict[bool, list[float]] = defaultdict(list)
    for row in spark.read.parquet(str(published.path / "customer_360")).collect():
        if row.p_alive is not None:
            by_truth[truth[row.customer_id]].append(row.p_alive)
    mean = {k: sum(v) / len(v) for k, v in by_truth.items()}
    assert mean[True] < mean[False] - 0.2


def test_dirty_run_quarantines_every_defect_in_the_snapshot(
    spark: SparkSession, dirty_dataset: Dataset, tmp_path: Path
) -> None:
    settings = PipelineSettings(data_dir=tmp_path)
    result = run_pipeline(
        spark, settings, RunOptions(org="dirty", input_path=str(dirty_dataset.path))
    )
    path = snapshots.snapshot_dir(tmp_path, "dirty", result.snapshot_id)
    quarantine = spark.read.parquet(str(path / "_quarantine")).collect()
    expected: dict[tuple[str, str], int] = defaultdict(int)
    for source in ("transactions", "customers"):
        for record in read_ground_truth(dirty_dataset, source):
            expected[(source, str(record["expected_reason"]))] += 1
    found: dict[tuple[str, str], int] = defaultdict(int)
    for row in quarantine:
        found[(row.source, row.reason)] += 1
        assert row.raw_record
    assert found == expected
    manifest = json.loads((path / "manifest.json").read_text())
    for source, counts in manifest["sources"].items():
        assert counts["accepted"] + counts["quarantined"] == counts["rows_read"], source


def test_failed_run_leaves_current_and_previous_snapshot_untouched(
    spark: SparkSession, published: Published
) -> None:
    data_dir = published.settings.data_dir
    before = {p.relative_to(published.path): p.stat().st_size for p in published.path.rglob("*")}
    options = RunOptions(
        org="acme", input_path=str(published.result.manifest["input"]["path"]),
        fail_at_stage="customer_360",
    )  # fmt: skip
    with pytest.raises(PipelineError, match="injected failure"):
        run_pipeline(spark, published.settings, options)
    assert snapshots.current_snapshot_id(data_dir, "acme") == published.result.snapshot_id
    after = {p.relative_to(published.path): p.stat().st_size for p in published.path.rglob("*")}
    assert after == before
    assert [s.snapshot_id for s in snapshots.list_snapshots(data_dir, "acme")] == [
        published.result.snapshot_id
    ]
    last = snapshots.last_run(data_dir, "acme")
    assert last is not None
    assert last["status"] == "failed"
    assert "injected failure" in last["error"]


def test_second_concurrent_run_exits_3(published: Published) -> None:
    data_dir = published.settings.data_dir
    env = {"C360_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}
    with snapshots.RunLock(data_dir, "acme"):
        completed = subprocess.run(
            [sys.executable, "-m", "c360_pipeline.cli", "run", "--org", "acme",
             "--input", published.result.manifest["input"]["path"]],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )  # fmt: skip
    assert completed.returncode == 3, completed.stderr
    assert "being processed" in completed.stderr or "lock" in completed.stderr.lower()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--org", "acme", "--column-map", "nonsense"], "SOURCE.COLUMN=CANONICAL"),
        (["run", "--org", "Bad/Org"], "organisation"),
        (["run", "--org", "ghost"], "does not exist"),
        (["rollback", "--org", "ghost"], "nothing"),
    ],
)
def test_cli_usage_errors_exit_2(argv: list[str], message: str, tmp_path: Path) -> None:
    env = {"C360_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    completed = subprocess.run(
        [sys.executable, "-m", "c360_pipeline.cli", *argv],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.startswith("error: ")
    assert message.lower() in completed.stderr.lower()


def test_status_reports_the_current_snapshot(published: Published) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "c360_pipeline.cli", "status", "--org", "acme", "--json"],
        capture_output=True, text=True, timeout=120, check=False,
        env={"C360_DATA_DIR": str(published.settings.data_dir), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    status = json.loads(completed.stdout)
    assert status["current_snapshot"] == published.result.snapshot_id
    assert status["as_of"] == "2025-12-31"
    assert status["last_run"]["status"] in ("published", "failed")


def test_invoice_shape_only_transactions_and_no_repeat_buyers(
    spark: SparkSession, tmp_path: Path
) -> None:
    """The common export shape works with no column map; optional sources may be missing;
    day-first dates are recognised from a day above 12; too little history skips CLV."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "transactions.csv").write_text(
        "customer_id,invoice_date,invoice_id,amount,product,category\n"
        "A1,25/03/2025,INV-1,10.50,P1,Books\n"
        "B2,03/04/2025,INV-2,20.00,P2,Toys\n"
        "C3,01/05/2025,INV-3,5.25,,\n"
    )
    settings = PipelineSettings(data_dir=tmp_path / "data")
    result = run_pipeline(spark, settings, RunOptions(org="shop", input_path=str(raw)))
    assert result.as_of == date(2025, 5, 1)
    path = snapshots.snapshot_dir(settings.data_dir, "shop", result.snapshot_id)
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["sources"]["transactions"]["date_orders"] == {"transaction_date": "dmy"}
    assert "no customer with a repeat purchase" in manifest["models"]["clv"]["skipped"]
    rows = {r.customer_id: r for r in spark.read.parquet(str(path / "customer_360")).collect()}
    assert set(rows) == {"A1", "B2", "C3"}
    assert rows["B2"].first_purchase_date == date(2025, 4, 3)
    assert rows["A1"].total_spent == 10.5
    assert rows["A1"].favourite_category == "Books"
    assert rows["C3"].favourite_category is None
    assert rows["A1"].p_alive is None
    assert rows["A1"].customer_name is None
    assert result.tables["customer_360"] == 3


def test_the_churn_model_is_trained_reported_and_scores_every_buyer(
    published: Published, spark: SparkSession
) -> None:
    manifest = json.loads((published.path / "manifest.json").read_text())
    churn = manifest["models"]["churn"]
    assert "skipped" not in churn, churn
    assert churn["cutoff"] == "2025-10-02"
    assert churn["window_days"] == 90
    assert churn["type"] in ("logistic_regression", "gbt")
    test, baseline = churn["metrics"]["test"], churn["metrics"]["baseline_p_alive_test"]
    assert test["rows"] == baseline["rows"] == churn["split"]["test"] > 0
    # The generator's churners stop buying: the model finds them on customers it did not see.
    assert test["roc_auc"] > 0.7, test
    exported = json.loads((published.path / "models" / "churn.json").read_text())
    assert exported["snapshot_id"] == published.result.snapshot_id
    assert exported["type"] == churn["type"]
    customers = {
        r["customer_id"]: r
        for r in spark.read.parquet(str(published.path / "customer_360")).collect()
    }
    features = spark.read.parquet(str(published.path / "churn_features")).collect()
    buyers = {cid for cid, r in customers.items() if r["first_purchase_date"] is not None}
    assert {r["customer_id"] for r in features} == buyers
    for row in customers.values():
        if row["first_purchase_date"] is None:
            assert row["churn_probability"] is None
            assert row["churn_risk_band"] == "No Purchases"
        else:
            p = row["churn_probability"]
            assert 0.0 <= p <= 1.0
            assert row["churn_risk_band"] == ("Low" if p < 0.3 else "Medium" if p < 0.6 else "High")
    assert published.result.tables["churn_features"] == len(buyers)


def test_behavioural_clusters_are_chosen_recorded_and_assigned(
    published: Published, spark: SparkSession
) -> None:
    manifest = json.loads((published.path / "manifest.json").read_text())
    clustering = manifest["models"]["clustering"]
    assert "skipped" not in clustering, clustering
    assert clustering["algorithm"] in ("kmeans", "gmm", "bisecting_kmeans")
    k = clustering["k"]
    assert 3 <= k <= 8
    chosen = clustering["silhouette"][clustering["algorithm"]][str(k)]
    assert clustering["silhouette_score"] == pytest.approx(chosen, abs=1e-6)
    labels = {c["cluster_id"]: c["label"] for c in clustering["clusters"]}
    assert sorted(labels) == list(range(1, k + 1))
    sizes = defaultdict(int)
    for row in spark.read.parquet(str(published.path / "customer_360")).collect():
        if row["first_purchase_date"] is None:
            assert (row["cluster_id"], row["cluster_label"]) == (None, "No Purchases")
        else:
            assert row["cluster_label"] == labels[row["cluster_id"]]
            sizes[row["cluster_id"]] += 1
    assert dict(sizes) == {c["cluster_id"]: c["size"] for c in clustering["clusters"]}
