"""The one place a SparkSession is built."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from pyspark.sql import SparkSession

from c360_pipeline.java import check_java
from c360_pipeline.settings import PipelineSettings

LOG4J_CONFIG = Path(__file__).with_name("log4j2.properties")
PARQUET_DICTIONARY_BYTES = 32 * 1024
"""Largest dictionary a Parquet column chunk is written with (see `spark_conf`)."""
_LOCAL_MASTER = re.compile(r"^local(?:\[(\*|\d+)(?:,\s*\d+)?\])?$")


def is_local_master(master: str) -> bool:
    """True for `local`, `local[N]`, `local[*]` and `local[N,retries]`."""
    return _LOCAL_MASTER.match(master.strip()) is not None


def local_cores(master: str) -> int:
    """Number of cores a local master uses (`local` is 1, `local[*]` is every core)."""
    match = _LOCAL_MASTER.match(master.strip())
    if match is None:
        raise ValueError(f"not a local master: {master!r}")
    threads = match.group(1)
    if threads is None:
        return 1
    if threads == "*":
        return os.cpu_count() or 1
    return int(threads)


def spark_conf(settings: PipelineSettings) -> dict[str, str]:
    """Spark configuration for these settings (pure: used by the builder and by tests)."""
    master = settings.spark_master
    local = is_local_master(master)
    if settings.spark_shuffle_partitions is not None:
        shuffle_partitions = settings.spark_shuffle_partitions
    else:
        # A few partitions per core keeps tasks busy without thousands of tiny ones.
        shuffle_partitions = 2 * local_cores(master) if local else 200
    log_option = f"-Dlog4j2.configurationFile={LOG4J_CONFIG.as_uri()}"
    # Validation fuses dozens of checks into one whole-stage method well over HotSpot's 8000
    # bytes, which it would otherwise never JIT-compile (running it interpreted, or with
    # Spark's hugeMethodLimit lowered, per-operator code that copies every row between steps).
    # Compiling huge methods makes the staging pass 25% faster (34 vs 46 s at 20M rows).
    # JIT compiling is about a third of a 1M build's JVM CPU (181 of 581 s; C2 most of it),
    # but measured on one machine, cutting it costs more than it saves: C1 only
    # (-XX:TieredStopAtLevel=1) doubled validate and transactions (254 vs 129 s, 90 vs 43 s);
    # C2 thresholds raised tenfold cut compiling to 125 s and left the build as it was (318
    # vs 314 s); no whole-stage codegen made the build slower (384 s). Within the 308-317 s
    # of unchanged runs (so not kept): C2 only (-XX:-TieredCompilation, 313 s), a compiler
    # directive keeping C1 off the generated processNext methods it fails on (313 s) and no
    # bytecode verification (308 s).
    jit_option = "-XX:-DontCompileHugeMethods"
    # A local driver runs every task: a batch job that wants throughput, not short pauses. The
    # parallel collector's cheaper write barriers and lack of concurrent work beat G1 (the
    # default) despite twice its pause time: 1M build 238.8 / 237.8 s against 244.1 / 253.9 s,
    # JVM CPU 437 against 460 s. Executors of a cluster keep their JVM's (or cluster's) choice.
    gc_option = " -XX:+UseParallelGC" if local else ""
    conf = {
        "spark.app.name": settings.spark_app_name,
        # At the default 4g the transactions fact's sort spills (919 MB at 1M customers); an
        # 8g heap stops that but the build stayed within run-to-run noise (309 vs 308-317 s),
        # so the default stays laptop-sized.
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        "spark.sql.session.timeZone": settings.spark_timezone,
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # PySpark's DataFrame query context: by default every DataFrame and Column call also
        # captures its Python call site and hands it to the JVM (about 12 py4j round trips for
        # one `F.col`), so that a runtime error names the Python line. Building the customer
        # summary took 0.16 s and 1,500 py4j calls with it, 0.11 s and 620 without. PySpark
        # reads the setting once per process, at the first Column call, and takes "off" when
        # that call finds no active session (any thread but the one that built it): pipeline
        # runs were already off by that accident, other callers on. Errors keep their message
        # and SQL fragment; set it to "true" through C360_SPARK_CONF when debugging.
        "spark.python.sql.dataFrameDebugging.enabled": "false",
        # With CSV column pruning a short or long row is malformed or not depending on which
        # columns a query reads: the same raw row could be quarantined by one job and accepted
        # by another. Every query must see the same malformed rows.
        "spark.sql.csv.parser.columnPruning.enabled": "false",
        # The transactions fact is written one file per bucket, each sorted by customer and
        # date (`writers.write_bucketed_table`). Listing those files at planning time tells
        # Spark the scan's order, and an aggregation by customer (and day) then streams over
        # the sorted rows instead of building a hash table: the customer summary's two
        # aggregations over 20M rows took 3.8 s instead of 10.1 s, with the same result.
        "spark.sql.legacy.bucketedTableScan.outputOrdering": "true",
        "spark.sql.execution.replaceHashWithSortAgg": "true",
        # Parquet dictionary-encodes every column until its dictionary outgrows this size, then
        # falls back to plain encoding for the rest of the column chunk. At the default 1 MB,
        # an id, email or double column of our small (8 MB) row groups never outgrows it: each
        # value is hashed into a dictionary that the writer then drops at the chunk's first page
        # as no smaller than plain. 32 KB still dictionary-encodes the few-valued columns
        # (categories, channels, dates, segments) and gives up early on the rest. Writing 1M
        # rows of 40 doubles, 15 short strings and 10 longs took 4.0 s instead of 9.1 s (JVM
        # CPU 7.7 vs 17.4 s), same 333 MB; the 20M transactions 23.4 vs 27.7 s, 410 vs 405 MB.
        "spark.hadoop.parquet.dictionary.page.size": str(PARQUET_DICTIONARY_BYTES),
        # Only external tables go in the session catalog (`writers.write_bucketed_table`); keep
        # its otherwise empty warehouse directory out of the working directory.
        "spark.sql.warehouse.dir": str(settings.data_dir.resolve() / "_spark_warehouse"),
        "spark.ui.enabled": str(settings.spark_ui_enabled).lower(),
        "spark.ui.showConsoleProgress": "false",
        "spark.log.level": settings.spark_log_level.upper(),
        "spark.driver.extraJavaOptions": (
            f"{log_option} {jit_option}{gc_option} -Duser.timezone={settings.spark_timezone}"
        ),
        "spark.executor.extraJavaOptions": (
            f"{jit_option} -Duser.timezone={settings.spark_timezone}"
        ),
    }
    if local:
        # Stay off the network on a laptop, and bind to loopback only.
        conf["spark.driver.host"] = "127.0.0.1"
        conf["spark.driver.bindAddress"] = "127.0.0.1"
    conf.update(settings.spark_conf)
    return conf


def build_spark_session(settings: PipelineSettings) -> SparkSession:
    """Build (or return the running) SparkSession for these settings."""
    if is_local_master(settings.spark_master):
        check_java()
        # PySpark starts its Python workers with $PYSPARK_PYTHON (default `python3` on PATH,
        # which may lack our dependencies); pin it to this interpreter.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(settings.spark_master)
    for key, value in spark_conf(settings).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(settings.spark_log_level.upper())
    return spark
