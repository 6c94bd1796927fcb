"""The reviewed suite files: one per source, every rule code known and used, and GX accepts them
(their agreement with the sources configuration: test_suite_agreement.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lifecycle.errors import ConfigError
from lifecycle.integration.quality.rules import RULES
from lifecycle.integration.quality.suites import read_suite, read_suites, to_gx_suite
from lifecycle.integration.sources import load_sources

SUITES_DIR = Path(__file__).resolve().parents[2] / "expectations"
SOURCES = load_sources()
SUITES = read_suites(SUITES_DIR)


def test_every_source_has_its_suite_and_every_suite_a_source() -> None:
    assert sorted(SUITES) == sorted(spec.suite for spec in SOURCES.sources.values())


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_gx_accepts_every_expectation_and_keeps_its_rule(suite: str) -> None:
    gx_suite = to_gx_suite(SUITES[suite])
    assert [(e.meta or {}).get("rule") for e in gx_suite.expectations] == [e.rule for e in SUITES[suite].expectations]
    assert all(e.rule in RULES for e in SUITES[suite].expectations)


def test_every_rule_code_is_used_by_some_suite() -> None:
    used = {e.rule for suite in SUITES.values() for e in suite.expectations}
    assert used == set(RULES)


def test_an_unknown_rule_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text(
        json.dumps(
            {
                "name": "broken",
                "expectations": [
                    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x"}, "meta": {"rule": "nope"}}
                ],
            }
        )
    )
    with pytest.raises(ConfigError, match="unknown rule 'nope'"):
        read_suite(path)


@pytest.mark.parametrize(
    ("expectation", "message"),
    [
        ({"type": "expect_nothing_at_all", "kwargs": {"column": "x"}}, "GX accepted 0 of 1"),  # GX only logs it
        ({"type": "expect_column_values_to_be_between", "kwargs": {"column": "x"}}, "GX refused the suite"),
    ],
    ids=["unknown-type", "invalid-kwargs"],
)
def test_an_expectation_gx_rejects_fails_loudly(tmp_path: Path, expectation: dict[str, object], message: str) -> None:
    path = tmp_path / "invalid.json"
    path.write_text(json.dumps({"name": "invalid", "expectations": [expectation | {"meta": {"rule": "nps_range"}}]}))
    with pytest.raises(ConfigError, match=message):
        to_gx_suite(read_suite(path))
