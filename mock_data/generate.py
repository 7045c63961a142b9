"""Generate a complete synthetic raw dataset (every source of the data contract) with Spark."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

import structlog
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from mock_data import defects, sources, writer
from mock_data.text import DATE_PATTERNS, csv_line, to_text_columns

FileFormat = Literal["csv", "parquet"]
MAX_CUSTOMERS = 50_000_000
CUSTOMERS_PER_PARTITION = 250_000

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. The same config always gives the same rows."""

    customers: int
    seed: int = 42
    end_date: date = date(2025, 12, 31)
    years: float = 3.0
    file_format: FileFormat = "csv"
    dirty_fraction: float = 0.0
    date_style: str = "iso"

    def __post_init__(self) -> None:
        if not 1 <= self.customers <= MAX_CUSTOMERS:
            raise ValueError(f"customers must be between 1 and {MAX_CUSTOMERS:,}")
        if not 0.0 <= self.dirty_fraction <= 0.5:
            raise ValueError("dirty fraction must be between 0 and 0.5")
        if not 0.25 <= self.years <= 20:
            raise ValueError("years of history must be between 0.25 and 20")
        if self.file_format not in ("csv", "parquet"):
            raise ValueError("format must be csv or parquet")
        if self.date_style not in DATE_PATTERNS:
            raise ValueError(f"date style must be one of {', '.join(DATE_PATTERNS)}")
        if self.file_format == "parquet" and self.date_style != "iso":
            raise ValueError("date styles apply to CSV only: Parquet stores typed dates")

    @property
    def window(self) -> sources.Window:
        """The simulated calendar."""
        return sources.Window(end_date=self.end_date, days=round(self.years * 365))


@dataclass
class GenerationResult:
    """What was written: rows per source, injected defects, timings."""

    config: GeneratorConfig
    output: str
    rows: dict[str, int] = field(default_factory=dict)
    defects: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    total_seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        """Rows written over all sources (ground truth excluded)."""
        return sum(self.rows.values())

    def to_json(self) -> dict[str, Any]:
        """Metadata payload written beside the data."""
        config = asdict(self.config)
        return {
            "generator": "c360 mock_data",
            "config": config,
            "window": {
                "start_date": self.config.window.start_date.isoformat(),
                "end_date": self.config.end_date.isoformat(),
            },
            "rows": self.rows,
            "total_rows": self.total_rows,
            "defects": self.defects,
            "seconds": self.seconds,
            "total_seconds": round(self.total_seconds, 3),
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }


def _partitions(spark: SparkSession, customers: int) -> int:
    """Enough partitions to use every core, and more for big sizes to keep tasks small."""
    return max(
        spark.sparkContext.defaultParallelism, math.ceil(customers / CUSTOMERS_PER_PARTITION)
    )


class _SourceWriter:
    """Writes one source after another, timing and counting each."""

    def __init__(
        self, spark: SparkSession, config: GeneratorConfig, output: str, result: GenerationResult
    ) -> None:
        self.spark = spark
        self.config = config
        self.output = output
        self.result = result

    def _timed(self, name: str, action: Callable[[], int]) -> None:
        started = time.perf_counter()
        rows = action()
        seconds = time.perf_counter() - started
        self.result.rows[name] = rows
        self.result.seconds[name] = round(seconds, 3)
        log.info("source_written", source=name, rows=rows, seconds=round(seconds, 2))

    def clean(self, name: str, df: DataFrame) -> None:
        """Write a source with no injected defects."""
        path = writer.source_path(self.output, name)

        def action() -> int:
            if self.config.file_format == "parquet":
                writer.write_parquet(df, path)
                return self.spark.read.parquet(path).count()
            columns = df.columns
            text_df = to_text_columns(df, self.config.date_style)
            lines_df = text_df.select(csv_line([text_df[c] for c in columns]).alias("_raw_line"))
            writer.write_csv_lines(lines_df, columns, path)
            return writer.count_csv_rows(self.spark, columns, path)

        self._timed(name, action)

    def dirty(
        self,
        name: str,
        df: DataFrame,
        inject: Callable[..., defects.DirtyResult],
    ) -> None:
        """Write a source with about `dirty_fraction` defective rows, and its ground truth."""
        config = self.config
        text_df = to_text_columns(df, config.date_style)
        dirty = inject(
            text_df,
            fraction=config.dirty_fraction,
            seed=config.seed,
            customers=config.customers,
            file_format=config.file_format,
            date_style=config.date_style,
        )
        truth_path = writer.source_path(self.output, f"{writer.GROUND_TRUTH_DIR}/defects_{name}")
        path = writer.source_path(self.output, name)

        def action() -> int:
            if config.file_format == "parquet":
                writer.write_parquet(writer.cast_text_to_schema(dirty.rows_df, df.schema), path)
                rows = self.spark.read.parquet(path).count()
            else:
                writer.write_csv_lines(dirty.rows_df, df.columns, path)
                rows = writer.count_csv_rows(self.spark, df.columns, path)
            writer.write_json_lines(dirty.ground_truth_df, truth_path)
            self.result.defects[name] = self.spark.read.json(truth_path).count()
            return rows

        self._timed(name, action)


def generate(spark: SparkSession, config: GeneratorConfig, output: str) -> GenerationResult:
    """Generate every source into `output` (a local path or a Hadoop URI) and return a summary."""
    started = time.perf_counter()
    result = GenerationResult(config=config, output=output)
    window = config.window
    seed = config.seed
    log.info(
        "generation_started",
        customers=config.customers,
        seed=seed,
        format=config.file_format,
        dirty_fraction=config.dirty_fraction,
        window_start=window.start_date.isoformat(),
        window_end=window.end_date.isoformat(),
        output=output,
    )
    products_df = sources.build_products(spark, seed).persist()
    latents_df = sources.build_customer_latents(
        spark, config.customers, seed, window, _partitions(spark, config.customers)
    ).persist(StorageLevel.MEMORY_AND_DISK)
    transactions_df = sources.build_transactions(latents_df, products_df, seed, window)
    activity_df = sources.build_customer_activity(transactions_df, window).persist(
        StorageLevel.MEMORY_AND_DISK
    )
    out = _SourceWriter(spark, config, output, result)
    dirty = config.dirty_fraction > 0
    try:
        out.clean("products", products_df)
        customers_df = sources.build_customers(latents_df, seed, window)
        if dirty:
            out.dirty("customers", customers_df, defects.inject_customer_defects)
            out.dirty("transactions", transactions_df, defects.inject_transaction_defects)
        else:
            out.clean("customers", customers_df)
            out.clean("transactions", transactions_df)
        out.clean("loyalty", sources.build_loyalty(latents_df, activity_df, seed, window))
        out.clean(
            "support_tickets",
            sources.build_support_tickets(latents_df, activity_df, seed, window),
        )
        out.clean("interactions", sources.build_interactions(latents_df, activity_df, seed, window))
        out.clean("digital_events", sources.build_digital_events(latents_df, seed, window))
        truth_path = writer.source_path(output, f"{writer.GROUND_TRUTH_DIR}/customer_truth")
        writer.write_parquet(sources.build_customer_truth(latents_df, window), truth_path)
    finally:
        activity_df.unpersist()
        latents_df.unpersist()
        products_df.unpersist()
    result.total_seconds = time.perf_counter() - started
    writer.write_metadata(spark, output, result.to_json())
    log.info(
        "generation_finished",
        rows=result.total_rows,
        defects=sum(result.defects.values()),
        seconds=round(result.total_seconds, 2),
        rows_per_second=round(result.total_rows / max(result.total_seconds, 1e-9)),
    )
    return result
