"""`python -m bench.core_stage`: the per-customer summary in Spark and in DuckDB on one input.

Both engines read the same Parquet table (a published snapshot's `transactions`; Spark through
the session catalog with the bucketing the manifest records, as the pipeline reads it), compute
`build_purchase_summary(build_daily_purchases(...))` in full, and are timed the same way: one
warm-up run, then the median of three. The two results are then compared row by row; any
difference fails the run. Prints one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from c360_pipeline import writers
from c360_pipeline.settings import PipelineSettings
from c360_pipeline.spark import build_spark_session
from c360_pipeline.transforms.purchases import (
    TREND_WINDOW_DAYS,
    build_daily_purchases,
    build_purchase_summary,
)

RUNS = 3
RELATIVE_TOLERANCE = 1e-6
ROUNDING_TOLERANCE = 0.01 + 1e-9
"""Columns rounded to cents may differ by one cent where summation order moves a half-cent."""

EXACT_COLUMNS = (
    "first_purchase_date",
    "last_purchase_date",
    "orders",
    "purchase_days",
    "orders_90d",
    "recency_days",
    "frequency",
)
CENT_COLUMNS = (
    "total_spent",
    "avg_order_value",
    "gross_margin",
    "revenue_12m",
    "revenue_90d",
    "revenue_prev_90d",
)
FLOAT_COLUMNS = ("recency_weeks", "t_weeks", "monetary")
CHECKED_SUMS = ("total_spent", "frequency", "monetary")

# The DuckDB twin of build_daily_purchases + build_purchase_summary. The aggregates the summary
# never outputs (`cost`, `units`, `day_cost`, `cost_of_goods`) are left out: Spark's optimiser
# prunes them from its plan too (checked with `explain`), so both engines do the same work.
SUMMARY_SQL = """
create or replace temp table core_summary as
with transactions as (
    select
        customer_id,
        transaction_date,
        amount,
        gross_margin,
    from read_parquet($files)
),

per_day as (
    select
        customer_id,
        transaction_date,
        sum(amount) as day_revenue,
        count(*) as day_orders,
        sum(gross_margin) as day_margin,
    from transactions
    group by customer_id, transaction_date
),

per_customer as (
    select
        customer_id,
        min(transaction_date) as first_purchase_date,
        max(transaction_date) as last_purchase_date,
        arg_min(day_revenue, transaction_date) as first_day_revenue,
        count(*) as purchase_days,
        sum(day_orders) as orders,
        sum(day_revenue) as total_spent,
        sum(day_margin) as gross_margin,
        sum(case when transaction_date >= $year_start then day_revenue end) as revenue_12m,
        sum(case when transaction_date >= $recent_start then day_revenue end) as revenue_90d,
        sum(
            case
                when transaction_date >= $previous_start and transaction_date < $recent_start
                    then day_revenue
            end
        ) as revenue_prev_90d,
        sum(case when transaction_date >= $recent_start then day_orders end) as orders_90d,
    from per_day
    group by customer_id
),

final as (
    select
        customer_id,
        first_purchase_date,
        last_purchase_date,
        orders::bigint as orders,
        purchase_days::bigint as purchase_days,
        round(total_spent, 2) as total_spent,
        round(case when orders <> 0 then total_spent / orders end, 2) as avg_order_value,
        round(gross_margin, 2) as gross_margin,
        round(coalesce(revenue_12m, 0.0), 2) as revenue_12m,
        round(coalesce(revenue_90d, 0.0), 2) as revenue_90d,
        round(coalesce(revenue_prev_90d, 0.0), 2) as revenue_prev_90d,
        coalesce(orders_90d, 0)::bigint as orders_90d,
        ($as_of - last_purchase_date)::integer as recency_days,
        (purchase_days - 1)::integer as frequency,
        (last_purchase_date - first_purchase_date) / 7.0::double as recency_weeks,
        ($as_of - first_purchase_date) / 7.0::double as t_weeks,
        case
            when purchase_days > 1 then (total_spent - first_day_revenue) / (purchase_days - 1)
            else 0.0
        end::double as monetary,
    from per_customer
)

