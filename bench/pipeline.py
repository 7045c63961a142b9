"""Full pipeline build at several sizes, and its core stage timed against DuckDB on one input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import models
from bench.measure import Measurement, run_measured
from bench.report import machine_line, write_section
from c360_pipeline import snapshots
from c360_pipeline.stages import STAGES

BUILD_TARGET_SECONDS = 180.0
BUILD_TARGET_CUSTOMERS = 1_000_000
RATIO_TARGET = 2.5


@dataclass(frozen=True)
class SizeResult:
    """Figures for one size: the measured pipeline command, its manifest and the core stage."""

    customers: int
    build: Measurement
    manifest: dict[str, Any]
    core: dict[str, Any]


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.splitlines()[-lines:])


def ensure_raw(raw: Path, customers: int, seed: int) -> None:
    """Generate the raw dataset unless a complete one for this size and seed is there."""
    metadata_file = raw / "_generator.json"
    if metadata_file.exists():
        config = json.loads(metadata_file.read_text()).get("config", {})
        if config.get("customers") == customers and config.get("seed") == seed:
            print(f"[bench pipeline] reusing {raw}", flush=True)
            return
    print(f"[bench pipeline] generating {customers:,} customers -> {raw}", flush=True)
    started = time.perf_counter()
    generated = subprocess.run(
        [sys.executable, "-m", "mock_data", "--customers", str(customers),
         "--seed", str(seed), "--output", str(raw), "--overwrite"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if generated.returncode != 0:
        raise SystemExit(f"generation failed:\n{_tail(generated.stdout + generated.stderr)}")
    print(f"[bench pipeline] generated in {time.perf_counter() - started:.0f}s", flush=True)


def _remove_empty_dirs(path: Path, stop_at: Path) -> None:
    """Remove `path` and its parents while they are empty, up to (not including) `stop_at`."""
    while path != stop_at and path.is_dir() and not any(path.iterdir()):
        path.rmdir()
        path = path.parent


def _published_snapshot(data_dir: Path, org: str) -> Path:
    """The directory of the snapshot CURRENT points at."""
    snapshot_id = snapshots.current_snapshot_id(data_dir, org)
    if snapshot_id is None:
        raise SystemExit(f"pipeline run for {org} published no snapshot")
    return snapshots.snapshot_dir(data_dir, org, snapshot_id)


def _core_stage(transactions: Path, as_of: str, work_dir: Path) -> dict[str, Any]:
    """Run `bench.core_stage` in its own process and return its JSON line."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.core_stage", "--transactions", str(transactions),
         "--as-of", as_of, "--work-dir", str(work_dir)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"core stage failed:\n{_tail(done.stdout + done.stderr)}")
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            figures: dict[str, Any] = json.loads(line)
            return figures
    raise SystemExit(f"core stage printed no result:\n{_tail(done.stdout + done.stderr)}")


def _measure_size(customers: int, scratch: Path, seed: int) -> SizeResult:
    """Build one size with the pipeline CLI, then time its core stage against DuckDB."""
    raw = scratch / f"raw-{customers}"
    ensure_raw(raw, customers, seed)
    data_dir = (scratch / "data").resolve()
    org = f"bench{customers}"
    org_root = snapshots.org_root(data_dir, org)
    shutil.rmtree(org_root, ignore_errors=True)
    env = {**os.environ, "C360_DATA_DIR": str(data_dir)}
    print(f"[bench pipeline] {customers:,} customers: pipeline run", flush=True)
    try:
        build = run_measured(
            [sys.executable, "-m", "c360_pipeline.cli", "run", "--org", org,
             "--input", str(raw.resolve())],
            env=env,
        )  # fmt: skip
        if build.returncode != 0:
            raise SystemExit(f"pipeline run failed:\n{build.output_tail}")
        snapshot = _published_snapshot(data_dir, org)
        manifest = snapshots.read_manifest(snapshot)
        # Kept after the snapshot is removed: the figures can be re-read or re-rendered.
        (scratch / f"manifest-{customers}.json").write_text(json.dumps(manifest, indent=1))
        print(
            f"[bench pipeline] built in {build.seconds:.1f}s wall "
            f"({manifest['duration_seconds']:.1f}s in Spark); core stage vs DuckDB",
            flush=True,
        )
        core = _core_stage(
            snapshot / "transactions", manifest["as_of"], scratch / f"core-{customers}"
        )
    finally:
        shutil.rmtree(org_root, ignore_errors=True)
        _remove_empty_dirs(org_root.parent, stop_at=data_dir.parent)
    print(
        f"[bench pipeline] core stage: Spark {core['spark_seconds']:.2f}s, "
        f"DuckDB {core['duckdb_seconds']:.2f}s, ratio {core['ratio']:.2f}",
        flush=True,
    )
    return SizeResult(customers, build, manifest, core)


