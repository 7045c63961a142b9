"""Churn propensity: a time-split label, MLlib models, an honest evaluation, a portable export.

The label never sees the future of its features:

    cutoff = as_of - window_days
    features(customer, cutoff)  <- purchases, sessions, tickets and complaints up to the cutoff
    churned = no purchase in (cutoff, as_of]

The training population is every customer with a purchase on or before the cutoff (a customer
whose first purchase is after it has no features at the cutoff and is not trained on; they are
still scored as of the as-of date). Customers are split by a hash of their id: 60 % train,
20 % validation (chooses between logistic regression and gradient-boosted trees), 20 % test
(reports the chosen model's metrics and the BG/NBD P(alive) baseline's on the same rows). The
chosen model then scores every purchasing customer on the same features computed as of the
as-of date. `export` writes what scoring needs (coefficients or the tree ensemble) as JSON so
the API scores without a JVM.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from pyspark.ml import Model
from pyspark.ml.classification import (
    GBTClassificationModel,
    GBTClassifier,
    LogisticRegression,
    LogisticRegressionModel,
)
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.functions import vector_to_array
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from c360_pipeline.models.btyd import BtydFitError, probability_alive
from c360_pipeline.models.clv_fit import fit_bgnbd_from_summary
from c360_pipeline.transforms.columns import days_between
from c360_pipeline.transforms.purchases import customer_days

LABEL = "churned"
MODEL_TYPES = ("logistic_regression", "gbt")
BANDS: tuple[tuple[str, float | None], ...] = (("Low", 0.3), ("Medium", 0.6), ("High", None))
"""Risk bands of the churn probability: the first whose upper bound (exclusive) it is below."""
NO_PURCHASES = "No Purchases"
MIN_CLASS_ROWS = 10
"""Fewer churners or stayers than this in the training rows: the model is skipped."""
TRAIN_PARTITIONS = 1
"""The (at most `train_max_rows`) training rows are fitted from this many partitions. Each
boosting round and optimiser step is a Spark job over them, and at tens of thousands of rows a
job's cost is its tasks' scheduling, not their work: one partition instead of 4 cut the two fits
from 18.5 and 11.5 s to 12.5 and 4.5 s at 1M customers (in one warm JVM), with the same test
ROC AUC to 1e-4. The logistic regression's optimum does not depend on it; the trees' split
candidates (quantiles of a sample of the rows) do, a little."""


@dataclass(frozen=True)
class Feature:
    """One model input: its raw value (as of a reference date), how it is filled and transformed."""

    name: str
    transform: str  # "log1p": log(1 + max(x, 0)); "identity": x
    fill: float  # the value used when the raw value is null (no data of that kind)
    description: str

    def column(self) -> Column:
        """The model input computed from the raw column (the API's scorer does the same)."""
        value = F.coalesce(F.col(self.name).cast("double"), F.lit(self.fill))
        if self.transform == "log1p":
            return F.log1p(F.greatest(value, F.lit(0.0)))
        return value


FEATURES: tuple[Feature, ...] = (
    Feature("recency_days", "log1p", 0.0, "Days since the last purchase"),
    Feature("purchase_days", "log1p", 0.0, "Distinct purchase days"),
    Feature("orders", "log1p", 0.0, "Transactions"),
    Feature("total_spent", "log1p", 0.0, "Revenue to date"),
    Feature("avg_order_value", "log1p", 0.0, "total_spent / orders"),
    Feature("days_since_first_purchase", "log1p", 0.0, "Purchase tenure in days"),
    Feature("revenue_90d", "log1p", 0.0, "Revenue in the last 90 days"),
    Feature("revenue_prev_90d", "log1p", 0.0, "Revenue in the 90 days before those"),
    Feature("revenue_12m", "log1p", 0.0, "Revenue in the last 365 days (drives the loyalty tier)"),
    Feature("sessions_30d", "log1p", 0.0, "App and web sessions in the last 30 days"),
    Feature("sessions_90d", "log1p", 0.0, "App and web sessions in the last 90 days"),
    Feature("tickets_total", "log1p", 0.0, "Support tickets opened"),
    Feature("tickets_90d", "log1p", 0.0, "Support tickets opened in the last 90 days"),
    Feature(
        "avg_satisfaction", "identity", 3.0, "Mean satisfaction (1-5) of tickets closed; 3 if none"
    ),
    Feature("complaints_90d", "log1p", 0.0, "Complaint interactions in the last 90 days"),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)


@dataclass(frozen=True)
class ChurnSettings:
    """Knobs of the churn model (the pipeline settings fill them from `C360_CHURN_*`)."""

    window_days: int = 90
    train_max_rows: int = 50_000
    seed: int = 42
    gbt_iterations: int = 30
    gbt_depth: int = 4


@dataclass(frozen=True)
class ChurnFrames:
    """The labelled rows as of the cutoff and the rows to score as of the as-of date."""

    training: DataFrame  # customer_id, FEATURES, churned, frequency, recency_weeks, t_weeks
    scoring: DataFrame  # customer_id, FEATURES
    cutoff: date
    as_of: date


@dataclass
class ChurnModel:
    """The chosen, fitted model with its evaluation and its portable export."""

    model: Model
    model_type: str
    report: dict[str, Any]
    export: dict[str, Any] = field(default_factory=dict)


def churn_cutoff(as_of: date, window_days: int) -> date:
    """Where features stop and the label window starts."""
    return as_of - timedelta(days=window_days)


# ------------------------------------------------------------------------------- features


def _purchase_features(at: date, suffix: str) -> dict[str, Column]:
    day = F.col("transaction_date")
    upto = day <= F.lit(at)

    def since(days: int) -> Column:
        return upto & (day >= F.lit(at - timedelta(days=days - 1)))

    previous = (day >= F.lit(at - timedelta(days=179))) & (day < F.lit(at - timedelta(days=89)))
    aggregates = {
        "first": F.min(F.when(upto, day)),
        "last": F.max(F.when(upto, day)),
        "purchase_days": F.count(F.when(upto, 1)),
        "orders": F.sum(F.when(upto, F.col("day_orders"))),
        "total_spent": F.sum(F.when(upto, F.col("day_revenue"))),
        "revenue_90d": F.sum(F.when(since(90), F.col("day_revenue"))),
        "revenue_prev_90d": F.sum(F.when(previous, F.col("day_revenue"))),
        "revenue_12m": F.sum(F.when(since(365), F.col("day_revenue"))),
    }
    return {f"{name}{suffix}": column for name, column in aggregates.items()}


def _purchase_columns(at: date, suffix: str) -> list[Column]:
    orders = F.col(f"orders{suffix}")
    spent = F.coalesce(F.col(f"total_spent{suffix}"), F.lit(0.0))
    return [
        days_between(F.lit(at), F.col(f"last{suffix}")).alias("recency_days"),
        F.col(f"purchase_days{suffix}").alias("purchase_days"),
        orders.alias("orders"),
        spent.alias("total_spent"),
        F.when(orders > 0, spent / orders).alias("avg_order_value"),
        days_between(F.lit(at), F.col(f"first{suffix}")).alias("days_since_first_purchase"),
        *[
            F.coalesce(F.col(f"{name}{suffix}"), F.lit(0.0)).alias(name)
            for name in ("revenue_90d", "revenue_prev_90d", "revenue_12m")
        ],
    ]


def _session_features(at: date, suffix: str) -> list[Column]:
    day = F.col("event_date")
    sessions = F.coalesce(F.col("session_count"), F.lit(1))
    return [
        F.sum(
            F.when(
                (day <= F.lit(at)) & (day >= F.lit(at - timedelta(days=days - 1))), sessions
            ).otherwise(F.lit(0))
        ).alias(f"sessions_{days}d{suffix}")
        for days in (30, 90)
    ]


def _ticket_features(at: date, suffix: str) -> list[Column]:
    end = F.lit(at + timedelta(days=1)).cast("timestamp")
    start_90 = F.lit(at - timedelta(days=89)).cast("timestamp")
    opened = F.col("opened_at")
    # A satisfaction score is known once the ticket is closed: later closures are the future.
    closed = F.col("closed_at").isNotNull() & (F.col("closed_at") < end)
    return [
        F.count(F.when(opened < end, 1)).alias(f"tickets_total{suffix}"),
        F.count(F.when((opened < end) & (opened >= start_90), 1)).alias(f"tickets_90d{suffix}"),
        F.avg(F.when((opened < end) & closed, F.col("satisfaction_score"))).alias(
            f"avg_satisfaction{suffix}"
        ),
    ]


def _complaint_features(at: date, suffix: str) -> list[Column]:
    end = F.lit(at + timedelta(days=1)).cast("timestamp")
    start_90 = F.lit(at - timedelta(days=89)).cast("timestamp")
    at_col = F.col("interaction_at")
    complaint = F.lower(F.col("interaction_type")) == "complaint"
    return [
        F.count(F.when(complaint & (at_col < end) & (at_col >= start_90), 1)).alias(
            f"complaints_90d{suffix}"
        )
    ]


def churn_purchase_aggregations(as_of: date, window_days: int = 90) -> dict[str, Column]:
    """The per-customer purchase aggregates the churn features need, as of the cutoff and as
    of the as-of date side by side, over a per-customer-day frame (`transaction_date`,
    `day_revenue`, `day_orders`) grouped by customer, by name (unaliased):
    `build_purchase_summary` computes them in its own pass (`extra_aggregations`), so the
    purchases are aggregated once."""
    cutoff = churn_cutoff(as_of, window_days)
    return {
        **_purchase_features(cutoff, "_c"),
        **_purchase_features(as_of, "_a"),
        "days_after_cutoff": F.count(F.when(F.col("transaction_date") > F.lit(cutoff), 1)),
    }


def build_churn_frames(
    daily_df: DataFrame | None,
    events_df: DataFrame | None,
    tickets_df: DataFrame | None,
    interactions_df: DataFrame | None,
    as_of: date,
    window_days: int = 90,
    cache: Callable[[DataFrame], DataFrame] | None = None,
    purchases_df: DataFrame | None = None,
) -> ChurnFrames:
    """The features of every customer as of the cutoff (with the label) and as of the as-of
    date, from one aggregation per source: each pass computes both dates' values side by side.

    `daily_df` is `build_daily_purchases` (one row per customer and day); the other
    sources are the validated rows (None when the source is absent: their features are null
    and take their fill value). `purchases_df`, when given instead of `daily_df`, is a
    per-customer frame that already holds `churn_purchase_aggregations` (the customer summary
    computed with them). `cache`, when given, persists the per-customer aggregate both frames
    are selected from (so the sources are read once)."""
    cutoff = churn_cutoff(as_of, window_days)
    dates = {"_c": cutoff, "_a": as_of}
    aggregations = churn_purchase_aggregations(as_of, window_days)
    if purchases_df is None:
        if daily_df is None:
            raise ValueError("build_churn_frames needs daily_df or purchases_df")
        in_window_df = daily_df.where(F.col("transaction_date") <= F.lit(as_of))
        per_day_df = customer_days(in_window_df, "revenue", "orders")
        purchases_df = per_day_df.groupBy("customer_id").agg(
            *[column.alias(name) for name, column in aggregations.items()]
        )
    else:
        purchases_df = purchases_df.select("customer_id", *aggregations)
    joined_df = purchases_df
    sources = (
        (events_df, _session_features),
        (tickets_df, _ticket_features),
        (interactions_df, _complaint_features),
    )
    for source_df, features in sources:
        if source_df is None:
            continue
        agg_df = source_df.groupBy("customer_id").agg(
            *[c for suffix, at in dates.items() for c in features(at, suffix)]
        )
        joined_df = joined_df.join(agg_df, on="customer_id", how="left")
    if cache is not None:
        joined_df = cache(joined_df)
    present = set(joined_df.columns)

    def other_columns(suffix: str) -> list[Column]:
        names = ("sessions_30d", "sessions_90d", "tickets_total", "tickets_90d",
                 "avg_satisfaction", "complaints_90d")  # fmt: skip
        return [
            (F.col(f"{n}{suffix}") if f"{n}{suffix}" in present else F.lit(None))
            .cast("double")
            .alias(n)
            for n in names
        ]

    def features_as_of(suffix: str) -> list[Column]:
        return [*_purchase_columns(dates[suffix], suffix), *other_columns(suffix)]

    def ordered(df: DataFrame) -> DataFrame:
        return df.select(
            "customer_id",
            *[F.col(name).cast("double").alias(name) for name in FEATURE_NAMES],
            *[c for c in df.columns if c not in FEATURE_NAMES and c != "customer_id"],
        )

    training_df = ordered(
        joined_df.where(F.col("purchase_days_c") > 0).select(
            "customer_id",
            *features_as_of("_c"),
            (F.col("days_after_cutoff") == 0).cast("double").alias(LABEL),
            # The BTYD summary at the cutoff, for the P(alive) baseline.
            (F.col("purchase_days_c") - 1).cast("int").alias("frequency"),
            (days_between(F.col("last_c"), F.col("first_c")) / 7.0).alias("recency_weeks"),
            (days_between(F.lit(cutoff), F.col("first_c")) / 7.0).alias("t_weeks"),
        )
    )
    scoring_df = ordered(
        joined_df.where(F.col("purchase_days_a") > 0).select("customer_id", *features_as_of("_a"))
    )
    return ChurnFrames(training=training_df, scoring=scoring_df, cutoff=cutoff, as_of=as_of)


# ------------------------------------------------------------------------------- training

_VECTOR = "features_vector"
_SCORE = "churn_score"


def _split_bucket(seed: int) -> Column:
    """0-99 from the customer id alone: the split does not depend on partitioning."""
    return F.pmod(F.xxhash64(F.lit(seed), F.col("customer_id")), F.lit(100))


def model_inputs(df: DataFrame) -> DataFrame:
    """`df` with the assembled (filled, transformed) feature vector."""
    inputs_df = df.select("*", *[f.column().alias(f"_in_{f.name}") for f in FEATURES])
    assembler = VectorAssembler(
        inputCols=[f"_in_{name}" for name in FEATURE_NAMES], outputCol=_VECTOR
    )
    return assembler.transform(inputs_df)


def _probability() -> Column:
    """P(churned) from a fitted classifier's probability vector."""
    return vector_to_array(F.col("probability")).getItem(1)


def binary_metrics(scored_df: DataFrame, score: str, label: str = LABEL) -> dict[str, Any]:
    """ROC AUC, PR AUC, Brier score and top-decile lift of a score in [0, 1] against a 0/1 label.

    One aggregation per distinct score (rows and churners), brought to the driver through Arrow
    like the BTYD fits' unique rows, and the curves drawn from it with numpy: every distinct
    score is a threshold, as in MLlib's `BinaryClassificationMetrics` without down-sampling
    (its evaluator's default bins the curves into about 1,000 points). Two MLlib evaluators
    sorted the scores twice, in a dozen small jobs per call; this is one job, plus one when the
    top decile ends inside a group of tied scores. Raises ValueError for a null or NaN score.
    """
    by_score = (
        scored_df.groupBy(F.col(score).alias("score"))
        .agg(F.count(F.lit(1)).alias("rows"), F.sum(F.col(label)).alias("positives"))
        .toPandas()
    )
    if by_score.empty:
        raise ValueError("no rows to evaluate")
    scores = by_score["score"].to_numpy(dtype="float64", na_value=np.nan)
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"{score}: every score must be a finite number")
    order = np.argsort(-scores)  # descending: the thresholds, strictest first
    scores = scores[order]
    counts = by_score["rows"].to_numpy(dtype="float64")[order]
    positives = by_score["positives"].to_numpy(dtype="float64", na_value=0.0)[order]
    rows = int(counts.sum())
    true_positives = np.cumsum(positives)
    false_positives = np.cumsum(counts - positives)
    churners, stayers = float(true_positives[-1]), float(false_positives[-1])
    rate = churners / rows
    roc_auc = pr_auc = None
    if churners and stayers:
        recall = true_positives / churners
        # The ROC curve from (0, 0); the PR curve from (0, precision at the strictest threshold).
        roc_auc = _area(np.r_[0.0, false_positives / stayers], np.r_[0.0, recall])
        precision = true_positives / (true_positives + false_positives)
        pr_auc = _area(np.r_[0.0, recall], np.r_[precision[0], precision])
    # Brier: the mean of (s - y)^2 over rows, grouped by s, with y in {0, 1}.
    brier = float(np.sum(counts * scores**2 - 2.0 * scores * positives + positives)) / rows
    # Top decile by score (ties at the boundary broken by customer id, so it is exactly 10 %).
    top = max(1, math.ceil(rows / 10))
    boundary = int(np.searchsorted(np.cumsum(counts), top))
    before = int(counts[:boundary].sum())
    top_churners = float(true_positives[boundary - 1]) if boundary else 0.0
    if top - before == counts[boundary]:
        top_churners += float(positives[boundary])
    else:
        tied = (
            scored_df.where(F.col(score) == F.lit(float(scores[boundary])))
            .orderBy("customer_id")
            .limit(top - before)
            .agg(F.sum(F.col(label)))
            .first()
        )
        top_churners += float(tied[0] or 0.0) if tied is not None else 0.0
    return {
        "rows": rows,
        "churn_rate": round(rate, 6),
        "roc_auc": round(roc_auc, 6) if roc_auc is not None else None,
        "pr_auc": round(pr_auc, 6) if pr_auc is not None else None,
        "brier": round(brier, 6),
        "top_decile_lift": round(top_churners / top / rate, 4) if rate else None,
    }


