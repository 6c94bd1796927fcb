"""Suites derive from the sources configuration: the packaged suites are exactly what the
packaged configuration implies, and a derived suite agrees with its source and is accepted by GX."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.integration.quality.agreement import check_agreement
from lifecycle.integration.quality.derive import derive_suite, suite_json
from lifecycle.integration.quality.suites import SuiteExpectation, SuiteFile
from lifecycle.integration.sources import ColumnSpec, ColumnType, SourceSpec, load_sources

SUITES_DIR = Path(__file__).resolve().parents[2] / "expectations"
SOURCES = load_sources()


def _as_file(document: dict[str, object], path: Path) -> SuiteFile:
    expectations = tuple(SuiteExpectation(e["type"], e["meta"]["rule"], e["kwargs"], e.get("notes"))
                         for e in document["expectations"])  # type: ignore[attr-defined]
    return SuiteFile(str(document["name"]), path, expectations, document)


@pytest.mark.parametrize("source", sorted(SOURCES.sources))
def test_the_packaged_suite_is_the_one_derived_from_the_packaged_config(source: str) -> None:
    spec = SOURCES[source]
    derived = suite_json(derive_suite(spec))
    assert derived == (SUITES_DIR / f"{spec.suite}.json").read_text(encoding="utf-8"), \
        "the packaged suite is not the one its configuration implies: `make suites` derives it again"


def _foreign_customers() -> SourceSpec:
    return SourceSpec(
        name="churn_customers", system="CRM", entity="individual", path="{as_of}/churn.csv", suite="churn_customers",
        key=["CustomerId"], columns={
            "CustomerId": ColumnSpec(to="source_key", required=True),
            "Surname": ColumnSpec(to="name", required=True, pii=True),
            "Geography": ColumnSpec(to="country", type=ColumnType.CODE, codes={"FR": "FR", "DE": "DE", "ES": "ES"}),
            "Balance": ColumnSpec(to="balance", type=ColumnType.DECIMAL, unit="yuan"),
            "Tenure": ColumnSpec(to="tenure_years", type=ColumnType.INTEGER),
            "Joined": ColumnSpec(to="open_date", type=ColumnType.DATE, format=["%d.%m.%Y"], required=True),
        })


def test_a_derived_suite_for_a_new_source_agrees_with_it_and_checks_what_its_config_says() -> None:
    spec = _foreign_customers()
    document = derive_suite(spec)
    rules = [(e["meta"]["rule"], e["kwargs"].get("column")) for e in document["expectations"]]
    assert rules == [("columns_present", None), ("required", "source_key"), ("required", "name"),
                     ("required", "open_date"), ("source_key_unique", "source_key"), ("code_in_set", "country"),
                     ("date_valid", "chk_date_valid__open_date"), ("number_valid", "chk_number_valid__balance"),
                     ("number_valid", "chk_number_valid__tenure_years"),
                     ("date_not_future", "chk_not_future__open_date"), ("amount_non_negative", "balance")]
    assert document["expectations"][5]["kwargs"]["value_set"] == ["FR", "DE", "ES"]
    assert check_agreement(_as_file(document, Path("churn_customers.json")), spec) == []


def test_a_compound_key_derives_one_compound_uniqueness_check() -> None:
    expectations = derive_suite(SOURCES["balances"])["expectations"]
    (unique,) = [e for e in expectations if e["meta"]["rule"] == "source_key_unique"]
    assert unique["type"] == "expect_compound_columns_to_be_unique"
    assert unique["kwargs"]["column_list"] == ["account_no", "balance_date"]


def test_gx_accepts_a_derived_suite(tmp_path: Path) -> None:
    from lifecycle.integration.quality.suites import read_suite, to_gx_suite

    path = tmp_path / "churn_customers.json"
    path.write_text(suite_json(derive_suite(_foreign_customers())), encoding="utf-8")
    assert len(to_gx_suite(read_suite(path)).expectations) == 11