def _met(is_met: bool) -> str:
    return "yes" if is_met else "**no**"


def _summary_row(result: SizeResult) -> str:
    """One row of the main table."""
    tables = result.manifest["tables"]
    if result.customers == BUILD_TARGET_CUSTOMERS:
        build_met = _met(result.build.seconds <= BUILD_TARGET_SECONDS)
    else:
        build_met = "n/a"
    core = result.core
    return (
        f"| {result.customers:,} | {tables['transactions']['rows']:,} "
        f"| {result.build.seconds:.1f} | {result.manifest['duration_seconds']:.1f} "
        f"| {result.build.peak_rss_bytes / 2**30:.2f} | {core['spark_seconds']:.2f} "
        f"| {core['duckdb_seconds']:.2f} | {core['ratio']:.2f} | {build_met} "
        f"| {_met(core['ratio'] <= RATIO_TARGET)} |"
    )


def _by_size_table(results: list[SizeResult], label: str, rows: dict[str, list[str]]) -> list[str]:
    """A markdown table with one row per key of `rows` and one column per size."""
    header = f"| {label} | " + " | ".join(f"{r.customers:,}" for r in results) + " |"
    align = "|---|" + "---:|" * len(results)
    return [
        header,
        align,
        *(f"| {key} | " + " | ".join(cells) + " |" for key, cells in rows.items()),
    ]


def _stage_rows(results: list[SizeResult]) -> dict[str, list[str]]:
    """Seconds per pipeline stage, in stage order, one cell per size."""
    stages = list(STAGES)  # run order (the manifest stores them sorted)
    for result in results:
        stages += [s for s in result.manifest["stage_seconds"] if s not in stages]
    stages = [s for s in stages if any(s in r.manifest["stage_seconds"] for r in results)]
    rows = {
        f"`{stage}`": [
            f"{r.manifest['stage_seconds'][stage]:.1f}"
            if stage in r.manifest["stage_seconds"]
            else "–"
            for r in results
        ]
        for stage in stages
    }
    rows["**build (manifest duration)**"] = [
        f"**{r.manifest['duration_seconds']:.1f}**" for r in results
    ]
    return rows


def _jvm_rows(results: list[SizeResult]) -> dict[str, list[str]]:
    """Driver JVM CPU, JIT compilation and GC seconds, one cell per size (– if unrecorded)."""
    labels = {"cpu_seconds": "CPU s", "jit_compile_seconds": "JIT compile s", "gc_seconds": "GC s"}

    def cell(result: SizeResult, key: str) -> str:
        value = result.manifest.get("driver_jvm", {}).get(key)
        return "–" if value is None else f"{value:.1f}"

    return {label: [cell(r, key) for r in results] for key, label in labels.items()}


def _table_rows(results: list[SizeResult]) -> dict[str, list[str]]:
    """Rows per published table, one cell per size."""
    tables: list[str] = []
    for result in results:
        tables += [t for t in result.manifest["tables"] if t not in tables]
    return {
        f"`{table}`": [
            f"{r.manifest['tables'][table]['rows']:,}" if table in r.manifest["tables"] else "–"
            for r in results
        ]
        for table in tables
    }


