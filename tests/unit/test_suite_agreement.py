"""A suite that disagrees with its source's configuration refuses the configuration at load,
naming the suite file, the expectation and the column."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from lifecycle.errors import ConfigError
from lifecycle.integration.quality.agreement import check_agreement, check_sources, load_agreeing_sources
from lifecycle.integration.quality.suites import SuiteFile, read_suites
from lifecycle.integration.sources import DEFAULT_SOURCES_FILE, load_sources

SUITES_DIR = Path(__file__).resolve().parents[2] / "expectations"
SOURCES = load_sources()
SUITES = read_suites(SUITES_DIR)


def _edited(suite: SuiteFile, column: str, **kwargs: object) -> SuiteFile:
    return replace(suite, expectations=tuple(replace(e, kwargs={**e.kwargs, **kwargs}) if e.columns == (column,)
                                             and e.rule == "code_in_set" else e for e in suite.expectations))


@pytest.mark.parametrize("source", sorted(SOURCES.sources))
def test_every_packaged_suite_agrees_with_its_source(source: str) -> None:
    spec = SOURCES[source]
    assert check_agreement(SUITES[spec.suite], spec) == []


def test_a_value_set_lacking_a_configured_code_names_file_expectation_and_column() -> None:
    suite = _edited(SUITES["core_customers"], "gender", value_set=["M"])
    (mismatch,) = check_agreement(suite, SOURCES["core_customers"])
    assert (mismatch.column, mismatch.rule, mismatch.expectation) == ("gender", "code_in_set", 6)
    assert str(mismatch) == (f"{suite.path}: expectation #6 (code_in_set, expect_column_values_to_be_in_set) on "
                             "column 'gender': the value set lacks the configured code(s) ['F']")


def test_a_suite_checking_a_column_the_mapping_lacks_is_named() -> None:
    suite = SUITES["accounts"]
    extra = replace(suite.expectations[1], kwargs={"column": "iban"})
    found = check_agreement(replace(suite, expectations=(*suite.expectations, extra)), SOURCES["accounts"])
    assert [(m.column, m.expectation) for m in found if "not in the column mapping" in m.problem] == \
        [("iban", len(suite.expectations))]


def test_a_required_column_without_a_not_null_expectation_is_named() -> None:
    suite = SUITES["loans"]
    kept = tuple(e for e in suite.expectations if not (e.rule == "required" and e.columns == ("start_date",)))
    (mismatch,) = check_agreement(replace(suite, expectations=kept), SOURCES["loans"])
    assert mismatch.column == "start_date" and mismatch.expectation is None
    assert "source column 'start_date'" in mismatch.problem and "'required' expectation" in mismatch.problem


def test_a_date_flag_on_a_number_column_is_named() -> None:
    suite = SUITES["balances"]
    flag = replace(suite.expectations[-1], kwargs={"column": "chk_date_valid__balance", "value_set": [True]})
    found = check_agreement(replace(suite, expectations=(*suite.expectations, flag)), SOURCES["balances"])
    assert any(m.column == "chk_date_valid__balance" and "'balance' is decimal" in m.problem for m in found)


def _write_config(tmp_path: Path, feedback_codes: dict[str, str]) -> Path:
    config = yaml.safe_load(DEFAULT_SOURCES_FILE.read_text(encoding="utf-8"))
    config["sources"]["feedback"]["columns"]["kind"]["codes"] = feedback_codes
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def test_a_code_table_that_drifted_from_its_suite_refuses_the_configuration(tmp_path: Path) -> None:
    path = _write_config(tmp_path, {"SURVEY": "SURVEY", "COMPLAINT": "COMPLAINT", "PRAISE": "PRAISE"})
    with pytest.raises(ConfigError) as err:
        load_agreeing_sources(path, SUITES_DIR)
    message = str(err.value)
    assert str(path) in message and str(SUITES_DIR / "feedback.json") in message
    assert "expectation #6 (code_in_set" in message and "column 'kind'" in message and "['PRAISE']" in message
    assert "bank-lifecycle sources suite" in message


def test_a_source_without_its_suite_file_is_named(tmp_path: Path) -> None:
    suites = tmp_path / "suites"
    shutil.copytree(SUITES_DIR, suites)
    (suites / "loans.json").unlink()
    (mismatch,) = check_sources(SOURCES, suites)
    assert mismatch.suite_file == suites / "loans.json" and "sources suite loans" in mismatch.problem


def test_the_context_refuses_sources_whose_suite_drifted(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from lifecycle.bootstrap import build_context
    from lifecycle.settings import Settings

    suites = tmp_path / "suites"
    shutil.copytree(SUITES_DIR, suites)
    document = json.loads((suites / "accounts.json").read_text(encoding="utf-8"))
    document["expectations"] = [e for e in document["expectations"] if e["meta"]["rule"] != "source_key_unique"]
    (suites / "accounts.json").write_text(json.dumps(document), encoding="utf-8")
    settings = Settings(home=tmp_path, suites_dir=suites)
    with pytest.raises(ConfigError, match=r"accounts\.json: no expectation: 'source_key_unique' must cover"):
        build_context(settings, check=False)


def test_a_future_date_check_the_standardiser_never_computes_is_named() -> None:
    suite = SUITES["accounts"]
    flag = replace(suite.expectations[-1], kwargs={"column": "chk_not_future__close_date", "value_set": [True]})
    found = check_agreement(replace(suite, expectations=(*suite.expectations, flag)), SOURCES["accounts"])
    assert [(m.column, m.expectation) for m in found if "against the as-of date" in m.problem] == \
        [("chk_not_future__close_date", len(suite.expectations))]


def test_columns_present_lacking_a_checked_column_is_named_at_its_expectation() -> None:
    suite = SUITES["transactions"]
    present = suite.expectations[0]
    listed = [c for c in present.kwargs["column_set"] if c != "currency"]
    shrunk = replace(present, kwargs={**present.kwargs, "column_set": listed})
    (mismatch,) = check_agreement(replace(suite, expectations=(shrunk, *suite.expectations[1:])),
                                  SOURCES["transactions"])
    assert (mismatch.expectation, mismatch.rule) == (0, "columns_present") and "'currency'" in mismatch.problem
