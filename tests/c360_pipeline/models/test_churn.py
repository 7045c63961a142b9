"""Churn propensity: the time split, the evaluation and the portable export."""

from __future__ import annotations

import json
import math
import random
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from c360_pipeline.models.churn import (
    FEATURE_NAMES,
    FEATURES,
    LABEL,
    MODEL_TYPES,
    ChurnFrames,
    ChurnModel,
    ChurnSettings,
    _candidates,
    binary_metrics,
    build_churn_frames,
    churn_purchase_aggregations,
    export_model,
    model_inputs,
    score_customers,
    train_churn_model,
)
from c360_pipeline.transforms.purchases import build_purchase_summary

AS_OF = date(2025, 12, 31)
CUTOFF = AS_OF - timedelta(days=90)  # 2025-10-02
DAILY = "customer_id string, transaction_date date, category string, channel string, " \
    "revenue double, orders long"  # fmt: skip
EVENTS = "customer_id string, event_date date, channel string, session_count long"
TICKETS = "customer_id string, opened_at timestamp, closed_at timestamp, satisfaction_score double"
INTERACTIONS = "customer_id string, interaction_at timestamp, interaction_type string"


def _day(offset: int) -> date:
    """A date `offset` days after the cutoff (negative: before it)."""
    return CUTOFF + timedelta(days=offset)


def _at(offset: int) -> datetime:
    return datetime.combine(_day(offset), datetime.min.time()).replace(hour=10)


@pytest.fixture(scope="module")
def sources(spark: SparkSession) -> tuple[DataFrame, DataFrame, DataFrame, DataFrame]:
    """Daily purchases, digital events, tickets and interactions of four customers."""
    daily = spark.createDataFrame(
        [
            # stayer: bought before and after the cutoff
            ("stay", _day(-200), "Books", "web", 100.0, 2),
            ("stay", _day(-10), "Books", "web", 50.0, 1),
            ("stay", _day(30), "Books", "web", 70.0, 1),
            # churner: nothing after the cutoff
            ("gone", _day(-400), "Toys", "store", 20.0, 1),
            ("gone", _day(-100), "Toys", "store", 40.0, 1),
            # newcomer: only purchases after the cutoff
            ("new", _day(5), "Toys", "app", 15.0, 1),
            ("new", _day(60), "Toys", "app", 25.0, 2),
            # bought on the cutoff day itself, and again after the as-of date (ignored)
            ("edge", _day(0), "Books", "web", 10.0, 1),
            ("edge", AS_OF + timedelta(days=1), "Books", "web", 99.0, 1),
        ],
        DAILY,
    )
    events = spark.createDataFrame(
        [
            ("stay", _day(-5), "app", 3),
            ("stay", _day(-60), "web", None),
            ("stay", _day(10), "app", 7),  # after the cutoff: only in the as-of features
            ("gone", _day(-200), "web", 4),
        ],
        EVENTS,
    )
    tickets = spark.createDataFrame(
        [
            ("stay", _at(-30), _at(-29), 2.0),
            ("stay", _at(-3), _at(4), 5.0),  # closed after the cutoff: its score is the future
            ("gone", _at(-150), None, None),
        ],
        TICKETS,
    )
    interactions = spark.createDataFrame(
        [
            ("gone", _at(-20), "complaint"),
            ("gone", _at(-120), "Complaint"),  # older than 90 days at the cutoff
            ("stay", _at(20), "complaint"),
            ("stay", _at(-1), "call"),
        ],
        INTERACTIONS,
    )
    return daily, events, tickets, interactions


@pytest.fixture(scope="module")
def frames(sources: tuple[DataFrame, DataFrame, DataFrame, DataFrame]) -> ChurnFrames:
    daily, events, tickets, interactions = sources
    return build_churn_frames(daily, events, tickets, interactions, AS_OF, window_days=90)


def test_the_customer_summary_pass_gives_the_same_frames(
    sources: tuple[DataFrame, DataFrame, DataFrame, DataFrame], frames: ChurnFrames
) -> None:
    """The pipeline computes the purchase features in the customer summary's pass (its input,
    the transactions fact, holds nothing after the as-of date): the frames are the same."""
    daily, events, tickets, interactions = sources
    fact_daily = daily.where(F.col("transaction_date") <= F.lit(AS_OF)).select(
        "*", F.lit(0.0).alias("cost"), F.lit(0.0).alias("gross_margin")
    )
    summary_df = build_purchase_summary(
        fact_daily, AS_OF, extra_aggregations=churn_purchase_aggregations(AS_OF, 90)
    )
    from_summary = build_churn_frames(
        None, events, tickets, interactions, AS_OF, window_days=90, purchases_df=summary_df
    )
    assert _rows(from_summary.training) == _rows(frames.training)
    assert _rows(from_summary.scoring) == _rows(frames.scoring)
    assert len(_rows(frames.training)) == 3


