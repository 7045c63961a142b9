"""Writing one benchmark's section into the shared results file, keeping the others."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

HEADER = """# C360 benchmarks

Figures written by `make bench` (each benchmark rewrites only its own section). Reproduce with
`make bench` or a single one with `uv run python -m bench --only NAME`.
"""


def machine_line() -> str:
    """One line describing the machine and versions the figures were measured on."""
    try:
        java = subprocess.run(
            ["java", "-version"], capture_output=True, text=True, check=False
        ).stderr.splitlines()[0]
    except (OSError, IndexError):
        java = "java unknown"
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores, {memory_gib:.0f} GiB, {platform.system()} "
        f"{platform.machine()}, Python {platform.python_version()}, {java}, "
        f"PySpark {version('pyspark')}; measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


def write_section(path: Path, name: str, body: str) -> None:
    """Replace (or append) the section `name` of the results file."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    section = f"{start}\n{body.rstrip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = f"{text.rstrip()}\n\n{section}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
