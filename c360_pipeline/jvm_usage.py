"""What the driver JVM spent, for the manifest: CPU, JIT compilation and garbage collection.

JIT time is the CompilationMXBean's: elapsed time in compilation summed over the compiler
threads, which exceeds their CPU when they wait for a core (on 2 busy cores, about 1.5x).

In local mode the driver JVM runs every Spark task, so its CPU is all of Spark's work; on a
cluster it is the driver's share only. The counters are cumulative over the JVM's life (one
JVM may run several pipeline runs, as the API does), so a run records the difference between
two readings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession


@dataclass(frozen=True)
class JvmUsage:
    """Cumulative seconds since the JVM started; `cpu_seconds` is None where /proc is missing."""

    cpu_seconds: float | None
    jit_compile_seconds: float
    gc_seconds: float

    def since(self, earlier: JvmUsage) -> dict[str, float | None]:
        """Seconds spent between `earlier` and this reading, rounded for the manifest."""
        cpu = (
            None
            if self.cpu_seconds is None or earlier.cpu_seconds is None
            else round(self.cpu_seconds - earlier.cpu_seconds, 1)
        )
        return {
            "cpu_seconds": cpu,
            "jit_compile_seconds": round(self.jit_compile_seconds - earlier.jit_compile_seconds, 1),
            "gc_seconds": round(self.gc_seconds - earlier.gc_seconds, 1),
        }


def _process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process, from /proc (None elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            # Fields after the command name (which may hold spaces) start at ")".
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def read_jvm_usage(spark: SparkSession) -> JvmUsage:
    """The driver JVM's cumulative CPU, JIT compilation and GC seconds."""
    jvm: Any = spark.sparkContext._jvm  # py4j handles are untyped
    management = jvm.java.lang.management.ManagementFactory
    compile_ms = management.getCompilationMXBean().getTotalCompilationTime()
    # A collector that cannot tell its time reports -1.
    gc_ms = sum(max(b.getCollectionTime(), 0) for b in management.getGarbageCollectorMXBeans())
    pid = int(management.getRuntimeMXBean().getPid())
    return JvmUsage(_process_cpu_seconds(pid), compile_ms / 1000, gc_ms / 1000)
