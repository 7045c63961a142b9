"""Check that a Java runtime Spark can use (17 or newer) is installed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

MIN_JAVA = 17

INSTALL_HINT = (
    "C360 builds its tables with Apache Spark 4, which needs a Java runtime, version "
    f"{MIN_JAVA} or newer. Install one and run the command again: on Debian or Ubuntu "
    "`sudo apt-get install -y openjdk-17-jre-headless`, on macOS `brew install openjdk@17`, "
    "on Windows/WSL the Temurin 17 installer from adoptium.net; or point JAVA_HOME at an "
    "existing JDK 17+."
)


class JavaNotFoundError(RuntimeError):
    """No usable Java runtime: the message says how to install one."""


def java_executable() -> str | None:
    """Return the `java` Spark would launch: $JAVA_HOME/bin/java, else the one on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.exists():
            return str(candidate)
    return shutil.which("java")


def parse_java_major(version_output: str) -> int | None:
    """Extract the major version from `java -version` output ('1.8.0_x' -> 8, '17.0.2' -> 17)."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if not match:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2):
        return int(match.group(2))
    return major


def check_java() -> int:
    """Return the Java major version, or raise JavaNotFoundError with install instructions."""
    java = java_executable()
    if java is None:
        raise JavaNotFoundError(f"Java was not found. {INSTALL_HINT}")
    try:
        result = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise JavaNotFoundError(f"`{java} -version` failed ({exc}). {INSTALL_HINT}") from exc
    major = parse_java_major(result.stderr + result.stdout)
    if major is None or major < MIN_JAVA:
        found = f"Java {major}" if major else "an unrecognised Java"
        raise JavaNotFoundError(f"Found {found} at {java}. {INSTALL_HINT}")
    return major


def main() -> int:
    """Command-line check used by the Makefile: exit 0 when Java is fine, 1 with a hint else."""
    try:
        major = check_java()
    except JavaNotFoundError as exc:
        print(f"ERROR: {exc}")
        return 1
    print(f"Java {major} found.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
