"""RFM scores, segments and thresholds on hand-written rows."""

from __future__ import annotations

from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from c360_pipeline.transforms.rfm import (
    SEGMENTS,
    RfmThresholds,
    measure_rfm_thresholds,
    rfm_segment,
    with_rfm_scores,
)

THRESHOLDS = RfmThresholds(
    recency_days=(10.0, 30.0, 60.0, 120.0),
    frequency=(1.0, 2.0, 4.0, 8.0),
    monetary=(50.0, 100.0, 200.0, 400.0),
)
SUMMARY_SCHEMA = T.StructType(
    [
        T.StructField("customer_id", T.StringType()),
        T.StructField("recency_days", T.IntegerType()),
        T.StructField("orders", T.LongType()),
        T.StructField("total_spent", T.DoubleType()),
    ]
)
SCORED_SCHEMA = T.StructType(
    [
        *SUMMARY_SCHEMA.fields,
        T.StructField("r_score", T.IntegerType()),
        T.StructField("f_score", T.IntegerType()),
        T.StructField("m_score", T.IntegerType()),
        T.StructField("rfm_score", T.StringType()),
        T.StructField("rfm_segment", T.StringType()),
    ]
)


def test_scores_at_and_around_cut_points(spark: SparkSession) -> None:
    summary_df = spark.createDataFrame(
        [
            # exactly on the first cut points: not above any -> R5 (reversed), F1, M1
            ("c1", 10, 1, 50.0),
            # just past them: above one recency cut -> R4; above 1 -> F2; above 50, 100 -> M3
            ("c2", 11, 2, 100.01),
            # the same values as c2: the same scores
            ("c3", 11, 2, 100.01),
            # past every cut point: R1, F5, M5
            ("c4", 121, 9, 400.5),
            # nothing known
            ("c5", None, None, None),
        ],
        SUMMARY_SCHEMA,
    )

    actual_df = with_rfm_scores(summary_df, THRESHOLDS)

    expected_df = spark.createDataFrame(
        [
            ("c1", 10, 1, 50.0, 5, 1, 1, "511", "New Customers"),  # FM = 1
            ("c2", 11, 2, 100.01, 4, 2, 3, "423", "Potential Loyalists"),  # FM = 2.5 -> 3
            ("c3", 11, 2, 100.01, 4, 2, 3, "423", "Potential Loyalists"),
            ("c4", 121, 9, 400.5, 1, 5, 5, "155", "At Risk"),  # FM = 5
            ("c5", None, None, None, None, None, None, None, None),
        ],
        SCORED_SCHEMA,
    )
    assert_df_equality(expected_df, actual_df, ignore_row_order=True, ignore_nullable=True)


def test_segments_round_fm_half_up(spark: SparkSession) -> None:
    summary_df = spark.createDataFrame(
        [
            # R2 (above 10, 30, 60), F3 (above 1, 2), M2 (100 is on a cut): FM = 2.5 -> 3
            ("c1", 61, 3, 100.0),
            # R1, F2, M1: FM = 1.5 -> 2
            ("c2", 200, 2, 10.0),
            # R5, F4 (8 is on a cut), M3: FM = 3.5 -> 4
            ("c3", 0, 8, 200.0),
            # R3, F4, M4: FM = 4
            ("c4", 31, 5, 250.0),
            # one score unknown: no combined score, no segment
            ("c5", 5, None, 500.0),
        ],
        SUMMARY_SCHEMA,
    )

    actual_df = with_rfm_scores(summary_df, THRESHOLDS)

    expected_df = spark.createDataFrame(
        [
            ("c1", 61, 3, 100.0, 2, 3, 2, "232", "At Risk"),  # FM 2 would be About to Sleep
            ("c2", 200, 2, 10.0, 1, 2, 1, "121", "Hibernating"),  # FM 1 would be Lost
            ("c3", 0, 8, 200.0, 5, 4, 3, "543", "Champions"),  # FM 3 would be Potential L.
            ("c4", 31, 5, 250.0, 3, 4, 4, "344", "Loyal Customers"),
            ("c5", 5, None, 500.0, 5, None, 5, None, None),
        ],
        SCORED_SCHEMA,
    )
    assert_df_equality(expected_df, actual_df, ignore_row_order=True, ignore_nullable=True)


