"""with_clv_predictions: the pandas UDF gives the numpy models' values, nulls for non-buyers."""

from __future__ import annotations

import numpy as np
from chispa import assert_approx_df_equality
from pyspark.sql import SparkSession
from pyspark.sql.types import DoubleType, IntegerType, StringType, StructField, StructType

from c360_pipeline.models import btyd
from c360_pipeline.models.btyd import BgNbdFit, GammaGammaFit
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
