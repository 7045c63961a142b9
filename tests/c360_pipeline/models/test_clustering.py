"""Behavioural clusters: features, silhouette selection on separated blobs, determinism, the
label rules, and the skipped cases (empty, too small, constant feature)."""

from __future__ import annotations

import json
import math
import random
from datetime import date, timedelta
from typing import Any

import pytest
from chispa import assert_approx_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from c360_pipeline.models.clustering import (
    CLUSTER_FEATURES,
    LABEL_RULES,
    ClusteringSettings,
    build_cluster_features,
    disambiguate_labels,
    fit_clusters,
    label_for_centroid,
)

AS_OF = date(2024, 6, 30)
SMALL = ClusteringSettings(k_min=2, k_max=4, algorithms=("kmeans",))
C360_SCHEMA = T.StructType(
    [
        T.StructField("customer_id", T.StringType()),
        T.StructField("first_purchase_date", T.DateType()),
        T.StructField("recency_days", T.IntegerType()),
        T.StructField("orders", T.LongType()),
        T.StructField("purchase_days", T.LongType()),
        T.StructField("total_spent", T.DoubleType()),
        T.StructField("monetary", T.DoubleType()),
        T.StructField("app_sessions_90d", T.LongType()),
        T.StructField("web_sessions_90d", T.LongType()),
        T.StructField("tickets_total", T.LongType()),
    ]
)
# Three well-separated behaviours: (recency_days, purchase_days, total_spent, sessions) ranges.
BLOBS = {
    "regular": ((3, 15), (20, 30), (2000.0, 4000.0), (30, 60)),
    "newcomer": ((5, 20), (1, 2), (50.0, 100.0), (5, 10)),
    "lapsed": ((300, 400), (1, 1), (20.0, 40.0), (0, 0)),
}
PER_BLOB = 40


def _c360_row(customer_id: str, recency: int, days: int, spent: float, sessions: int) -> tuple:
    first = AS_OF - timedelta(days=recency + 10 * days)
    return (customer_id, first, recency, days, days, spent, spent / days, sessions, 0, 0)


def _blobs_df(spark: SparkSession, with_sessions: bool = True) -> tuple[DataFrame, dict[str, str]]:
    """customer_360-like rows in three blobs, plus two customers who never bought."""
    rng = random.Random(3)
    rows, blob_of = [], {}
    for blob, (recency, days, spent, sessions) in BLOBS.items():
        for i in range(PER_BLOB):
            customer_id = f"{blob}-{i:02d}"
            blob_of[customer_id] = blob
            rows.append(
                _c360_row(
                    customer_id,
                    rng.randint(*recency),
                    rng.randint(*days),
                    round(rng.uniform(*spent), 2),
                    rng.randint(*sessions) if with_sessions else 0,
                )
            )
    rows += [
        ("prospect-1", None, None, 0, 0, 0.0, None, 3, 0, 1),
        ("prospect-2", None, None, 0, 0, 0.0, None, 0, 0, 0),
    ]
    return spark.createDataFrame(rows, C360_SCHEMA), blob_of


def _assignments(result: Any) -> dict[str, tuple[int, str]]:
    return {r.customer_id: (r.cluster_id, r.cluster_label) for r in result.assignments.collect()}


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    """The report without its timing and the clusters' raw means."""
    clusters = [
        {k: v for k, v in c.items() if k != "mean_original_units"} for c in report["clusters"]
    ]
    return {k: v for k, v in report.items() if k not in ("elapsed_seconds", "trained_at")} | {
        "clusters": clusters
    }


# --------------------------------------------------------------------------- features


