"""The generator's command line refuses bad usage before starting Spark."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_data.cli import EXIT_OK, EXIT_USAGE, main
from mock_data.writer import METADATA_FILE


@pytest.mark.parametrize(
    "argv",
    [
        ["--customers", "0"],
        ["--customers", "100", "--dirty-fraction", "0.9"],
        ["--customers", "100", "--format", "parquet", "--date-style", "dmy"],
    ],
)
def test_bad_values_exit_2_with_a_reason(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--output", str(tmp_path / "out")]) == EXIT_USAGE
    assert capsys.readouterr().err.startswith("error: ")


def test_existing_output_is_not_overwritten_by_accident(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "transactions").mkdir()
    assert main(["--customers", "100", "--output", str(tmp_path)]) == EXIT_USAGE
    assert "--overwrite" in capsys.readouterr().err
    assert (tmp_path / "transactions").exists()


def test_if_missing_keeps_a_complete_dataset(tmp_path: Path) -> None:
    (tmp_path / METADATA_FILE).write_text("{}")
    assert main(["--customers", "100", "--output", str(tmp_path), "--if-missing"]) == EXIT_OK
    assert (tmp_path / METADATA_FILE).read_text() == "{}"


def test_unknown_option_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--no-such-option"])
    assert exc.value.code == EXIT_USAGE