def _area(x: np.ndarray, y: np.ndarray) -> float:
    """Area under a curve through the points (x, y), by the trapezoidal rule (as MLlib)."""
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0))


def _candidates(settings: ChurnSettings) -> dict[str, Any]:
    return {
        "logistic_regression": LogisticRegression(
            featuresCol=_VECTOR, labelCol=LABEL, maxIter=100, regParam=1e-4, standardization=True
        ),
        "gbt": GBTClassifier(
            featuresCol=_VECTOR,
            labelCol=LABEL,
            maxIter=settings.gbt_iterations,
            maxDepth=settings.gbt_depth,
            stepSize=0.1,
            seed=settings.seed,
            subsamplingRate=1.0,
            featureSubsetStrategy="all",
        ),
    }


def _p_alive_baseline(
    history_df: DataFrame, test_df: DataFrame
) -> tuple[DataFrame, dict[str, Any]]:
    """1 - P(alive at the cutoff) of the test rows, from a BG/NBD fit on every labelled
    customer's purchases up to the cutoff (history only: no label information)."""
    fit = fit_bgnbd_from_summary(history_df)
    params = {name: float(value) for name, value in fit.params.items()}

    @F.pandas_udf("double")  # type: ignore[call-overload]
    def churn_from_p_alive(frequency: pd.Series, recency: pd.Series, t: pd.Series) -> pd.Series:
        return pd.Series(1.0 - probability_alive(params, frequency, recency, t))

    scored_df = test_df.withColumn(
        _SCORE, churn_from_p_alive(F.col("frequency"), F.col("recency_weeks"), F.col("t_weeks"))
    )
    return scored_df, {"bgnbd_params_at_cutoff": {k: round(v, 8) for k, v in params.items()}}