def test_empty_thresholds_score_everyone_one(spark: SparkSession) -> None:
    summary_df = spark.createDataFrame([("c1", 3, 7, 900.0)], SUMMARY_SCHEMA)

    actual_df = with_rfm_scores(summary_df, RfmThresholds((), (), ()))

    expected_df = spark.createDataFrame(
        [("c1", 3, 7, 900.0, 1, 1, 1, "111", "Lost")], SCORED_SCHEMA
    )
    assert_df_equality(expected_df, actual_df, ignore_row_order=True, ignore_nullable=True)


def test_rfm_segment_names(spark: SparkSession) -> None:
    pairs_schema = T.StructType(
        [T.StructField("r_score", T.IntegerType()), T.StructField("fm_score", T.IntegerType())]
    )
    pairs_df = spark.createDataFrame(
        [
            (5, 4),
            (4, 4),
            (5, 2),
            (5, 1),
            (4, 1),
            (3, 2),
            (3, 1),
            (2, 3),
            (2, 1),
            (1, 1),
            (None, 3),  # unknown score
            (6, 1),  # outside the grid
        ],
        pairs_schema,
    )

    actual_df = pairs_df.select(
        "r_score", "fm_score", rfm_segment(F.col("r_score"), F.col("fm_score")).alias("segment")
    )

    expected_df = spark.createDataFrame(
        [
            (5, 4, "Champions"),
            (4, 4, "Loyal Customers"),
            (5, 2, "Potential Loyalists"),
            (5, 1, "New Customers"),
            (4, 1, "Promising"),
            (3, 2, "Need Attention"),
            (3, 1, "About to Sleep"),
            (2, 3, "At Risk"),
            (2, 1, "Hibernating"),
            (1, 1, "Lost"),
            (None, 3, None),
            (6, 1, None),
        ],
        T.StructType([*pairs_schema.fields, T.StructField("segment", T.StringType())]),
    )
    assert_df_equality(expected_df, actual_df, ignore_row_order=True, ignore_nullable=True)
    assert {r.segment for r in actual_df.collect()} - {None} == set(SEGMENTS)


def test_measure_rfm_thresholds(spark: SparkSession) -> None:
    # percentile_approx returns the smallest value with at least p of the values at or below it:
    # ranks 2, 4, 6 and 8 of ten values. Nulls are ignored.
    summary_df = spark.createDataFrame(
        [
            ("c01", 1, 1, 5.0),
            ("c02", 2, 1, 15.0),
            ("c03", 3, 1, 25.0),
            ("c04", 4, 1, 35.0),
            ("c05", 5, 1, 45.0),
            ("c06", 6, 2, 55.0),
            ("c07", 7, 2, 65.0),
            ("c08", 8, 3, 75.0),
            ("c09", 9, 5, 85.0),
            ("c10", 10, 9, 95.0),
            ("c11", None, None, None),
        ],
        SUMMARY_SCHEMA,
    )

    thresholds = measure_rfm_thresholds(summary_df)

    assert thresholds == RfmThresholds(
        recency_days=(2.0, 4.0, 6.0, 8.0),
        frequency=(1.0, 1.0, 2.0, 3.0),
        monetary=(15.0, 35.0, 55.0, 75.0),
    )


def test_measure_rfm_thresholds_of_no_customers(spark: SparkSession) -> None:
    summary_df = spark.createDataFrame([], SUMMARY_SCHEMA)

    assert measure_rfm_thresholds(summary_df) == RfmThresholds((), (), ())
