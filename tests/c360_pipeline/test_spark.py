"""Settings reach the SparkSession; the one builder configures Spark as documented."""

from __future__ import annotations

import os

import pytest
from pyspark.errors.utils import is_debugging_enabled
from pyspark.sql import SparkSession

from c360_pipeline.settings import PipelineSettings
from c360_pipeline.spark import is_local_master, local_cores, spark_conf


def test_settings_reach_the_running_session(spark: SparkSession) -> None:
    conf = spark.conf
    assert spark.sparkContext.master == "local[2]"
    assert conf.get("spark.sql.shuffle.partitions") == "2"
    assert conf.get("spark.sql.session.timeZone") == "UTC"
    assert conf.get("spark.sql.adaptive.enabled") == "true"
    assert conf.get("spark.sql.execution.arrow.pyspark.enabled") == "true"
    assert conf.get("spark.app.name") == "c360-tests"
    assert conf.get("spark.sql.adaptive.coalescePartitions.initialPartitionNum") == "2"
    assert conf.get("spark.sql.csv.parser.columnPruning.enabled") == "false"
    # No Python call-site capture (several py4j round trips) on every Column call.
    assert conf.get("spark.python.sql.dataFrameDebugging.enabled") == "false"
    assert not is_debugging_enabled()
    context_conf = spark.sparkContext.getConf()
    assert context_conf.get("spark.ui.enabled") == "false"
    assert context_conf.get("spark.driver.memory") == "2g"
    assert context_conf.get("spark.driver.bindAddress") == "127.0.0.1"
    assert spark.sparkContext.uiWebUrl is None
    # The session really computes in UTC.
    assert spark.sql("select cast(timestamp'1970-01-02 00:00:00' as long) as s").first()[0] == 86400


def test_settings_come_from_c360_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("C360_SPARK_MASTER", "spark://cluster:7077")
    monkeypatch.setenv("C360_SPARK_SHUFFLE_PARTITIONS", "64")
    monkeypatch.setenv("C360_SPARK_DRIVER_MEMORY", "8g")
    monkeypatch.setenv("C360_SPARK_CONF", '{"spark.executor.memory": "6g"}')
    settings = PipelineSettings()
    conf = spark_conf(settings)
    assert conf["spark.sql.shuffle.partitions"] == "64"
    assert conf["spark.driver.memory"] == "8g"
    assert conf["spark.executor.memory"] == "6g"
    # A cluster master is not bound to loopback.
    assert "spark.driver.bindAddress" not in conf


@pytest.mark.parametrize(
    ("master", "expected"),
    [
        ("local[2]", "4"),
        ("local", "2"),
        ("local[*]", str(2 * (os.cpu_count() or 1))),
        ("yarn", "200"),
    ],
)
def test_default_shuffle_partitions_follow_the_cores(master: str, expected: str) -> None:
    conf = spark_conf(PipelineSettings(spark_master=master))
    assert conf["spark.sql.shuffle.partitions"] == expected


def test_local_master_parsing() -> None:
    assert is_local_master("local[4]")
    assert is_local_master("local[*]")
    assert is_local_master("local[2, 3]")
    assert not is_local_master("spark://host:7077")
    assert not is_local_master("k8s://https://host")
    assert local_cores("local[3]") == 3
    assert local_cores("local") == 1
    with pytest.raises(ValueError, match="not a local master"):
        local_cores("yarn")


def test_ui_and_timezone_settings_are_passed_through() -> None:
    conf = spark_conf(PipelineSettings(spark_ui_enabled=True, spark_timezone="Europe/Paris"))
    assert conf["spark.ui.enabled"] == "true"
    assert conf["spark.sql.session.timeZone"] == "Europe/Paris"
    assert "-Duser.timezone=Europe/Paris" in conf["spark.driver.extraJavaOptions"]


def test_a_local_driver_uses_the_parallel_collector_and_cluster_executors_keep_theirs() -> None:
    local = spark_conf(PipelineSettings(spark_master="local[2]"))
    cluster = spark_conf(PipelineSettings(spark_master="spark://host:7077"))
    assert "-XX:+UseParallelGC" in local["spark.driver.extraJavaOptions"].split()
    assert "-XX:+UseParallelGC" not in cluster["spark.driver.extraJavaOptions"].split()
    assert "GC" not in cluster["spark.executor.extraJavaOptions"]
    # Compiling huge generated methods stays on everywhere.
    for conf in (local, cluster):
        assert "-XX:-DontCompileHugeMethods" in conf["spark.executor.extraJavaOptions"].split()
