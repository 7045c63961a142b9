"""`c360-pipeline`: run, status and rollback, for cron, Airflow and the API's refresh trigger.

Exit codes: 0 published, skipped by `--if-changed`, or status/rollback done; 1 failed, nothing
published; 2 bad usage, config or unreadable input (one-line reason on stderr); 3 another run
for the same organisation holds the lock.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import structlog

from c360_pipeline import snapshots
from c360_pipeline.ingest.dates import DateOrderError
from c360_pipeline.ingest.readers import SourceError
from c360_pipeline.java import JavaNotFoundError
from c360_pipeline.logs import configure_logging
from c360_pipeline.settings import PipelineSettings, get_settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3


class UsageError(ValueError):
    """Bad command-line usage (exit code 2)."""


def parse_column_maps(items: list[str]) -> dict[str, dict[str, str]]:
    """`SOURCE.COLUMN=CANONICAL` items into {source: {raw column: canonical column}}."""
    maps: dict[str, dict[str, str]] = {}
    for item in items:
        left, sep, canonical = item.partition("=")
        source, dot, column = left.partition(".")
        if not sep or not dot or not source or not column or not canonical:
            raise UsageError(
                f"--column-map {item!r}: expected SOURCE.COLUMN=CANONICAL, "
                "e.g. transactions.InvoiceNo=transaction_id"
            )
        maps.setdefault(source.strip(), {})[column.strip()] = canonical.strip()
    return maps


def _parser(settings: PipelineSettings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="c360-pipeline", description="Build and publish Customer 360 snapshots."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="ingest, build and publish a new snapshot")
    run.add_argument("--input", help="raw dataset directory or URI (default: the org's raw/)")
    run.add_argument("--org", default=settings.org, help=f"organisation (default {settings.org})")
    run.add_argument(
        "--as-of", type=date.fromisoformat, help="YYYY-MM-DD (default: latest transaction date)"
    )
    run.add_argument(
        "--column-map", action="append", default=[], metavar="SOURCE.COL=CANONICAL",
        help="map a raw column to a contract column; repeatable",
    )  # fmt: skip
    run.add_argument(
        "--date-order", choices=("dmy", "mdy"), help="day/month order of DD/MM-style dates"
    )
    run.add_argument(
        "--if-changed", action="store_true",
        help="do nothing (exit 0) when the current snapshot was built from the same input files "
        "(count, bytes, latest modification per source) with the same options",
    )  # fmt: skip
    status = commands.add_parser("status", help="current snapshot, as-of, age, last run")
    status.add_argument("--org", default=settings.org)
    status.add_argument("--json", action="store_true", help="print JSON")
    rollback = commands.add_parser("rollback", help="re-point CURRENT to an earlier snapshot")
    rollback.add_argument("snapshot_id", nargs="?", help="default: the previous kept snapshot")
    rollback.add_argument("--org", default=settings.org)
    return parser


def _status(settings: PipelineSettings, org: str) -> dict[str, Any]:
    current = snapshots.current_snapshot_id(settings.data_dir, org)
    kept = snapshots.list_snapshots(settings.data_dir, org)
    info: dict[str, Any] = {"org": org, "current_snapshot": current, "last_run": None}
    for snap in kept:
        if snap.snapshot_id == current:
            info["as_of"] = snap.as_of
            if snap.created_at:
                info["created_at"] = snap.created_at.isoformat()
                info["age_seconds"] = round((datetime.now(UTC) - snap.created_at).total_seconds())
    info["kept_snapshots"] = [s.snapshot_id for s in kept]
    info["last_run"] = snapshots.last_run(settings.data_dir, org)
    return info


def _run(settings: PipelineSettings, args: argparse.Namespace) -> int:
    from c360_pipeline.run import RunOptions, SkippedRun, run_pipeline, run_pipeline_if_changed
    from c360_pipeline.spark import build_spark_session

    options = RunOptions(
        org=args.org,
        input_path=args.input,
        as_of=args.as_of,
        column_maps=parse_column_maps(args.column_map),
        date_order=args.date_order,
    )
    input_path = args.input or str(snapshots.org_root(settings.data_dir, args.org) / "raw")
    if "://" not in input_path and not Path(input_path).exists():
        raise UsageError(
            f"input {input_path} does not exist (generate data with `python -m mock_data` "
            "or pass --input)"
        )
    # Take the lock before starting the JVM: a second run for the org exits 3 at once.
    with snapshots.RunLock(settings.data_dir, args.org):
        spark = build_spark_session(settings)
        try:
            build = run_pipeline_if_changed if args.if_changed else run_pipeline
            result = build(spark, settings, options, already_locked=True)
        finally:
            spark.stop()
    if isinstance(result, SkippedRun):
        print(f"Skipped: {result.reason}, snapshot {result.snapshot_id} stays current.")
        return EXIT_OK
    quarantined = {s: r for s, r in result.quarantined.items() if r}
    print(
        f"Published snapshot {result.snapshot_id} (as of {result.as_of}) in {result.seconds:.1f}s: "
        + ", ".join(f"{t} {n:,}" for t, n in result.tables.items())
    )
    print(f"Quarantined rows by reason: {json.dumps(quarantined) if quarantined else 'none'}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    settings = get_settings()
    args = _parser(settings).parse_args(argv)
    configure_logging()
    log = structlog.get_logger("c360_pipeline")
    try:
        org = snapshots.validate_org(args.org)
        if args.command == "status":
            info = _status(settings, org)
            if args.json:
                print(json.dumps(info, indent=2, default=str))
            else:
                for key, value in info.items():
                    print(f"{key}: {value}")
            return EXIT_OK
        if args.command == "rollback":
            target = snapshots.rollback(settings.data_dir, org, args.snapshot_id)
            print(f"CURRENT now points at {target}")
            return EXIT_OK
        return _run(settings, args)
    except snapshots.LockHeldError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except (
        UsageError,
        SourceError,
        DateOrderError,
        JavaNotFoundError,
        snapshots.InvalidOrgError,
        snapshots.InvalidSnapshotIdError,
        snapshots.RollbackError,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        log.exception("run_failed")
        print(f"error: run failed, nothing published: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