def train_churn_model(frames: ChurnFrames, settings: ChurnSettings) -> ChurnModel | dict[str, Any]:
    """Fit both candidates on the training split, keep the better on validation ROC AUC, and
    report it and the P(alive) baseline on the test split. Returns a `{"skipped": reason}`
    manifest section when the data cannot support a model (too few rows of either class)."""
    started = time.perf_counter()
    bucket = _split_bucket(settings.seed)
    split = (
        F.when(bucket < 60, F.lit("train")).when(bucket < 80, F.lit("validation")).otherwise("test")
    )
    labelled_df = model_inputs(frames.training).withColumn("_split", split).persist()
    try:
        counts = {
            (r["_split"], int(r[LABEL])): int(r["count"])
            for r in labelled_df.groupBy("_split", LABEL).count().collect()
        }
        per_split = {
            s: counts.get((s, 0), 0) + counts.get((s, 1), 0)
            for s in ("train", "validation", "test")
        }
        smallest = min(counts.get((s, c), 0) for s in ("train",) for c in (0, 1))
        if (
            smallest < MIN_CLASS_ROWS
            or min(counts.get((s, c), 0) for s in ("validation", "test") for c in (0, 1)) == 0
        ):
            return {
                "skipped": "too few churners or stayers to train and evaluate on "
                f"(rows per split and label: { {f'{s}/{c}': n for (s, c), n in counts.items()} })",
                "cutoff": frames.cutoff.isoformat(),
                "window_days": settings.window_days,
            }
        train_df = labelled_df.where(F.col("_split") == "train")
        if per_split["train"] > settings.train_max_rows:
            # A uniform, partitioning-independent subsample of the training rows.
            keep_per_million = int(1_000_000 * settings.train_max_rows / per_split["train"])
            sample = F.pmod(
                F.xxhash64(F.lit(settings.seed + 1), F.col("customer_id")), F.lit(10**6)
            )
            train_df = train_df.where(sample < keep_per_million)
        train_df = train_df.coalesce(TRAIN_PARTITIONS).persist()
        validation_df = labelled_df.where(F.col("_split") == "validation")
        test_df = labelled_df.where(F.col("_split") == "test")

        def fit_and_validate(name: str) -> tuple[Model, dict[str, Any], float]:
            fit_started = time.perf_counter()
            model = _candidates(settings)[name].fit(train_df)
            seconds = round(time.perf_counter() - fit_started, 2)
            scored = model.transform(validation_df).withColumn(_SCORE, _probability())
            return model, binary_metrics(scored, _SCORE), seconds

        def p_alive_baseline() -> dict[str, Any]:
            try:
                baseline_df, baseline_info = _p_alive_baseline(labelled_df, test_df)
                return {**binary_metrics(baseline_df, _SCORE), **baseline_info}
            except (BtydFitError, ValueError) as exc:
                return {"skipped": f"BG/NBD fit at the cutoff failed: {exc}"}

        # Both candidates and the baseline at once: the fits' many small jobs leave the cores
        # idle between them, and the baseline's BG/NBD fit is mostly Python on the driver.
        with ThreadPoolExecutor(max_workers=len(MODEL_TYPES) + 1) as pool:
            baseline_future = pool.submit(p_alive_baseline)
            outcomes = dict(zip(MODEL_TYPES, pool.map(fit_and_validate, MODEL_TYPES), strict=True))
            baseline = baseline_future.result()
        fitted = {name: outcome[0] for name, outcome in outcomes.items()}
        validation = {name: outcome[1] for name, outcome in outcomes.items()}
        fit_seconds = {name: outcome[2] for name, outcome in outcomes.items()}
        train_rows = train_df.count()
        train_df.unpersist()
        chosen = max(
            MODEL_TYPES, key=lambda n: (validation[n]["roc_auc"], n == "logistic_regression")
        )
        model = fitted[chosen]
        test_scored = model.transform(test_df).withColumn(_SCORE, _probability())
        test_metrics = binary_metrics(test_scored, _SCORE)
        report = {
            "type": chosen,
            "label": f"no purchase in the {settings.window_days} days after the cutoff",
            "cutoff": frames.cutoff.isoformat(),
            "window_days": settings.window_days,
            "features": [
                {
                    "name": f.name,
                    "transform": f.transform,
                    "fill": f.fill,
                    "description": f.description,
                }
                for f in FEATURES
            ],
            "split": {
                "train": train_rows,
                "train_available": per_split["train"],
                "validation": per_split["validation"],
                "test": per_split["test"],
                "method": "xxhash64(seed, customer_id) % 100: <60 train, <80 validation",
            },
            "seed": settings.seed,
            "candidates": {
                name: {"validation": validation[name], "fit_seconds": fit_seconds[name]}
                for name in MODEL_TYPES
            },
            "params": _params(chosen, settings),
            "metrics": {"test": test_metrics, "baseline_p_alive_test": baseline},
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        churn_model = ChurnModel(model=model, model_type=chosen, report=report)
        churn_model.export = export_model(churn_model, frames)
        report["training_seconds"] = round(time.perf_counter() - started, 2)
        return churn_model
    finally:
        labelled_df.unpersist()


def _params(model_type: str, settings: ChurnSettings) -> dict[str, Any]:
    if model_type == "gbt":
        return {"max_iter": settings.gbt_iterations, "max_depth": settings.gbt_depth,
                "step_size": 0.1, "loss": "logistic"}  # fmt: skip
    return {"max_iter": 100, "reg_param": 1e-4, "standardization": True}


def score_customers(model: ChurnModel, scoring_df: DataFrame) -> DataFrame:
    """customer_id, churn_probability and churn_risk_band of every purchasing customer."""
    scored_df = model.model.transform(model_inputs(scoring_df))
    # Two selects: the band reads the probability column instead of converting the vector again
    # (Spark does not merge projections that would repeat a UDF).
    return scored_df.select("customer_id", _probability().alias("churn_probability")).select(
        "customer_id",
        "churn_probability",
        risk_band(F.col("churn_probability")).alias("churn_risk_band"),
    )


def risk_band(probability: Column) -> Column:
    """The band of a churn probability (BANDS: the first whose bound it is below)."""
    *bounded, (last, _) = BANDS
    band = F.lit(last)
    for name, below in reversed(bounded):
        band = F.when(probability < F.lit(below), F.lit(name)).otherwise(band)
    return band


# ------------------------------------------------------------------------------- export


def _tree_nodes(root: Any) -> list[dict[str, Any]]:
    """A fitted MLlib tree (its JVM root node) as a flat list; root first, children by index."""
    nodes: list[dict[str, Any]] = []

    def visit(node: Any) -> int:
        index = len(nodes)
        if node.getClass().getSimpleName() == "LeafNode":
            nodes.append({"leaf": float(node.prediction())})
            return index
        split = node.split()
        if split.getClass().getSimpleName() != "ContinuousSplit":
            raise ValueError("only continuous splits are exported")
        nodes.append({"feature": int(split.featureIndex()), "threshold": float(split.threshold())})
        nodes[index]["left"] = visit(node.leftChild())
        nodes[index]["right"] = visit(node.rightChild())
        return index

    visit(root)
    return nodes


def export_model(model: ChurnModel, frames: ChurnFrames) -> dict[str, Any]:
    """Everything scoring needs, as JSON (the API scores with numpy from this)."""
    exported: dict[str, Any] = {
        "model": "churn",
        "type": model.model_type,
        "features": [{"name": f.name, "transform": f.transform, "fill": f.fill} for f in FEATURES],
        "bands": [{"name": name, "below": below} for name, below in BANDS],
        "as_of": frames.as_of.isoformat(),
        "cutoff": frames.cutoff.isoformat(),
        "window_days": (frames.as_of - frames.cutoff).days,
        "trained_at": model.report["trained_at"],
    }
    if isinstance(model.model, LogisticRegressionModel):
        exported["logistic_regression"] = {
            "intercept": float(model.model.intercept),
            "coefficients": [float(c) for c in model.model.coefficients.toArray()],
        }
    elif isinstance(model.model, GBTClassificationModel):
        exported["gbt"] = {
            "trees": [
                {"weight": float(weight), "nodes": _tree_nodes(tree._call_java("rootNode"))}
                for tree, weight in zip(model.model.trees, model.model.treeWeights, strict=True)
            ]
        }
    else:  # pragma: no cover - only the two candidates are fitted
        raise TypeError(f"cannot export {type(model.model).__name__}")
    return exported
