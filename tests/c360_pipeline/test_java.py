"""The Java check finds Java 17+ or explains how to install it."""

from __future__ import annotations

from pathlib import Path

import pytest

from c360_pipeline import java


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_392"', 8),
        ('openjdk version "21" 2023-09-19', 21),
        ("garbage", None),
    ],
)
def test_parse_java_major(output: str, major: int | None) -> None:
    assert java.parse_java_major(output) == major


def test_missing_java_gives_install_instructions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(java.JavaNotFoundError, match="openjdk-17-jre-headless"):
        java.check_java()
    assert java.main() == 1


def test_old_java_is_rejected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "java"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'java version \"1.8.0_392\"' >&2\n")
    fake.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(java.JavaNotFoundError, match="Found Java 8"):
        java.check_java()


def test_this_machine_has_java_17_or_newer() -> None:
    assert java.check_java() >= java.MIN_JAVA
