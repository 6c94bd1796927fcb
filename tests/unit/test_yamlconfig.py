"""Configuration errors name the file and the field, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.errors import ConfigError
from lifecycle.integration.sources import load_sources


def test_bad_value_names_the_file_and_the_field(tmp_path: Path) -> None:
    file = tmp_path / "sources.yaml"
    file.write_text("version: 1\nsources:\n  s:\n    system: X\n    entity: account\n    path: a.csv\n"
                    "    suite: s\n    key: k\n    error_budget: 2\n    columns:\n      k: {to: k}\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sources\.yaml.*sources\.s\.error_budget"):
        load_sources(file)


def test_invalid_yaml_and_missing_file_are_config_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: [1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_sources(broken)
    with pytest.raises(ConfigError, match="does not exist"):
        load_sources(tmp_path / "absent.yaml")
