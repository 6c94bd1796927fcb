"""Banks unlike the generator's onboard by configuration alone.

Each bank under ``tests/data/onboarding/<bank>/`` is a sources YAML, its GX suites
and a landing day of small hand-written extracts. The test points the settings at
them and runs the day's real integration (``run_day``) on SQLite: no code of the
bank's own, only configuration. The stored rows are then read back.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lifecycle.integration.quality.suites import check_suite_against_source, read_suites
from lifecycle.integration.service import DayResult, run_day
from lifecycle.integration.sources import load_sources
from lifecycle.privacy.fields import decrypt_column
from lifecycle.store.models import (
    Account,
    AccountHolder,
    BalanceSnapshot,
    Card,
    Customer,
    CustomerAttribute,
    QuarantinedRow,
    SourceLink,
    Transaction,
)

BANKS = Path(__file__).resolve().parents[1] / "data" / "onboarding"
AS_OF = date(2026, 6, 30)
pytestmark = pytest.mark.slow


@pytest.fixture
def onboard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            use_home: Callable[[pytest.MonkeyPatch, Path, Path], None]) -> Iterator[Callable[[str], DayResult]]:
    """Run the day for one bank's configuration, extracts and suites."""
    from tasks.context import flow_context, reset

    def run(bank: str) -> DayResult:
        folder = BANKS / bank
        landing = tmp_path / "landing"
        shutil.copytree(folder / "landing", landing)
        monkeypatch.setenv("LIFECYCLE_SOURCES_FILE", str(folder / "sources.yaml"))
        monkeypatch.setenv("LIFECYCLE_SUITES_DIR", str(folder / "expectations"))
        use_home(monkeypatch, tmp_path / "home", landing)
        return run_day(flow_context(), AS_OF)

    yield run
    reset()


def _rows(model: type, *columns: str) -> list[Any]:
    from tasks.context import flow_context

    table = model.__table__  # type: ignore[attr-defined]
    with flow_context().engine.connect() as conn:
        return list(conn.execute(select(*[table.c[c] for c in columns])).all())


def _customers_by_key(source: str) -> dict[str, int]:
    return {r.source_key: r.customer_id for r in _rows(SourceLink, "source", "source_key", "customer_id")
            if r.source == source}


def _decrypted(customer_ids: list[int], values: list[bytes], *, table: str, column: str) -> list[str | None]:
    from tasks.context import flow_context

    ctx = flow_context()
    keys = ctx.keystore.existing_data_keys(ctx.keyring, customer_ids)
    return decrypt_column(values, [keys[i] for i in customer_ids], customer_ids, table=table, column=column)


@pytest.mark.parametrize("bank", ["ceska", "eurochurn", "alpenbank"])
def test_each_onboarding_suite_matches_its_source_config(bank: str) -> None:
    sources = load_sources(BANKS / bank / "sources.yaml")
    suites = read_suites(BANKS / bank / "expectations")
    for spec in sources.sources.values():
        if spec.entity != "reference":
            assert check_suite_against_source(suites[spec.suite], spec) == []


def test_a_central_european_bank_with_birth_numbers_and_a_holder_link_table_onboards(
        onboard: Callable[[str], DayResult]) -> None:
    result = onboard("ceska")
    assert str(result.status) == "succeeded"
    client = _customers_by_key("clients")
    assert len(client) == 5 and len(set(client.values())) == 5
    people = {r.customer_id: r for r in _rows(Customer, "customer_id", "gender", "birth_year", "name_masked",
                                              "birth_date_enc")}
    # the month carries +50 for women; two-digit years pivot at 10 (00 -> 2000, 25 -> 1925)
    assert {k: (people[c].gender, people[c].birth_year) for k, c in client.items()} == {
        "1": ("F", 1970), "2": ("M", 1945), "3": ("F", 1975), "4": ("M", 2000), "5": ("F", 1925)}
    born = _decrypted([client["4"]], [people[client["4"]].birth_date_enc], table="customers", column="birth_date")
    assert born == ["2000-02-29"]  # a leap day that exists only in the pivot's century
    assert people[client["2"]].name_masked == "P***********"  # "Petr Svoboda", joined from two columns

    accounts = {r.account_no: r for r in _rows(Account, "account_no", "customer_id", "product_code", "open_date",
                                               "currency")}
    assert {a: r.customer_id for a, r in accounts.items()} == {
        "101": client["1"], "102": client["2"], "103": client["5"]}  # the OWNER row of the link table
    assert accounts["102"].product_code == "CURRENT_WEEKLY" and accounts["102"].currency == "CZK"
    assert [accounts[a].open_date for a in ("101", "102", "103")] == [
        date(1993, 1, 1), date(1995, 12, 24), date(2008, 3, 15)]

    holders = {(r.account_no, r.customer_id): r.holder_role
               for r in _rows(AccountHolder, "account_no", "customer_id", "holder_role")}
    assert {c: role for (a, c), role in holders.items() if a == "102"} == {
        client["2"]: "OWNER", client["3"]: "JOINT_HOLDER", client["4"]: "AUTHORISED_USER"}
    assert len(holders) == 5

    cards = {r.open_date: r for r in _rows(Card, "card_ref", "customer_id", "card_product", "open_date",
                                           "card_no_masked")}
    assert {d: (r.customer_id, r.card_product) for d, r in cards.items()} == {
        date(1998, 11, 7): (client["1"], "GOLD"), date(2005, 4, 12): (client["3"], "CLASSIC")}

    txns = {r.txn_id: r for r in _rows(Transaction, "txn_id", "customer_id", "amount", "direction", "txn_time")}
    assert {t: (r.customer_id, r.amount, r.direction) for t, r in txns.items()} == {
        "T1": (client["1"], Decimal("1000.50"), "CREDIT"),
        "T2": (client["2"], Decimal("260.00"), "DEBIT"),  # the file's last row of the key wins
        "T3": (client["5"], Decimal("99.90"), "CREDIT")}
    assert result.summary["sources"]["trans"]["rows_superseded"] == 1  # type: ignore[index]

    districts = {r.customer_id: r.value_number for r in _rows(CustomerAttribute, "customer_id", "attribute",
                                                              "value_number") if r.attribute == "district_id"}
    assert districts == {client["1"]: 18, client["2"]: 1, client["3"]: 5, client["4"]: 12, client["5"]: 3}
    assert _rows(QuarantinedRow, "id") == []
