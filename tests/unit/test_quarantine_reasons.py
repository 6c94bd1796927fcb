"""Quarantine reasons name the column as the extract does (``BIRTH_DT``), beside the canonical or
check column the rule ran on (``chk_date_valid__birth_date``)."""

from __future__ import annotations

import pandas as pd

from lifecycle.integration.quarantine import failure_lists, steward_column
from lifecycle.integration.sources import load_sources

SOURCES = load_sources()


def test_a_check_column_is_named_by_the_source_column_it_checks() -> None:
    cards = SOURCES["card_customers"]
    assert steward_column(cards, "chk_date_valid__birth_date") == "BIRTH_DT"
    assert steward_column(cards, "id_no") == "CERT_NO"
    assert steward_column(cards, "source_key") == "CARD_CUST_ID"
    assert steward_column(SOURCES["balances"], "account_no,balance_date") == "account_no,balance_date"
    assert steward_column(SOURCES["accounts"], "owner_key") == "cust_no"
    assert steward_column(cards, "not_a_column") == "not_a_column"


def test_stored_reasons_carry_both_the_canonical_and_the_source_column() -> None:
    failures = pd.DataFrame({"row_id": [3, 3, 5], "rule": ["date_valid", "id_no_checksum", "date_valid"],
                             "expectation": ["expect_column_values_to_be_in_set"] * 3,
                             "column": ["chk_date_valid__birth_date", "chk_id_no_checksum",
                                        "chk_date_valid__open_date"]})
    reasons = failure_lists(failures, SOURCES["card_customers"])
    assert [r["source_column"] for r in reasons[3]] == ["BIRTH_DT", "CERT_NO"]
    assert reasons[5] == [{"rule": "date_valid", "expectation": "expect_column_values_to_be_in_set",
                           "column": "chk_date_valid__open_date", "source_column": "CARD_OPEN_DT"}]