def _params(fit: dict[str, Any]) -> str:
    return ", ".join(f"{name} {value:.4g}" for name, value in fit["params"].items())


def _clv_row(result: SizeResult) -> str:
    """One row of the fitted CLV parameters table."""
    clv = result.manifest["models"]["clv"]
    bgnbd, gamma_gamma = clv["bgnbd"], clv["gamma_gamma"]
    return (
        f"| {result.customers:,} | {_params(bgnbd)} | {bgnbd['log_likelihood']:,.1f} "
        f"| {_met(bgnbd['converged'])} | {_params(gamma_gamma)} "
        f"| {gamma_gamma['log_likelihood']:,.1f} | {_met(gamma_gamma['converged'])} |"
    )


def _render(results: list[SizeResult], seed: int) -> str:
    """The markdown body of the "pipeline" section."""
    time_unit = results[0].manifest["models"]["clv"]["time_unit"] if results else "weeks"
    return "\n".join(
        [
            "## Pipeline build (`c360-pipeline run`) and core stage vs DuckDB",
            "",
            machine_line() + ".",
            "",
            f"Input: the mock data at each size (CSV, seed {seed}; generation not timed). "
            "Wall = the whole `python -m c360_pipeline.cli run` command including JVM start; "
            "build = the run's `duration_seconds` in its manifest; peak RSS = driver JVM + "
            "Python processes, sampled every 0.2 s.",
            "",
            "Core stage = `build_purchase_summary(build_daily_purchases(…))` on the published "
            "snapshot's `transactions` Parquet, in a separate process: Spark with the pipeline's "
            "session settings, reading the files through its catalog with the bucketing by "
            "customer the manifest records, as the pipeline does (fully evaluated through the "
            "`noop` sink), against the same "
            "computation as one DuckDB SQL statement (in-process, one thread per core, "
            "materialised as a temp table). Each engine: one warm-up run, then the median of 3. "
            "The two results are checked equal customer by customer.",
            "",
            f"Targets: full build (wall) ≤ {BUILD_TARGET_SECONDS:.0f} s at "
            f"{BUILD_TARGET_CUSTOMERS:,} customers; core stage Spark/DuckDB ≤ {RATIO_TARGET}.",
            "",
            "| customers | transactions | wall s | build s | peak RSS GiB | core Spark s "
            f"| core DuckDB s | Spark/DuckDB | build ≤ {BUILD_TARGET_SECONDS:.0f} s "
            f"| ratio ≤ {RATIO_TARGET} |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|:---:|:---:|",
            *(_summary_row(r) for r in results),
            "",
            "Seconds per pipeline stage (from the manifest's `stage_seconds`), by customers:",
            "",
            *_by_size_table(results, "stage", _stage_rows(results)),
            "",
            "Driver JVM seconds during the build (the manifest's `driver_jvm`; in local mode "
            "the driver JVM runs every Spark task): its CPU; the time its JIT compilers spent "
            "compiling (elapsed, summed over the compiler threads: more than their CPU when "
            "they wait for a core); garbage-collection time; by customers:",
            "",
            *_by_size_table(results, "driver JVM", _jvm_rows(results)),
            "",
            "Rows per published table, by customers:",
            "",
            *_by_size_table(results, "table", _table_rows(results)),
            "",
            f"Fitted CLV models (from the manifest; time unit {time_unit}):",
            "",
            "| customers | BG/NBD parameters | BG/NBD log-lik | converged "
            "| Gamma-Gamma parameters | Gamma-Gamma log-lik | converged |",
            "|---:|---|---:|:---:|---|---:|:---:|",
            *(_clv_row(r) for r in results),
        ]
    )


def run(sizes: list[int], results_file: Path, scratch: Path, seed: int = 42) -> None:
    """Build each size in a fresh process, time its core stage against DuckDB, record it all."""
    results = [_measure_size(customers, scratch, seed) for customers in sizes]
    write_section(results_file, "pipeline", _render(results, seed))
    write_section(results_file, "models", models.render({r.customers: r.manifest for r in results}))
