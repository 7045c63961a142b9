"""Shared fixtures: one real SparkSession for the whole run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession

from c360_pipeline.settings import PipelineSettings
from c360_pipeline.spark import build_spark_session

TEST_SPARK_SETTINGS = PipelineSettings(
    spark_master="local[2]",
    spark_shuffle_partitions=2,
    spark_driver_memory="2g",
    spark_ui_enabled=False,
    spark_timezone="UTC",
    spark_app_name="c360-tests",
    spark_conf={"spark.sql.adaptive.coalescePartitions.initialPartitionNum": "2"},
)


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """The test SparkSession: local[2], two shuffle partitions, UTC, no UI."""
    session = build_spark_session(TEST_SPARK_SETTINGS)
    yield session
    session.stop()
