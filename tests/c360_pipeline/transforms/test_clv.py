"""with_clv_predictions: the pandas UDF gives the numpy models' values, nulls for non-buyers."""

from __future__ import annotations

import numpy as np
import pytest
from chispa import assert_approx_df_equality
from pyspark.sql import SparkSession
from pyspark.sql.types import DoubleType, IntegerType, StringType, StructField, StructType

from c360_pipeline.models import btyd
from c360_pipeline.models.btyd import BgNbdFit, GammaGammaFit
from c360_pipeline.models.clv_fit import fit_bgnbd_from_summary, fit_gamma_gamma_from_summary
from c360_pipeline.transforms.clv import with_clv_predictions

BGNBD = BgNbdFit(
    params={"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    log_likelihood=-9582.4,
    n_customers=2357.0,
    n_unique_rows=1016,
    converged=True,
    penalizer=0.0,
    iterations=31,
)
GAMMA_GAMMA = GammaGammaFit(
    params={"p": 6.25, "q": 3.74, "v": 15.45},
    log_likelihood=-4055.9,
    n_customers=946.0,
    n_unique_rows=946,
    converged=True,
    penalizer=0.0,
    iterations=25,
)

SUMMARY_SCHEMA = StructType(
    [
        StructField("customer_id", StringType(), True),
        StructField("frequency", IntegerType(), True),
        StructField("recency_weeks", DoubleType(), True),
        StructField("t_weeks", DoubleType(), True),
        StructField("monetary", DoubleType(), True),
    ]
)
OUTPUT_SCHEMA = StructType(
    [
        *SUMMARY_SCHEMA.fields,
        StructField("p_alive", DoubleType(), True),
        StructField("expected_purchases_12m", DoubleType(), True),
        StructField("expected_avg_value", DoubleType(), True),
        StructField("predicted_clv_12m", DoubleType(), True),
    ]
)
SUMMARY_ROWS = [
    ("c1", 2, 30.43, 38.86, 22.35),
    ("c2", 1, 1.71, 38.86, 11.77),
    ("c3", 0, 0.0, 38.86, 0.0),  # one purchase only: P(alive) = 1, population mean spend
    ("c4", 14, 51.0, 52.0, 80.5),
    ("c5", None, None, None, None),  # no purchase before the as-of date
]


def _expected_rows(
    horizon_weeks: float, months: int, monthly_discount_rate: float
) -> list[tuple[object, ...]]:
    """The summary rows extended with predictions computed by the numpy functions directly."""
    rows: list[tuple[object, ...]] = []
    for customer_id, x, t_x, age, m in SUMMARY_ROWS:
        if x is None:
            rows.append((customer_id, x, t_x, age, m, None, None, None, None))
            continue
        p_alive = btyd.probability_alive(BGNBD.params, [x], [t_x], [age])[0]
        purchases = btyd.expected_purchases(BGNBD.params, horizon_weeks, [x], [t_x], [age])[0]
        value = btyd.expected_average_value(GAMMA_GAMMA.params, [x], [m])[0]
        clv = btyd.customer_lifetime_value(
            BGNBD.params,
            GAMMA_GAMMA.params,
            [x],
            [t_x],
            [age],
            [m],
            months=months,
            monthly_discount_rate=monthly_discount_rate,
        )[0]
        predictions = (float(p_alive), float(purchases), float(value), float(clv))
        assert all(np.isfinite(predictions))
        rows.append((customer_id, x, t_x, age, m, *predictions))
    return rows


def test_with_clv_predictions_matches_numpy_models(spark: SparkSession) -> None:
    summary_df = spark.createDataFrame(SUMMARY_ROWS, SUMMARY_SCHEMA)
    expected_df = spark.createDataFrame(_expected_rows(52.0, 12, 0.01), OUTPUT_SCHEMA)

    actual_df = summary_df.transform(with_clv_predictions, bgnbd=BGNBD, gamma_gamma=GAMMA_GAMMA)

    assert_approx_df_equality(actual_df, expected_df, precision=1e-9, ignore_row_order=True)


def test_with_clv_predictions_uses_horizon_and_discounting(spark: SparkSession) -> None:
    summary_df = spark.createDataFrame(SUMMARY_ROWS, SUMMARY_SCHEMA)
    expected_df = spark.createDataFrame(_expected_rows(13.0, 3, 0.05), OUTPUT_SCHEMA)

    actual_df = with_clv_predictions(
        summary_df,
        BGNBD,
        GAMMA_GAMMA,
        horizon_weeks=13.0,
        months=3,
        monthly_discount_rate=0.05,
    )

    assert_approx_df_equality(actual_df, expected_df, precision=1e-9, ignore_row_order=True)


def test_fits_from_the_summary_equal_fits_on_every_customer(spark: SparkSession) -> None:
    # Customers sharing a (frequency, recency, T) row are fitted once with their count as the
    # weight: the parameters must equal a fit on every customer's row.
    rng = np.random.default_rng(11)
    rows = []
    for i in range(400):
        frequency = int(rng.poisson(2))
        t_weeks = float(rng.integers(10, 40))
        recency = float(rng.integers(1, int(t_weeks) + 1)) if frequency else 0.0
        # Gamma-Gamma's own story: spend per purchase ~ Gamma(p, nu), nu ~ Gamma(q, v).
        nu = rng.gamma(4.0, 1 / 15.0)
        spend = round(float(rng.gamma(6.0, 1 / nu, max(frequency, 1)).mean()), 2)
        rows.append((f"c{i}", frequency, recency, t_weeks, spend))
    summary_df = spark.createDataFrame([*rows, ("c-none", None, None, None, None)], SUMMARY_SCHEMA)
    data = np.array([r[1:] for r in rows], dtype="float64")

    bgnbd = fit_bgnbd_from_summary(summary_df)
    expected = btyd.fit_bgnbd(data[:, 0], data[:, 1], data[:, 2])
    assert bgnbd.n_customers == 400
    assert bgnbd.n_unique_rows < 400
    for name, value in expected.params.items():
        assert bgnbd.params[name] == pytest.approx(value, rel=1e-6)
    assert bgnbd.log_likelihood == pytest.approx(expected.log_likelihood, rel=1e-9)

    repeat = data[:, 0] > 0
    gamma_gamma = fit_gamma_gamma_from_summary(summary_df)
    expected_gg = btyd.fit_gamma_gamma(data[repeat, 0], data[repeat, 3])
    assert gamma_gamma.n_customers == int(repeat.sum())
    assert gamma_gamma.converged
    assert bgnbd.converged
    for name, value in expected_gg.params.items():
        assert gamma_gamma.params[name] == pytest.approx(value, rel=1e-6)
