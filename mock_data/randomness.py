"""Deterministic, partition-independent random numbers as Spark columns.

Every draw is a hash of (seed, stream name, row keys), so a row's values depend only on the seed
and its own keys: the same seed gives the same rows on a laptop or a 100-node cluster, whatever the
partitioning. Distributions without a closed-form inverse (Gamma, Poisson) go through vectorised
scipy in pandas UDFs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.functions import pandas_udf
from pyspark.sql.types import DoubleType, LongType

# Imported at module level: Python workers import this module once and are reused.
from scipy.special import gammaincinv, pdtr, pdtrik

_MANTISSA = (1 << 53) - 1


def uniform(seed: int, stream: str, *keys: Column) -> Column:
    """Uniform draw in the open interval (0, 1) for the given seed, stream and row keys."""
    hashed = F.xxhash64(F.lit(seed), F.lit(stream), *keys)
    return (hashed.bitwiseAND(F.lit(_MANTISSA)) + F.lit(0.5)) / F.lit(float(1 << 53))


def normal(seed: int, stream: str, *keys: Column) -> Column:
    """Standard normal draw (Box-Muller over two independent uniforms)."""
    u1 = uniform(seed, f"{stream}:1", *keys)
    u2 = uniform(seed, f"{stream}:2", *keys)
    return F.sqrt(F.lit(-2.0) * F.log(u1)) * F.cos(F.lit(2 * math.pi) * u2)


def exponential(u: Column, mean: Column | float) -> Column:
    """Exponential variate with the given mean from a uniform draw."""
    return -F.log(u) * (mean if isinstance(mean, Column) else F.lit(mean))


def categorical(u: Column, values: Sequence[object], weights: Sequence[float]) -> Column:
    """Pick one of `values` with probabilities proportional to `weights` from a uniform draw."""
    if len(values) != len(weights) or not values:
        raise ValueError("values and weights must be non-empty and of equal length")
    total = float(sum(weights))
    cumulative = 0.0
    expr: Column | None = None
    for value, weight in zip(values[:-1], weights[:-1], strict=True):
        cumulative += weight / total
        condition = u < F.lit(cumulative)
        expr = (
            F.when(condition, F.lit(value)) if expr is None else expr.when(condition, F.lit(value))
        )
    last = F.lit(values[-1])
    return last if expr is None else expr.otherwise(last)


def poisson_quantile(u: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Vectorised Poisson inverse CDF (scipy's own algorithm); a mean <= 0 gives 0."""
    mu = np.asarray(mean, dtype="float64")
    q = np.asarray(u, dtype="float64")
    draws = np.zeros(mu.shape, dtype="int64")
    positive = mu > 0
    if positive.any():
        m, p = mu[positive], q[positive]
        upper = np.ceil(pdtrik(p, m))
        lower = np.maximum(upper - 1, 0)
        draws[positive] = np.where(pdtr(lower, m) >= p, lower, upper).astype("int64")
    return draws


def gamma_quantile(u: np.ndarray, shape: np.ndarray | float) -> np.ndarray:
    """Vectorised inverse CDF of the unit-scale Gamma distribution."""
    return np.asarray(gammaincinv(shape, np.asarray(u, dtype="float64")), dtype="float64")


@pandas_udf(DoubleType())  # type: ignore[call-overload]
def gamma_ppf(u: pd.Series, shape: pd.Series) -> pd.Series:
    """Inverse CDF of the unit-scale Gamma distribution, as a Spark column."""
    return pd.Series(gamma_quantile(u.to_numpy(), shape.to_numpy(dtype="float64")))


@pandas_udf(LongType())  # type: ignore[call-overload]
def poisson_ppf(u: pd.Series, mean: pd.Series) -> pd.Series:
    """Inverse CDF of the Poisson distribution, as a Spark column; a mean <= 0 gives 0."""
    return pd.Series(poisson_quantile(u.to_numpy(), mean.to_numpy()))
