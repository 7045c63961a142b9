"""Deterministic random columns and the scipy-backed quantile functions."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from scipy import stats

from mock_data.randomness import (
    categorical,
    gamma_ppf,
    normal,
    poisson_ppf,
    poisson_quantile,
    uniform,
)


def test_uniform_is_deterministic_open_and_flat(spark: SparkSession) -> None:
    df = spark.range(20_000, numPartitions=3).select(uniform(1, "s", F.col("id")).alias("u"))
    again = spark.range(20_000, numPartitions=1).select(uniform(1, "s", F.col("id")).alias("u"))
    values = np.array([r.u for r in df.orderBy(F.monotonically_increasing_id()).collect()])
    # Same seed and keys, different partitioning: the same values.
    assert sorted(values) == sorted(r.u for r in again.collect())
    assert values.min() > 0.0
    assert values.max() < 1.0
    assert abs(values.mean() - 0.5) < 0.01
    counts, _ = np.histogram(values, bins=10, range=(0, 1))
    assert stats.chisquare(counts).pvalue > 1e-4
    other = spark.range(5).select(uniform(2, "s", F.col("id")).alias("u")).collect()
    assert [r.u for r in other] != sorted(values)[:5]


def test_normal_has_unit_moments(spark: SparkSession) -> None:
    rows = spark.range(20_000).select(normal(3, "z", F.col("id")).alias("z")).collect()
    z = np.array([r.z for r in rows])
    assert abs(z.mean()) < 0.03
    assert abs(z.std() - 1.0) < 0.03


def test_categorical_follows_weights(spark: SparkSession) -> None:
    u = uniform(5, "c", F.col("id"))
    df = spark.range(30_000).select(categorical(u, ["a", "b", "c"], [0.6, 0.3, 0.1]).alias("v"))
    shares = {r.v: r["count"] / 30_000 for r in df.groupBy("v").count().collect()}
    assert shares == pytest.approx({"a": 0.6, "b": 0.3, "c": 0.1}, abs=0.015)
    with pytest.raises(ValueError, match="equal length"):
        categorical(u, ["a"], [0.5, 0.5])


def test_quantile_udfs_match_scipy(spark: SparkSession) -> None:
    rows = [(0.05, 0.6, 0.0), (0.5, 0.6, 3.2), (0.95, 2.0, 40.0), (0.999, 1.2, 0.01)]
    df = spark.createDataFrame(rows, "u double, shape double, mean double")
    result = df.select(
        gamma_ppf(F.col("u"), F.col("shape")).alias("g"),
        poisson_ppf(F.col("u"), F.col("mean")).alias("p"),
    ).collect()
    for (u, shape, mean), row in zip(rows, result, strict=True):
        assert row.g == pytest.approx(stats.gamma.ppf(u, shape), rel=1e-9)
        expected = 0 if mean == 0 else int(stats.poisson.ppf(u, mean))
        assert row.p == expected


def test_poisson_quantile_equals_scipy_on_many_draws() -> None:
    rng = np.random.default_rng(0)
    u = rng.random(5000)
    mean = rng.gamma(0.6, 30, 5000)
    np.testing.assert_array_equal(poisson_quantile(u, mean), stats.poisson.ppf(u, mean))
