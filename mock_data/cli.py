"""`python -m mock_data`: generate a seeded synthetic raw dataset for C360."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

import structlog

from c360_pipeline.java import JavaNotFoundError
from c360_pipeline.logs import configure_logging
from c360_pipeline.settings import get_settings
from mock_data import writer
from mock_data.generate import MAX_CUSTOMERS, GeneratorConfig, generate
from mock_data.text import DATE_PATTERNS

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mock_data",
        description=(
            "Generate every raw source of the C360 data contract (transactions, customers, "
            "products, loyalty, support tickets, interactions, digital events) with Spark. "
            "The same seed and size always give the same rows."
        ),
    )
    parser.add_argument(
        "--customers", type=int, default=10_000, help=f"customers, 1..{MAX_CUSTOMERS:,} "
        "(transactions are about 20 per customer, heavily skewed); default 10000",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument(
        "--output",
        help="output directory or URI (default <C360_DATA_DIR>/orgs/<org>/raw)",
    )
    parser.add_argument("--org", help="organisation for the default output (default C360_ORG)")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv", dest="file_format")
    parser.add_argument(
        "--dirty-fraction",
        type=float,
        default=0.0,
        help="share of transaction rows (and extra customer rows) with injected defects, "
        "0..0.5; a ground truth of every defect goes to _ground_truth/",
    )
    parser.add_argument(
        "--date-style", choices=sorted(DATE_PATTERNS), default="iso", help="date format in CSV"
    )
    parser.add_argument(
        "--end-date", type=date.fromisoformat, default=date(2025, 12, 31),
        help="last day of simulated history (YYYY-MM-DD, default 2025-12-31)",
    )  # fmt: skip
    parser.add_argument("--years", type=float, default=3.0, help="years of history (default 3)")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing dataset at the output"
    )
    parser.add_argument(
        "--if-missing",
        action="store_true",
        help="do nothing (exit 0) when a complete dataset already exists at the output",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, generate, print a one-line summary; exit 2 on bad usage."""
    args = _parser().parse_args(argv)
    settings = get_settings()
    configure_logging()
    log = structlog.get_logger("mock_data")
    try:
        config = GeneratorConfig(
            customers=args.customers,
            seed=args.seed,
            end_date=args.end_date,
            years=args.years,
            file_format=args.file_format,
            dirty_fraction=args.dirty_fraction,
            date_style=args.date_style,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    org = args.org or settings.org
    output = args.output or str(settings.data_dir / "orgs" / org / "raw")
    if writer.is_local(output):
        root = writer.local_path(output)
        if (root / writer.METADATA_FILE).exists() and args.if_missing:
            log.info("dataset_exists", output=output)
            return EXIT_OK
        if root.exists() and any(root.iterdir()) and not args.overwrite:
            print(
                f"error: {output} is not empty; pass --overwrite to replace it "
                "(or --if-missing to keep it)",
                file=sys.stderr,
            )
            return EXIT_USAGE
        Path(root).mkdir(parents=True, exist_ok=True)

    from c360_pipeline.spark import build_spark_session

    try:
        spark = build_spark_session(settings)
    except JavaNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = generate(spark, config, output)
    except Exception:
        log.exception("generation_failed", output=output)
        return EXIT_FAILED
    finally:
        spark.stop()
    rows = ", ".join(f"{name} {count:,}" for name, count in result.rows.items())
    print(
        f"Generated {result.total_rows:,} rows in {result.total_seconds:.1f}s into {output}: {rows}"
    )
    if result.defects:
        print(f"Injected defects (ground truth in {output}/_ground_truth): {result.defects}")
    return EXIT_OK
