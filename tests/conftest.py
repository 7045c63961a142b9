"""Shared fixtures: one real SparkSession for the whole run."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession

from c360_pipeline import snapshots
from c360_pipeline.run import RunOptions, RunResult, run_pipeline
from c360_pipeline.settings import PipelineSettings
from c360_pipeline.spark import build_spark_session
from mock_data.generate import GenerationResult, GeneratorConfig, generate

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


def executed_plan(df: DataFrame) -> str:
    """The physical plan `df` runs with (runs it, so that the adaptive plan is final)."""
    df.write.format("noop").mode("overwrite").save()
    return str(df._jdf.queryExecution().executedPlan().toString())


# Generated datasets shared by the generator and pipeline tests (generated once per run).
CUSTOMERS = 400
SEED = 7


@dataclass(frozen=True)
class Dataset:
    """A generated dataset on disk."""

    path: Path
    result: GenerationResult


def read_lines(path: Path, source: str) -> tuple[str, list[str]]:
    """(header, data lines) of a CSV source, read with plain Python from every part file."""
    header = ""
    lines: list[str] = []
    for part in sorted((path / source).glob("part-*.csv")):
        text = part.read_text(encoding="utf-8").splitlines()
        if not text:
            continue
        header = text[0]
        lines.extend(text[1:])
    return header, lines


def read_rows(dataset: Dataset, source: str) -> list[dict[str, str]]:
    """Rows of a CSV source as dicts of strings (parsed with Python's csv module)."""
    header, lines = read_lines(dataset.path, source)
    return list(csv.DictReader([header, *lines]))


def read_ground_truth(dataset: Dataset, source: str) -> list[dict[str, str | None]]:
    """Injected-defect records of one source (JSON lines, read with plain Python)."""
    records = []
    for part in (dataset.path / "_ground_truth" / f"defects_{source}").glob("part-*.json"):
        records.extend(json.loads(line) for line in part.read_text().splitlines() if line)
    return records


def _generate(spark: SparkSession, path: Path, **kwargs: object) -> Dataset:
    config = GeneratorConfig(customers=kwargs.pop("customers", CUSTOMERS), **kwargs)  # type: ignore[arg-type]
    return Dataset(path=path, result=generate(spark, config, str(path)))


@pytest.fixture(scope="session")
def clean_dataset(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """400 customers, seed 7, CSV, no defects."""
    return _generate(spark, tmp_path_factory.mktemp("clean"), seed=SEED)


@pytest.fixture(scope="session")
def clean_dataset_again(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """The same config generated a second time."""
    return _generate(spark, tmp_path_factory.mktemp("clean_again"), seed=SEED)


@pytest.fixture(scope="session")
def dirty_dataset(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """The same customers and seed with 8% defects."""
    return _generate(spark, tmp_path_factory.mktemp("dirty"), seed=SEED, dirty_fraction=0.08)


@pytest.fixture(scope="session")
def dirty_parquet_dataset(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """A small Parquet dataset with 10% defects (only the kinds a typed column can carry)."""
    return _generate(
        spark,
        tmp_path_factory.mktemp("dirty_parquet"),
        customers=150,
        seed=11,
        dirty_fraction=0.1,
        file_format="parquet",
    )


@dataclass(frozen=True)
class Published:
    """A run over the clean generated dataset."""

    settings: PipelineSettings
    result: RunResult
    path: Path


@pytest.fixture(scope="session")
def published(
    spark: SparkSession, clean_dataset: Dataset, tmp_path_factory: pytest.TempPathFactory
) -> Published:
    """The clean dataset built into a snapshot for organisation 'acme'."""
    settings = PipelineSettings(data_dir=tmp_path_factory.mktemp("data"), snapshots_keep=2)
    result = run_pipeline(
        spark, settings, RunOptions(org="acme", input_path=str(clean_dataset.path))
    )
    path = snapshots.snapshot_dir(settings.data_dir, "acme", result.snapshot_id)
    return Published(settings, result, path)
