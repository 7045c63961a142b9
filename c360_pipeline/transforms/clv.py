"""CLV predictions per customer from fitted BG/NBD and Gamma-Gamma models.

The models are fitted on the driver (`c360_pipeline.models.btyd`); scoring every customer runs
in the executors as a pandas UDF over Arrow batches, calling the same numpy functions.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, StructField, StructType

from c360_pipeline.models.btyd import (
    BgNbdFit,
    GammaGammaFit,
    customer_lifetime_value,
    expected_average_value,
    expected_purchases,
    probability_alive,
)

PREDICTION_COLUMNS: tuple[str, ...] = (
    "p_alive",
    "expected_purchases_12m",
    "expected_avg_value",
    "predicted_clv_12m",
)
# A DataType object, not a DDL string: parsing DDL needs an active SparkSession.
PREDICTION_TYPE = StructType(
    [StructField(name, DoubleType(), nullable=True) for name in PREDICTION_COLUMNS]
)
_PREDICTIONS = "_clv_predictions"


def _as_float(series: pd.Series) -> np.ndarray:
    """A numeric pandas column as float64, nulls as NaN (Arrow hands nullable ints as floats)."""
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def clv_prediction_frame(
    frequency: pd.Series,
    recency_weeks: pd.Series,
    t_weeks: pd.Series,
    monetary: pd.Series,
    bgnbd_params: Mapping[str, float],
    gamma_gamma_params: Mapping[str, float],
    horizon_weeks: float,
    months: int,
    monthly_discount_rate: float,
) -> pd.DataFrame:
    """The four prediction columns for one batch of customers; NaN where the summary is null."""
    x, t_x, age, m = (_as_float(s) for s in (frequency, recency_weeks, t_weeks, monetary))
    # NaN inputs propagate to NaN outputs, which Arrow turns into nulls.
    return pd.DataFrame(
        {
            "p_alive": probability_alive(bgnbd_params, x, t_x, age),
            "expected_purchases_12m": expected_purchases(bgnbd_params, horizon_weeks, x, t_x, age),
            "expected_avg_value": expected_average_value(gamma_gamma_params, x, m),
            "predicted_clv_12m": customer_lifetime_value(
                bgnbd_params,
                gamma_gamma_params,
                x,
                t_x,
                age,
                m,
                months=months,
                monthly_discount_rate=monthly_discount_rate,
            ),
        },
        index=frequency.index,
    )


def with_clv_predictions(
    summary_df: DataFrame,
    bgnbd: BgNbdFit,
    gamma_gamma: GammaGammaFit,
    horizon_weeks: float = 52.0,
    months: int = 12,
    monthly_discount_rate: float = 0.01,
) -> DataFrame:
    """Add p_alive, expected purchases, expected average value and CLV to the BTYD summary."""
    # Plain dicts of floats: small and cheap to ship to the executors with the UDF.
    bgnbd_params = {name: float(value) for name, value in bgnbd.params.items()}
    gamma_gamma_params = {name: float(value) for name, value in gamma_gamma.params.items()}

    # pyspark's stubs only type the deprecated functionType= form, not the type-hint form.
    @F.pandas_udf(PREDICTION_TYPE)  # type: ignore[call-overload]
    def predict(
        frequency: pd.Series, recency_weeks: pd.Series, t_weeks: pd.Series, monetary: pd.Series
    ) -> pd.DataFrame:
        return clv_prediction_frame(
            frequency,
            recency_weeks,
            t_weeks,
            monetary,
            bgnbd_params,
            gamma_gamma_params,
            horizon_weeks,
            months,
            monthly_discount_rate,
        )

    scored_df = summary_df.withColumn(
        _PREDICTIONS,
        predict(F.col("frequency"), F.col("recency_weeks"), F.col("t_weeks"), F.col("monetary")),
    )
    return scored_df.select(
        F.col("customer_id"),
        F.col("frequency").cast("int"),
        F.col("recency_weeks").cast("double"),
        F.col("t_weeks").cast("double"),
        F.col("monetary").cast("double"),
        *(
            F.col(f"{_PREDICTIONS}.{name}").cast("double").alias(name)
            for name in PREDICTION_COLUMNS
        ),
    )
