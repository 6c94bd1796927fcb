"""The command line: flags map onto the generator and a short summary is printed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lifecycle.synth.cli import build_parser, main


def test_cli_generates_and_prints_files_rows_and_seconds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--customers", "200", "--seed", "4", "--as-of", "2025-01-31", "--out", str(tmp_path),
                 "--txns-per-customer", "5", "--flaw-rate", "0.01", "--drop-column", "feedback:category",
                 "--encoding-flaw", "feedback"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "full extract for 2025-01-31" in printed and "transactions.csv" in printed and " s " in printed
    manifest = json.loads((tmp_path / "truth" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["args"]["drop_columns"] == ["feedback:category"]
    assert manifest["args"]["encoding_flaws"] == ["feedback"]
    assert manifest["args"]["flaw_rate"] == 0.01


def test_cli_reports_bad_settings_with_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--customers", "5", "--seed", "1", "--as-of", "2025-01-31", "--out", str(tmp_path)]) == 2
    assert "at least 20" in capsys.readouterr().out


def test_parser_rejects_malformed_dates_and_drop_columns() -> None:
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["--customers", "1", "--seed", "1", "--as-of", "31/01/2025", "--out", "x"])
    with pytest.raises(SystemExit):
        parser.parse_args(["--customers", "1", "--seed", "1", "--as-of", "2025-01-31", "--out", "x",
                           "--drop-column", "no-colon"])
    args = parser.parse_args(["--customers", "1", "--seed", "1", "--as-of", "2025-01-31", "--out", "x",
                              "--delta-fraction", "0.1", "--drop-column", "loans:status"])
    assert args.delta_fraction == 0.1 and args.drop_column == [("loans", "status")]


def test_module_is_runnable_with_python_dash_m(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lifecycle.synth", "--customers", "100", "--seed", "1", "--as-of", "2025-01-31",
         "--out", str(tmp_path), "--txns-per-customer", "3"],
        capture_output=True, text=True, check=False, cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "landing" / "2025-01-31" / "core_customers.csv").exists()
