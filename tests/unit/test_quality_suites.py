"""The reviewed suite files agree with the sources configuration, and GX accepts them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from lifecycle.errors import ConfigError
from lifecycle.integration.quality.rules import RULES
from lifecycle.integration.quality.suites import check_suite_against_source, read_suite, read_suites, to_gx_suite
from lifecycle.integration.sources import load_sources

SUITES_DIR = Path(__file__).resolve().parents[2] / "expectations"
SOURCES = load_sources()
SUITES = read_suites(SUITES_DIR)


def test_every_source_has_its_suite_and_every_suite_a_source() -> None:
    assert sorted(SUITES) == sorted(spec.suite for spec in SOURCES.sources.values())


@pytest.mark.parametrize("source", sorted(SOURCES.sources))
def test_suite_columns_codes_and_keys_match_the_sources_config(source: str) -> None:
    spec = SOURCES[source]
    assert check_suite_against_source(SUITES[spec.suite], spec) == []


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_gx_accepts_every_expectation_and_keeps_its_rule(suite: str) -> None:
    gx_suite = to_gx_suite(SUITES[suite])
    assert [(e.meta or {}).get("rule") for e in gx_suite.expectations] == [e.rule for e in SUITES[suite].expectations]
    assert all(e.rule in RULES for e in SUITES[suite].expectations)


def test_every_rule_code_is_used_by_some_suite() -> None:
    used = {e.rule for suite in SUITES.values() for e in suite.expectations}
    assert used == set(RULES)


def test_a_code_missing_from_the_value_set_is_reported() -> None:
    suite = SUITES["core_customers"]
    drifted = tuple(
        replace(e, kwargs={**e.kwargs, "value_set": ["M"]}) if e.columns == ("gender",) else e
        for e in suite.expectations
    )
    problems = check_suite_against_source(replace(suite, expectations=drifted), SOURCES["core_customers"])
    assert problems == ["core_customers: value set of 'gender' differs from the configured codes"]


def test_a_suite_checking_an_unknown_column_is_reported() -> None:
    suite = SUITES["accounts"]
    extra = replace(suite.expectations[1], kwargs={"column": "iban"})
    problems = check_suite_against_source(
        replace(suite, expectations=(*suite.expectations, extra)), SOURCES["accounts"]
    )
    assert any("'iban'" in p for p in problems)


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
