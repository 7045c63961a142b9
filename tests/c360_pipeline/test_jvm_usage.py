"""The driver JVM's CPU, JIT and GC seconds that a run records in its manifest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from c360_pipeline.jvm_usage import JvmUsage, _process_cpu_seconds, read_jvm_usage

needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="no /proc")


@needs_proc
def test_process_cpu_matches_what_the_process_reports_itself() -> None:
    # Burn some CPU so that the figure is not just interpreter start-up.
    sum(i * i for i in range(2_000_000))
    times = os.times()
    seconds = _process_cpu_seconds(os.getpid())
    assert seconds is not None
    assert seconds == pytest.approx(times.user + times.system, abs=0.1)


def test_a_process_that_does_not_exist_has_no_cpu_figure() -> None:
    # Above Linux's largest possible pid (2^22).
    assert _process_cpu_seconds(2**22 + 1) is None


def test_since_is_the_difference_and_keeps_an_unknown_cpu_unknown() -> None:
    before = JvmUsage(cpu_seconds=10.0, jit_compile_seconds=2.5, gc_seconds=0.25)
    after = JvmUsage(cpu_seconds=52.34, jit_compile_seconds=9.0, gc_seconds=1.0)
    assert after.since(before) == {
        "cpu_seconds": 42.3,
        "jit_compile_seconds": 6.5,
        "gc_seconds": 0.8,
    }
    unknown = JvmUsage(cpu_seconds=None, jit_compile_seconds=9.0, gc_seconds=1.0)
    assert unknown.since(before)["cpu_seconds"] is None
    assert after.since(unknown)["cpu_seconds"] is None


@needs_proc
def test_a_spark_job_shows_up_in_the_jvm_counters(spark: SparkSession) -> None:
    before = read_jvm_usage(spark)
    spark.range(3_000_000).select(F.sum(F.col("id") * 7 % 13)).collect()
    after = read_jvm_usage(spark)
    assert before.cpu_seconds is not None
    assert after.cpu_seconds is not None
    assert after.cpu_seconds > before.cpu_seconds
    assert after.jit_compile_seconds >= before.jit_compile_seconds >= 0
    assert after.gc_seconds >= before.gc_seconds >= 0