select * from final
"""


def _timed(action: Callable[[], object]) -> tuple[float, list[float]]:
    """One warm-up run, then the median (and all) of RUNS timed runs, in seconds."""
    action()
    seconds = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        seconds.append(round(time.perf_counter() - started, 3))
    return statistics.median(seconds), seconds


def _duckdb_params(files: str, as_of: date) -> dict[str, object]:
    """The bound parameters of SUMMARY_SQL: input files and the as-of window starts."""
    return {
        "files": files,
        "as_of": as_of,
        "recent_start": as_of - timedelta(days=TREND_WINDOW_DAYS - 1),
        "previous_start": as_of - timedelta(days=2 * TREND_WINDOW_DAYS - 1),
        "year_start": as_of - timedelta(days=364),
    }


def _mismatch_sql() -> str:
    """Per column, how many customers differ between the Spark and the DuckDB result."""
    checks = [
        "count(*) filter (where s.customer_id is null) as only_duckdb",
        "count(*) filter (where d.customer_id is null) as only_spark",
        *(f"count(*) filter (where s.{c} is distinct from d.{c}) as {c}" for c in EXACT_COLUMNS),
        *(
            f"count(*) filter (where (s.{c} is null) <> (d.{c} is null) "
            f"or abs(s.{c} - d.{c}) > {ROUNDING_TOLERANCE}) as {c}"
            for c in CENT_COLUMNS
        ),
        *(
            f"count(*) filter (where (s.{c} is null) <> (d.{c} is null) or abs(s.{c} - d.{c}) "
            f"> {RELATIVE_TOLERANCE} * greatest(1.0, abs(s.{c}))) as {c}"
            for c in FLOAT_COLUMNS
        ),
    ]
    return (
        "select\n    " + ",\n    ".join(checks) + "\nfrom read_parquet($spark_files) as s\n"
        "full join core_summary as d on s.customer_id = d.customer_id"
    )


def _totals(row: tuple[Any, ...]) -> dict[str, float]:
    """Row count and CHECKED_SUMS from a (count, sum, sum, sum) row."""
    return {
        "rows": float(row[0]),
        **{c: float(v) for c, v in zip(CHECKED_SUMS, row[1:], strict=True)},
    }


def _verify(spark: SparkSession, con: duckdb.DuckDBPyConnection, spark_out: Path) -> dict[str, Any]:
    """Compare the Spark result (written to `spark_out`) with DuckDB's `core_summary`."""
    sums = [F.sum(c) for c in CHECKED_SUMS]
    spark_row = spark.read.parquet(str(spark_out)).agg(F.count(F.lit(1)), *sums).first()
    assert spark_row is not None
    spark_totals = _totals(tuple(spark_row))
    duck_row = con.execute(
        "select count(*), " + ", ".join(f"sum({c})" for c in CHECKED_SUMS) + " from core_summary"
    ).fetchone()
    assert duck_row is not None
    duck_totals = _totals(duck_row)
    problems = []
    if spark_totals["rows"] != duck_totals["rows"]:
        problems.append(
            f"customers: spark {spark_totals['rows']:.0f} duckdb {duck_totals['rows']:.0f}"
        )
    for column in CHECKED_SUMS:
        a, b = spark_totals[column], duck_totals[column]
        if abs(a - b) > RELATIVE_TOLERANCE * max(1.0, abs(a)):
            problems.append(f"sum({column}): spark {a!r} duckdb {b!r}")
    cursor = con.execute(_mismatch_sql(), {"spark_files": f"{spark_out}/*.parquet"})
    names = [d[0] for d in cursor.description or []]
    counts = dict(zip(names, cursor.fetchone() or (), strict=True))
    problems += [f"{name}: {n} customers differ" for name, n in counts.items() if n]
    if problems:
        raise SystemExit("Spark and DuckDB disagree:\n  " + "\n  ".join(problems))
    return {"customers": int(spark_totals["rows"]), "columns_compared": len(names) - 2}


def run(transactions: Path, as_of: date, work_dir: Path) -> dict[str, Any]:
    """Time both engines on `transactions` and check that their results agree."""
    spark = build_spark_session(PipelineSettings())
    cores = os.cpu_count() or 1
    con = duckdb.connect(config={"threads": cores})
    layout = json.loads((transactions.parent / "manifest.json").read_text())["layouts"][
        "transactions"
    ]
    fact_df = writers.register_bucketed_table(
        spark,
        str(transactions.resolve()),
        "c360_bench_transactions",
        bucket_by=layout["bucketed_by"],
        buckets=layout["buckets"],
        sort_by=tuple(layout["sorted_by"]),
    )
    try:

        def spark_summary() -> None:
            summary_df = build_purchase_summary(build_daily_purchases(fact_df), as_of)
            summary_df.write.format("noop").mode("overwrite").save()

        params = _duckdb_params(f"{transactions}/*.parquet", as_of)

        def duckdb_summary() -> None:
            con.execute(SUMMARY_SQL, params)

        spark_seconds, spark_runs = _timed(spark_summary)
        duckdb_seconds, duckdb_runs = _timed(duckdb_summary)
        spark_out = work_dir / "spark_summary"
        build_purchase_summary(build_daily_purchases(fact_df), as_of).write.mode(
            "overwrite"
        ).parquet(str(spark_out))
        verified = _verify(spark, con, spark_out)
    finally:
        con.close()
        spark.stop()
    return {
        "spark_seconds": spark_seconds,
        "duckdb_seconds": duckdb_seconds,
        "ratio": round(spark_seconds / duckdb_seconds, 2),
        "rows": verified["customers"],
        "spark_runs": spark_runs,
        "duckdb_runs": duckdb_runs,
        "duckdb_threads": cores,
        "columns_compared": verified["columns_compared"],
    }


def main() -> int:
    """Parse arguments, run both engines and print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.core_stage", description=__doc__)
    parser.add_argument("--transactions", type=Path, required=True, help="Parquet table dir")
    parser.add_argument("--as-of", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    parser.add_argument("--work-dir", type=Path, help="scratch for the Spark result")
    args = parser.parse_args()
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="c360-core-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    try:
        figures = run(args.transactions, args.as_of, work_dir)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
