"""The onboarding keys of the sources config: refused clearly when they cannot work."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from lifecycle.errors import ConfigError
from lifecycle.integration.sources import load_sources
from lifecycle.integration.standardize import parse_dates

CUSTOMERS: dict[str, Any] = {
    "system": "CRM", "entity": "individual", "path": "{as_of}/c.csv", "suite": "c", "key": "id",
    "columns": {"id": {"to": "source_key", "required": True}, "nm": {"to": "name", "required": True}},
}
ACCOUNTS: dict[str, Any] = {
    "system": "CORE", "entity": "account", "path": "{as_of}/a.csv", "suite": "a", "key": "acc",
    "owners": ["customers"],
    "columns": {"acc": {"to": "account_no", "required": True}, "cust": {"to": "owner_key", "required": True},
                "prod": {"to": "product_code"}, "opened": {"to": "open_date", "type": "date", "format": ["%Y-%m-%d"]}},
}


def _load(tmp_path: Path, **sources: dict[str, Any]) -> object:
    config = {"version": 1, "sources": {"customers": copy.deepcopy(CUSTOMERS), **sources}}
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return load_sources(path, loader_check=False)  # the entries' shape; config_check has its own tests


def _with(base: dict[str, Any], **columns: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(base)
    spec["columns"].update(columns)
    return spec


def _refused(tmp_path: Path, **sources: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, **sources)
    return str(err.value)


def test_a_mapped_column_with_no_place_in_the_model_is_refused_naming_it(tmp_path: Path) -> None:
    message = _refused(tmp_path, customers=_with(CUSTOMERS, CreditScore={"to": "credit_score", "type": "integer"}))
    assert "'CreditScore'" in message and "'credit_score'" in message and "extra: true" in message
    assert "sources.yaml" in message


def test_the_same_column_kept_as_an_extra_attribute_is_accepted(tmp_path: Path) -> None:
    config = _load(tmp_path, customers=_with(CUSTOMERS, CreditScore={"to": "credit_score", "type": "integer",
                                                                     "extra": True}))
    assert list(config.sources["customers"].extra_columns) == ["credit_score"]  # type: ignore[attr-defined]


def test_extra_attributes_belong_to_customer_sources_only(tmp_path: Path) -> None:
    message = _refused(tmp_path, accounts=_with(ACCOUNTS, branch={"to": "branch", "extra": True}))
    assert "'branch'" in message and "only customer sources" in message


def test_a_two_digit_year_without_a_century_pivot_is_refused(tmp_path: Path) -> None:
    message = _refused(tmp_path, accounts=_with(ACCOUNTS, opened={"to": "open_date", "type": "date",
                                                                  "format": ["%y%m%d"]}))
    assert "century_pivot" in message and "accounts.columns.opened" in message


def test_an_expression_naming_an_unknown_column_is_refused(tmp_path: Path) -> None:
    message = _refused(tmp_path, accounts=_with(ACCOUNTS, prod={"to": "product_code", "expr": "upper(product)"}))
    assert "'prod'" in message and "['product']" in message


def test_an_unsafe_expression_is_refused_before_any_row(tmp_path: Path) -> None:
    message = _refused(tmp_path, accounts=_with(ACCOUNTS, prod={"to": "product_code",
                                                                "expr": "__import__('os').getcwd()"}))
    assert "unknown function" in message


def test_an_input_column_nothing_uses_is_refused(tmp_path: Path) -> None:
    message = _refused(tmp_path, accounts=_with(ACCOUNTS, frequency={}))
    assert "input column 'frequency'" in message and "used by no expression" in message


def test_a_join_needs_a_reference_source(tmp_path: Path) -> None:
    joined = copy.deepcopy(ACCOUNTS)
    joined["joins"] = [{"reference": "customers", "by": "cust", "take": {"nm": "holder_name"}}]
    assert "not a source of entity `reference`" in _refused(tmp_path, accounts=joined)


def test_holder_roles_must_be_the_known_ones(tmp_path: Path) -> None:
    links = {"system": "CORE", "entity": "account_holder", "path": "{as_of}/l.csv", "suite": "l", "key": "id",
             "owners": ["customers"],
             "columns": {"id": {"to": "holder_key", "required": True}, "acc": {"to": "account_no"},
                         "cust": {"to": "owner_key"},
                         "role": {"to": "holder_role", "type": "code", "codes": {"O": "OWNER", "X": "PROXY"}}}}
    message = _refused(tmp_path, links=links)
    assert "['PROXY']" in message and "AUTHORISED_USER" in message


def test_holders_must_name_a_link_source(tmp_path: Path) -> None:
    accounts = copy.deepcopy(ACCOUNTS)
    accounts["holders"] = "customers"
    assert "entity `account_holder`" in _refused(tmp_path, accounts=accounts)


def test_the_century_pivot_decides_the_century_and_a_missing_leap_day_is_invalid() -> None:
    parsed, valid = parse_dates(pd.Series(["000229", "091231", "100101", "990101"]), ["%y%m%d"], century_pivot=10)
    assert [d.year for d in parsed] == [2000, 2009, 1910, 1999]
    parsed, valid = parse_dates(pd.Series(["000229", "010101"]), ["%y%m%d"], century_pivot=0)
    assert pd.isna(parsed.iloc[0]) and valid.tolist() == [False, True]  # 29 February 1900 never was
    assert parsed.iloc[1].year == 1901


ORDERS: dict[str, Any] = {
    "system": "CORE", "entity": "extra_fact", "path": "{as_of}/o.csv", "suite": "o", "key": "id",
    "columns": {"id": {"to": "order_id", "required": True}, "acc": {"to": "account_no"},
                "amount": {"to": "amount", "type": "decimal"}},
}


def test_an_extra_fact_keeps_any_declared_column_but_needs_an_owner_and_holds_no_pii(tmp_path: Path) -> None:
    assert _load(tmp_path, orders=copy.deepcopy(ORDERS))
    ownerless = copy.deepcopy(ORDERS)
    del ownerless["columns"]["acc"]
    assert "needs its owner" in _refused(tmp_path, orders=ownerless)
    personal = _with(ORDERS, payee={"to": "payee_name", "pii": True})
    assert "['payee']" in _refused(tmp_path, orders=personal)
