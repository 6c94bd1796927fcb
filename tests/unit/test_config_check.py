"""The sources configuration is checked against the loader's entity list and the store's NOT NULL
columns when it is read: each problem names the source, the key and what to add."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Column, MetaData, String, Table

from lifecycle.errors import ConfigError
from lifecycle.integration import config_check
from lifecycle.integration.config_check import config_problems, known_entities
from lifecycle.integration.facts import ENTITY_TABLES
from lifecycle.integration.sources import DEFAULT_SOURCES_FILE, SourcesConfig, load_sources

FOREIGN = Path(__file__).resolve().parents[1] / "data" / "onboarding" / "configs" / "foreign_two_systems.yaml"


def _raw(file: Path = FOREIGN) -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(file.read_text(encoding="utf-8"))
    return raw


def _problems(raw: dict[str, Any]) -> list[str]:
    return config_problems(SourcesConfig.model_validate(raw))


def test_the_packaged_and_the_foreign_configurations_have_no_problem() -> None:
    assert _problems(_raw(DEFAULT_SOURCES_FILE)) == []
    assert _problems(_raw()) == []


def test_the_known_entities_are_the_loaders() -> None:
    assert set(known_entities()) == {"individual", "corporate", *ENTITY_TABLES, "reference"}  # references are joined


def test_a_new_not_null_column_of_the_store_is_required_without_a_hand_list(monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = ENTITY_TABLES["account"]
    grown = Table("accounts", MetaData(), *[c.copy() for c in accounts.columns],
                  Column("risk_class", String(8), nullable=False))
    monkeypatch.setitem(config_check.ENTITY_TABLES, "account", grown)
    problems = _problems(_raw(DEFAULT_SOURCES_FILE))
    assert len(problems) == 1
    assert problems[0].startswith("sources.accounts.columns: the store's accounts.risk_class is NOT NULL")
    assert "{to: risk_class" in problems[0]


def test_every_problem_is_listed_at_once_in_one_error_naming_the_file(tmp_path: Path) -> None:
    raw = _raw()
    del raw["sources"]["crm_clients"]["columns"]["FULL_NAME"]
    raw["sources"]["accounts"]["owners"] = ["crm_client", "transactions"]
    raw["sources"]["transactions"]["entity"] = "standing_order"
    file = tmp_path / "sources.yaml"
    file.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_sources(file)
    message = str(err.value)
    assert message.startswith(f"sources configuration {file}: 4 problem(s), nothing was read: (1) ")
    assert "sources.crm_clients.columns: a customer source (entity individual) needs a column mapped to name" in message
    assert "sources.accounts.owners: 'crm_client' is not a configured customer source" in message
    assert "'transactions' is not a configured customer source (it is a source of entity standing_order)" in message
    assert "sources.transactions.entity: 'standing_order' is not an entity the loader knows" in message


def test_a_customer_source_keyed_by_something_else_than_source_key_is_refused() -> None:
    raw = _raw()
    raw["sources"]["web_customers"]["columns"]["WEB_ID"].update(to="web_id", extra=True)
    (problem,) = _problems(raw)
    assert problem.startswith("sources.web_customers.key: a customer source (entity individual) is keyed by one "
                              "column mapped to source_key")
    assert "WEB_ID: {to: source_key" in problem


def test_facts_through_accounts_need_an_account_source() -> None:
    raw = _raw()
    del raw["sources"]["accounts"]
    (problem,) = _problems(raw)
    assert problem.startswith("sources.transactions: its rows reach their customer through account_no, but no "
                              "source has entity account")


def test_card_spending_needs_a_customer_source_that_holds_card_numbers() -> None:
    raw = _raw(DEFAULT_SOURCES_FILE)
    del raw["sources"]["card_customers"]
    (problem,) = _problems(raw)
    assert problem.startswith("sources.card_transactions: its rows reach their customer through card_no")


def test_owners_without_an_owner_key_or_an_owner_key_without_owners_are_refused() -> None:
    raw = _raw()
    raw["sources"]["transactions"]["owners"] = ["crm_clients"]
    del raw["sources"]["accounts"]["owners"]
    problems = _problems(raw)
    assert any(p.startswith("sources.transactions.owners: its rows reach their customer through account_no, not "
                            "owner_key") for p in problems)
    assert any(p.startswith("sources.accounts.owners: its rows name their customer by owner_key, but owners is "
                            "empty; list the customer sources") for p in problems)


def test_a_default_stands_in_for_a_missing_not_null_column_if_it_fits_its_type() -> None:
    raw = _raw()
    del raw["sources"]["accounts"]["columns"]["OPENED"]
    (problem,) = _problems(raw)
    assert "accounts.open_date is NOT NULL" in problem and "defaults: {open_date: 2000-01-01}" in problem
    raw["sources"]["accounts"]["defaults"] = {"open_date": "2000-01-01"}  # quoted: text, not a date
    (problem,) = _problems(raw)
    assert problem.startswith("sources.accounts.defaults.open_date: str value does not fit accounts.open_date")
    raw["sources"]["accounts"]["defaults"] = yaml.safe_load("{open_date: 2000-01-01}")
    assert _problems(raw) == []
    raw["sources"]["accounts"]["defaults"]["product_code"] = "CURRENT"  # mapped too
    raw["sources"]["accounts"]["defaults"]["customer_id"] = 1  # the loader's own
    problems = _problems(raw)
    assert problems == ["sources.accounts.defaults.product_code: PRODUCT is already mapped to product_code; keep "
                        "one of the two",
                        "sources.accounts.defaults.customer_id: accounts has no column customer_id a source "
                        "provides; remove it"]


def test_card_spending_needs_its_card_number_whatever_names_its_owner() -> None:
    raw = _raw(DEFAULT_SOURCES_FILE)
    spending = raw["sources"]["card_transactions"]
    del spending["columns"]["CARD_NO"]
    spending["columns"]["CUST"] = {"to": "owner_key", "type": "string"}
    spending["owners"] = ["card_customers"]
    (problem,) = _problems(raw)
    assert problem.startswith("sources.card_transactions.columns: the store's card_transactions.card_ref is NOT "
                              "NULL") and "{to: card_no" in problem