def _rows(df: DataFrame) -> dict[str, dict[str, Any]]:
    return {row["customer_id"]: row.asDict() for row in df.collect()}


def test_the_cutoff_features_and_label_do_not_see_the_future(frames: ChurnFrames) -> None:
    assert frames.cutoff == CUTOFF
    training = _rows(frames.training)
    # The newcomer has no purchase by the cutoff: nothing to learn from, no label.
    assert set(training) == {"stay", "gone", "edge"}
    assert training["stay"][LABEL] == 0.0
    assert training["gone"][LABEL] == 1.0
    assert training["edge"][LABEL] == 1.0, "a purchase after the as-of date is not in the window"
    stay = training["stay"]
    assert stay["recency_days"] == 10
    assert stay["purchase_days"] == 2
    assert stay["orders"] == 3
    assert stay["total_spent"] == 150.0
    assert stay["avg_order_value"] == pytest.approx(50.0)
    assert stay["days_since_first_purchase"] == 200
    assert stay["revenue_90d"] == 50.0
    assert stay["revenue_prev_90d"] == 0.0
    assert stay["revenue_12m"] == 150.0
    assert stay["sessions_30d"] == 3.0
    assert stay["sessions_90d"] == 4.0, "a null session count is one session"
    assert stay["tickets_total"] == 2.0
    assert stay["tickets_90d"] == 2.0
    assert stay["avg_satisfaction"] == 2.0, "the ticket closed after the cutoff is not scored"
    assert stay["complaints_90d"] == 0.0
    gone = training["gone"]
    assert gone["revenue_prev_90d"] == 40.0
    assert gone["revenue_12m"] == 40.0
    assert gone["complaints_90d"] == 1.0
    assert gone["sessions_90d"] == 0.0
    assert gone["avg_satisfaction"] is None, "no closed ticket: null, filled when scored"
    assert training["edge"]["recency_days"] == 0
    assert training["edge"]["sessions_30d"] is None, "no digital events at all"
    # The BTYD summary at the cutoff, for the baseline.
    assert (stay["frequency"], stay["recency_weeks"], stay["t_weeks"]) == (1, 190 / 7, 200 / 7)


def test_the_as_of_features_cover_every_purchasing_customer(frames: ChurnFrames) -> None:
    scoring = _rows(frames.scoring)
    assert set(scoring) == {"stay", "gone", "new", "edge"}
    assert list(frames.scoring.columns) == ["customer_id", *FEATURE_NAMES]
    new = scoring["new"]
    assert (new["recency_days"], new["purchase_days"], new["orders"]) == (30, 2, 3)
    assert new["total_spent"] == 40.0
    assert new["days_since_first_purchase"] == 85
    stay = scoring["stay"]
    assert stay["recency_days"] == 60
    assert stay["sessions_90d"] == 7.0, "the sessions before the cutoff are over 90 days old"
    assert stay["avg_satisfaction"] == pytest.approx(3.5)
    assert stay["complaints_90d"] == 1.0
    assert scoring["edge"]["total_spent"] == 10.0, "purchases after the as-of date are ignored"


