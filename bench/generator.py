"""Mock-data generation at several sizes: wall time, rows/s, peak memory, output size."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from bench.measure import run_measured
from bench.report import machine_line, write_section


def _dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def run(sizes: list[int], results_file: Path, scratch: Path, seed: int = 42) -> None:
    """Generate each size in a fresh process (fresh JVM) and record the figures."""
    rows = []
    for customers in sizes:
        output = scratch / f"generator-{customers}"
        print(f"[bench generator] {customers:,} customers -> {output}", flush=True)
        measured = run_measured(
            [sys.executable, "-m", "mock_data", "--customers", str(customers),
             "--seed", str(seed), "--output", str(output), "--overwrite"]
        )  # fmt: skip
        if measured.returncode != 0:
            raise SystemExit(f"generation failed:\n{measured.output_tail}")
        metadata = json.loads((output / "_generator.json").read_text())
        total_rows = metadata["total_rows"]
        per_source = ", ".join(
            f"{name} {seconds:.1f}s" for name, seconds in metadata["seconds"].items()
        )
        rows.append(
            f"| {customers:,} | {metadata['rows']['transactions']:,} | {total_rows:,} "
            f"| {measured.seconds:.1f} | {metadata['total_seconds']:.1f} "
            f"| {total_rows / metadata['total_seconds']:,.0f} "
            f"| {measured.peak_rss_bytes / 2**30:.2f} | {_dir_bytes(output) / 2**30:.2f} "
            f"| {per_source} |"
        )
        print(f"[bench generator] {rows[-1]}", flush=True)
        shutil.rmtree(output, ignore_errors=True)
    body = "\n".join(
        [
            "## Mock-data generation (`python -m mock_data`, CSV, seed 42)",
            "",
            machine_line() + ".",
            "",
            "Wall = whole command including JVM start; generate = inside Spark; rows/s over all "
            "sources; peak RSS = driver JVM + Python processes, sampled every 0.2 s.",
            "",
            "| customers | transactions | rows (all sources) | wall s | generate s | rows/s "
            "| peak RSS GiB | CSV GiB | per source |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
            *rows,
        ]
    )
    write_section(results_file, "generator", body)