def test_build_cluster_features_keeps_buyers_and_takes_logs(spark: SparkSession) -> None:
    c360_df = spark.createDataFrame(
        [
            ("c1", date(2024, 1, 1), 9, 3, 2, 99.0, 49.5, 4, 3, 0),
            # sessions unknown (no digital data) count as 0
            ("c2", date(2024, 5, 1), 0, 1, 1, 10.0, None, None, None, 0),
            # refunds exceeding purchases: spend floored at 0 inside the log
            ("c3", date(2023, 1, 1), 400, 2, 1, -5.0, None, 0, 0, 2),
            # never bought: excluded
            ("c4", None, None, 0, 0, 0.0, None, 7, 0, 0),
        ],
        C360_SCHEMA,
    )

    actual_df = build_cluster_features(c360_df)

    expected_df = spark.createDataFrame(
        [
            ("c1", 9, 2, 99.0, 7, math.log(10), math.log(3), math.log(100), math.log(8)),
            ("c2", 0, 1, 10.0, 0, 0.0, math.log(2), math.log(11), 0.0),
            ("c3", 400, 1, -5.0, 0, math.log(401), math.log(2), 0.0, 0.0),
        ],
        T.StructType(
            [
                T.StructField("customer_id", T.StringType()),
                T.StructField("recency_days", T.LongType()),
                T.StructField("purchase_days", T.LongType()),
                T.StructField("total_spent", T.DoubleType()),
                T.StructField("digital_sessions_90d", T.LongType()),
                *[T.StructField(f, T.DoubleType()) for f in CLUSTER_FEATURES],
            ]
        ),
    )
    assert_approx_df_equality(
        expected_df, actual_df, 1e-12, ignore_row_order=True, ignore_nullable=True
    )


# --------------------------------------------------------------------------- fitting


def test_kmeans_finds_the_three_blobs_labels_and_orders_them(spark: SparkSession) -> None:
    c360_df, blob_of = _blobs_df(spark)

    result = fit_clusters(build_cluster_features(c360_df), SMALL)

    report = result.report
    assert "skipped" not in report
    assert report["best_k"] == {"kmeans": 3}
    assert (report["algorithm"], report["k"]) == ("kmeans", 3)
    scores = report["silhouette"]["kmeans"]
    assert set(scores) == {"2", "3", "4"}
    assert report["silhouette_score"] == max(scores.values())
    assignments = _assignments(result)
    assert set(assignments) == set(blob_of)  # every buyer, no prospect
    # Each blob is exactly one cluster, numbered by descending spend, labelled by the rules.
    by_blob = {blob: {assignments[c] for c, b in blob_of.items() if b == blob} for blob in BLOBS}
    assert by_blob == {
        "regular": {(1, "High-value regulars")},
        "newcomer": {(2, "Recent newcomers")},
        "lapsed": {(3, "Lapsed one-time buyers")},
    }
    clusters = report["clusters"]
    assert [(c["cluster_id"], c["size"]) for c in clusters] == [(1, 40), (2, 40), (3, 40)]
    assert clusters[2]["mean_original_units"]["purchase_days"] == 1.0
    assert clusters[2]["centroid_original_units"]["digital_sessions_90d"] == pytest.approx(0.0)
    assert json.loads(json.dumps(report)) == report


def test_all_algorithms_are_scored_and_the_result_is_deterministic(spark: SparkSession) -> None:
    c360_df, blob_of = _blobs_df(spark)
    features_df = build_cluster_features(c360_df)
    settings = ClusteringSettings(k_min=3, k_max=3, seed=11)

    first = fit_clusters(features_df, settings)
    # The same rows in another partitioning: the sample and the fits do not depend on it.
    second = fit_clusters(features_df.repartition(3), settings)

    report = first.report
    assert report["best_k"] == {"kmeans": 3, "gmm": 3, "bisecting_kmeans": 3}
    assert "failures" not in report
    best = {a: scores["3"] for a, scores in report["silhouette"].items()}
    assert report["silhouette_score"] == max(best.values()) == best[report["algorithm"]]
    assignments = _assignments(first)
    assert assignments == _assignments(second)
    assert len({(blob_of[c], cluster) for c, cluster in assignments.items()}) == 3
    # Everything but the cluster means in original units (summed in partition order) and timing.
    assert _comparable(first.report) == _comparable(second.report)
    for one, other in zip(first.report["clusters"], second.report["clusters"], strict=True):
        assert one["mean_original_units"] == pytest.approx(other["mean_original_units"], rel=1e-6)


def test_the_selection_sample_is_capped(spark: SparkSession) -> None:
    c360_df, blob_of = _blobs_df(spark)

    result = fit_clusters(
        build_cluster_features(c360_df),
        ClusteringSettings(k_min=3, k_max=3, sample_rows=45, algorithms=("kmeans",)),
    )

    assert result.report["sample_size"] == 45
    assert result.report["customers"] == len(blob_of)
    assert result.assignments.count() == len(blob_of)