def _double(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def _synthetic_training(spark: SparkSession, customers: int, seed: int = 3) -> DataFrame:
    """Customers whose churn depends on recency, trend and sessions (plus noise)."""
    rng = random.Random(seed)
    rows = []
    for i in range(customers):
        recency = rng.expovariate(1 / 60)
        orders = 1 + int(rng.expovariate(1 / 4))
        spent = orders * rng.uniform(20, 80)
        sessions = rng.choice([0, 0, 2, 8, 20])
        logit = -1.0 + recency / 40 - 0.08 * sessions - 0.2 * orders
        churned = float(rng.random() < 1 / (1 + math.exp(-logit)))
        first = recency + rng.uniform(0, 500)
        values = {
            "recency_days": recency, "purchase_days": orders, "orders": orders,
            "total_spent": spent, "avg_order_value": spent / orders,
            "days_since_first_purchase": first, "revenue_90d": spent * (recency < 90) / 2,
            "revenue_prev_90d": spent / 4, "revenue_12m": spent / 2,
            "sessions_30d": sessions / 3, "sessions_90d": sessions,
            "tickets_total": rng.choice([None, 0, 1, 2]), "tickets_90d": 0.0,
            "avg_satisfaction": rng.choice([None, 2.0, 4.5]), "complaints_90d": 0.0,
        }  # fmt: skip
        rows.append(
            (f"c{i:05d}", *[_double(values[name]) for name in FEATURE_NAMES], churned,
             orders - 1, (first - recency) / 7 if orders > 1 else 0.0, first / 7)
        )  # fmt: skip
    schema = ", ".join(
        ["customer_id string", *[f"{name} double" for name in FEATURE_NAMES],
         f"{LABEL} double", "frequency int", "recency_weeks double", "t_weeks double"]
    )  # fmt: skip
    return spark.createDataFrame(rows, schema)


@pytest.fixture(scope="module")
def synthetic(spark: SparkSession) -> ChurnFrames:
    training = _synthetic_training(spark, 2000).cache()
    return ChurnFrames(
        training=training,
        scoring=training.select("customer_id", *FEATURE_NAMES),
        cutoff=CUTOFF,
        as_of=AS_OF,
    )


SETTINGS = ChurnSettings(gbt_iterations=8, gbt_depth=3, seed=11)


@pytest.fixture(scope="module")
def trained(synthetic: ChurnFrames) -> ChurnModel:
    model = train_churn_model(synthetic, SETTINGS)
    assert isinstance(model, ChurnModel), model
    return model


def test_the_model_is_evaluated_on_customers_it_did_not_train_on(trained: ChurnModel) -> None:
    report = trained.report
    split = report["split"]
    assert split["train"] + split["validation"] + split["test"] == 2000
    assert 0.5 < split["train"] / 2000 < 0.7
    test = report["metrics"]["test"]
    assert test["rows"] == split["test"]
    for name in MODEL_TYPES:
        assert report["candidates"][name]["validation"]["rows"] == split["validation"]
    chosen = report["type"]
    others = [n for n in MODEL_TYPES if n != chosen]
    assert all(
        report["candidates"][chosen]["validation"]["roc_auc"]
        >= report["candidates"][n]["validation"]["roc_auc"]
        for n in others
    )
    # The synthetic signal is real: the model finds it on unseen customers.
    assert test["roc_auc"] > 0.7
    assert 0 < test["brier"] < 0.25
    assert test["top_decile_lift"] > 1.3
    baseline = report["metrics"]["baseline_p_alive_test"]
    assert baseline.get("rows") == split["test"], baseline
    assert 0 <= baseline["roc_auc"] <= 1
    json.dumps(report)


def test_metrics_match_an_independent_computation(spark: SparkSession) -> None:
    rng = random.Random(5)
    rows = [(f"c{i}", rng.random(), float(rng.random() < 0.4)) for i in range(200)]
    df = spark.createDataFrame(rows, f"customer_id string, s double, {LABEL} double")
    metrics = binary_metrics(df, "s")
    positives = [s for _, s, y in rows if y == 1]
    negatives = [s for _, s, y in rows if y == 0]
    pairs = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    assert metrics["roc_auc"] == pytest.approx(pairs / (len(positives) * len(negatives)), abs=1e-6)
    assert metrics["brier"] == pytest.approx(
        sum((s - y) ** 2 for _, s, y in rows) / len(rows), abs=1e-6
    )
    top = sorted(rows, key=lambda r: (-r[1], r[0]))[:20]
    rate = len(positives) / len(rows)
    assert metrics["top_decile_lift"] == pytest.approx(sum(y for *_, y in top) / 20 / rate, 1e-3)
    assert metrics["churn_rate"] == pytest.approx(rate)


def test_metrics_with_tied_scores_match_mllib_and_a_sort(spark: SparkSession) -> None:
    # Few distinct scores: the curves have a point per distinct score (MLlib's own metrics
    # without down-sampling), and the top decile ends inside a group of ties.
    rng = random.Random(8)
    rows = [
        (f"c{i:04d}", round(rng.random() * 8) / 8, float(rng.random() < 0.3 + 0.05 * (i % 7)))
        for i in range(1000)
    ]
    df = spark.createDataFrame(rows, f"customer_id string, s double, {LABEL} double")
    metrics = binary_metrics(df, "s")
    for name, mllib_name in (("roc_auc", "areaUnderROC"), ("pr_auc", "areaUnderPR")):
        evaluator = BinaryClassificationEvaluator(
            rawPredictionCol="s", labelCol=LABEL, metricName=mllib_name, numBins=0
        )
        assert metrics[name] == pytest.approx(evaluator.evaluate(df), abs=1e-6)
    top = sorted(rows, key=lambda r: (-r[1], r[0]))[:100]
    assert top[-1][1] == sorted(rows, key=lambda r: (-r[1], r[0]))[100][1]  # a tie at the edge
    rate = sum(y for *_, y in rows) / len(rows)
    assert metrics["top_decile_lift"] == pytest.approx(sum(y for *_, y in top) / 100 / rate, 1e-3)
    assert metrics["rows"] == 1000
    assert metrics["brier"] == pytest.approx(sum((s - y) ** 2 for _, s, y in rows) / 1000, abs=1e-6)


def test_metrics_refuse_a_missing_score(spark: SparkSession) -> None:
    df = spark.createDataFrame(
        [("a", 0.5, 1.0), ("b", None, 0.0)], f"customer_id string, s double, {LABEL} double"
    )
    with pytest.raises(ValueError, match="finite"):
        binary_metrics(df, "s")


def _numpy_score(exported: dict[str, Any], rows: list[dict[str, Any]]) -> np.ndarray:
    """Scores from the exported JSON alone (what a JVM-free scorer does)."""
    x = np.array(
        [[row[f["name"]] if row[f["name"]] is not None else f["fill"] for f in exported["features"]]
         for row in rows],
        dtype="float64",
    )  # fmt: skip
    for i, feature in enumerate(exported["features"]):
        if feature["transform"] == "log1p":
            x[:, i] = np.log1p(np.maximum(x[:, i], 0.0))
    if exported["type"] == "logistic_regression":
        lr = exported["logistic_regression"]
        return 1 / (1 + np.exp(-(lr["intercept"] + x @ np.array(lr["coefficients"]))))
    margin = np.zeros(len(rows))
    for tree in exported["gbt"]["trees"]:
        for r, values in enumerate(x):
            node = tree["nodes"][0]
            while "leaf" not in node:
                go_left = values[node["feature"]] <= node["threshold"]
                node = tree["nodes"][node["left"] if go_left else node["right"]]
            margin[r] += tree["weight"] * node["leaf"]
    return 1 / (1 + np.exp(-2 * margin))


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_the_export_scores_exactly_like_spark(synthetic: ChurnFrames, model_type: str) -> None:
    fitted = _candidates(SETTINGS)[model_type].fit(model_inputs(synthetic.training))
    model = ChurnModel(model=fitted, model_type=model_type, report={"trained_at": "now"})
    exported = json.loads(json.dumps(export_model(model, synthetic)))
    assert exported["type"] == model_type
    assert [f["name"] for f in exported["features"]] == list(FEATURE_NAMES)
    scored = {r["customer_id"]: r for r in score_customers(model, synthetic.scoring).collect()}
    features = {r["customer_id"]: r.asDict() for r in synthetic.scoring.collect()}
    ids = sorted(features)
    expected = _numpy_score(exported, [features[i] for i in ids])
    actual = np.array([scored[i]["churn_probability"] for i in ids])
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-9)
    bands = {scored[i]["churn_risk_band"] for i in ids}
    assert bands <= {"Low", "Medium", "High"}
    for i in ids[:200]:
        p, band = scored[i]["churn_probability"], scored[i]["churn_risk_band"]
        assert band == ("Low" if p < 0.3 else "Medium" if p < 0.6 else "High")


def test_a_feature_fill_is_what_scoring_sees(spark: SparkSession) -> None:
    by_name = {f.name: f for f in FEATURES}
    df = spark.createDataFrame(
        [("a", None, -5.0)], "customer_id string, avg_satisfaction double, total_spent double"
    )
    row = df.select(
        by_name["avg_satisfaction"].column().alias("s"), by_name["total_spent"].column().alias("t")
    ).first()
    assert row is not None
    assert (row["s"], row["t"]) == (3.0, 0.0), "null -> fill; a negative amount logs as 0"


def test_one_class_only_skips_the_model_with_a_reason(
    spark: SparkSession, synthetic: ChurnFrames
) -> None:
    everyone_churned = synthetic.training.withColumn(LABEL, F.lit(1.0))
    frames = ChurnFrames(everyone_churned, synthetic.scoring, CUTOFF, AS_OF)
    result = train_churn_model(frames, SETTINGS)
    assert isinstance(result, dict)
    assert "too few churners or stayers" in result["skipped"]
