"""`python -m bench`: run the benchmarks and write docs/benchmarks.md."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench import api, generator, pipeline

BENCHMARKS = ("generator", "pipeline", "api")


def main() -> int:
    """Parse arguments and run the selected benchmarks."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--sizes", default="100000,1000000", help="customer counts, comma-separated"
    )
    parser.add_argument("--output", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--scratch", type=Path, default=Path("data/bench"))
    parser.add_argument("--only", choices=BENCHMARKS, action="append")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    selected = args.only or list(BENCHMARKS)
    if "generator" in selected:
        generator.run(sizes, args.output, args.scratch)
    if "pipeline" in selected:
        pipeline.run(sizes, args.output, args.scratch)
    if "api" in selected:
        api.run(max(sizes), args.output, args.scratch)
    print(f"Results written to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