def test_a_constant_feature_is_left_out_and_named(spark: SparkSession) -> None:
    c360_df, _ = _blobs_df(spark, with_sessions=False)

    result = fit_clusters(
        build_cluster_features(c360_df),
        ClusteringSettings(k_min=3, k_max=3, algorithms=("kmeans",)),
    )

    report = result.report
    assert report["constant_features"] == ["log_digital_sessions_90d"]
    assert report["standardisation"]["stds"]["log_digital_sessions_90d"] == 0.0
    assert report["k"] == 3
    assert {c["centroid_standardised"]["log_digital_sessions_90d"] for c in report["clusters"]} == {
        0.0
    }


def test_empty_input_is_skipped(spark: SparkSession) -> None:
    c360_df = spark.createDataFrame([("p1", None, None, 0, 0, 0.0, None, 0, 0, 0)], C360_SCHEMA)

    result = fit_clusters(build_cluster_features(c360_df), SMALL)

    assert result.report["skipped"] == "no customers with a purchase"
    assert result.assignments.collect() == []
    assert result.assignments.columns == ["customer_id", "cluster_id", "cluster_label"]
    json.dumps(result.report)


def test_too_few_distinct_customers_is_skipped(spark: SparkSession) -> None:
    c360_df = spark.createDataFrame(
        [
            _c360_row("a", 5, 3, 300.0, 4),
            _c360_row("b", 50, 1, 20.0, 0),
            _c360_row("c", 200, 2, 80.0, 1),
            _c360_row("d", 200, 2, 80.0, 1),  # the same point as c
        ],
        C360_SCHEMA,
    )

    result = fit_clusters(build_cluster_features(c360_df), ClusteringSettings(k_min=3, k_max=8))

    assert result.report["skipped"] == "too few distinct customers (3) for k >= 3"
    assert result.report["k_range"] == [3, 2]
    assert result.assignments.collect() == []
    json.dumps(result.report)


def test_an_unknown_algorithm_is_a_bug(spark: SparkSession) -> None:
    c360_df, _ = _blobs_df(spark)
    with pytest.raises(ValueError, match="unknown clustering algorithm 'dbscan'"):
        fit_clusters(build_cluster_features(c360_df), ClusteringSettings(algorithms=("dbscan",)))


# --------------------------------------------------------------------------- label rules


def _centroid(recency: float, frequency: float, monetary: float, engagement: float) -> dict:
    return dict(zip(CLUSTER_FEATURES, (recency, frequency, monetary, engagement), strict=True))


@pytest.mark.parametrize(
    ("centroid", "label"),
    [
        (_centroid(-0.8, 1.2, 1.5, 0.9), "High-value regulars"),
        (_centroid(0.0, 0.5, 0.5, 0.0), "High-value regulars"),  # on the thresholds
        (_centroid(1.1, 0.6, 0.9, -0.5), "Lapsed high-value customers"),
        (_centroid(1.3, -0.8, -0.9, -1.0), "Lapsed one-time buyers"),
        (_centroid(0.7, 0.1, -0.2, 0.0), "Fading customers"),
        (_centroid(-0.9, -0.7, -0.3, 1.0), "Recent newcomers"),
        (_centroid(-0.2, 0.0, 0.1, 1.4), "Digitally engaged"),
        (_centroid(-0.1, 0.9, 0.2, 0.0), "Frequent modest spenders"),
        (_centroid(0.3, -0.2, 0.8, 0.0), "Big-ticket occasional buyers"),
        (_centroid(0.0, 0.0, 0.0, 0.0), "Core customers"),
        (_centroid(0.49, 0.49, 0.49, 0.49), "Core customers"),  # just under every threshold
    ],
)
def test_label_rules_on_hand_made_centroids(centroid: dict, label: str) -> None:
    actual_label, recommendation = label_for_centroid(centroid)
    assert actual_label == label
    assert recommendation == next(r.recommendation for r in LABEL_RULES if r.label == label)


def test_every_rule_has_a_distinct_label_and_the_last_matches_anything() -> None:
    assert len({r.label for r in LABEL_RULES}) == len(LABEL_RULES)
    assert LABEL_RULES[-1].matches({})


def test_repeated_labels_are_numbered_in_cluster_order() -> None:
    assert disambiguate_labels(["A", "B", "A", "C", "A"]) == ["A #1", "B", "A #2", "C", "A #3"]
    assert disambiguate_labels([]) == []
