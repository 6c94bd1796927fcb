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

from lifecycle.integration.quality.agreement import check_sources
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
    ExtraFact,
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
    assert check_sources(sources, BANKS / bank / "expectations") == []


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

    orders = {r.fact_key: r for r in _rows(ExtraFact, "source", "fact_key", "customer_id", "account_no", "values")}
    assert {k: (r.source, r.customer_id, r.account_no) for k, r in orders.items()} == {
        "O1": ("orders", client["1"], "101"), "O2": ("orders", client["2"], "102"),
        "O3": ("orders", client["5"], "103")}  # standing orders: no canonical entity, kept as an extra fact
    assert orders["O2"].values == {"order_id": "O2", "bank_to": "YZ", "account_to": "87144583", "amount": 3372.7,
                                   "purpose": "LOAN"}
    assert orders["O3"].values["purpose"] is None
    from lifecycle.store.attributes import read_extra_facts
    from tasks.context import flow_context

    with flow_context().engine.connect() as conn:
        read = read_extra_facts(conn, "orders").set_index("fact_key")
    assert read.loc["O1", "amount"] == 2452.0 and read.loc["O1", "customer_id"] == client["1"]
    assert _rows(QuarantinedRow, "id") == []


EXTRA_ATTRIBUTES = {"row_number", "credit_score", "geography", "age", "tenure_years", "balance", "products",
                    "has_card", "active_member", "estimated_salary", "exited"}


def test_a_customer_only_foreign_extract_keeps_every_column(onboard: Callable[[str], DayResult]) -> None:
    from lifecycle.segments.config import load_label_rules
    from lifecycle.segments.service import _with_extra_attributes
    from lifecycle.store.attributes import read_extra_attributes
    from tasks.context import flow_context

    result = onboard("eurochurn")  # the optional complaints extract is not there today
    assert str(result.status) == "succeeded" and "complaints" not in result.summary["sources"]  # type: ignore[operator]
    customer = _customers_by_key("churn_customers")
    assert len(customer) == 6
    people = {r.customer_id: r for r in _rows(Customer, "customer_id", "gender", "name_masked")}
    assert people[customer["80010003"]].gender == "M" and people[customer["80010004"]].gender == "F"
    assert people[customer["80010003"]].name_masked == "O******"  # O'Brien: a foreign surname, kept as written

    stored = _rows(CustomerAttribute, "customer_id", "source", "attribute", "value_type", "value_text",
                   "value_number", "value_date", "value_enc")
    assert len(stored) == 6 * len(EXTRA_ATTRIBUTES)
    by = {(r.customer_id, r.attribute): r for r in stored}
    lindqvist = customer["80010002"]
    assert by[lindqvist, "credit_score"].value_number == 705 and by[lindqvist, "credit_score"].value_type == "number"
    assert by[lindqvist, "balance"].value_number == pytest.approx(121450.75)  # "121,450.75" in the extract
    assert by[lindqvist, "geography"].value_text == "DE" and by[lindqvist, "exited"].value_text == "false"
    assert by[lindqvist, "has_card"].value_text == "false" and by[lindqvist, "active_member"].value_text == "true"
    assert by[customer["80010001"], "row_number"].value_number == 1
    salary = by[lindqvist, "estimated_salary"]  # PII: ciphertext only, under the customer's data key
    assert salary.value_number is None and salary.value_text is None and salary.value_enc is not None
    assert _decrypted([lindqvist], [salary.value_enc], table="customer_attributes",
                      column="estimated_salary") == ["143002.1"]

    with flow_context().engine.connect() as conn:
        read = read_extra_attributes(conn, ["credit_score", "estimated_salary", "tenure_years"])
        assert read.loc[customer["80010004"], "credit_score"] == 840
        assert read["estimated_salary"].isna().all()  # a PII attribute is never read in clear
        import pandas as pd

        frame = pd.DataFrame({"customer_id": list(customer.values()), "age": [None] * 6})
        labelled = _with_extra_attributes(conn, frame, load_label_rules().rules)  # the labels' inputs
    ages = dict(zip(labelled["customer_id"], labelled["age"], strict=True))
    assert ages[customer["80010003"]] == 57  # the stated age where no birth date gives one


def test_balances_in_foreign_currencies_are_converted_and_branches_joined_from_a_reference(
        onboard: Callable[[str], DayResult]) -> None:
    result = onboard("alpenbank")
    assert str(result.status) == "succeeded"
    customer = _customers_by_key("kunden")
    assert sorted(customer) == ["K1", "K2", "K3"]  # K4's branch 99 is not in the reference
    branches = {r.customer_id: r.branch_code for r in _rows(Customer, "customer_id", "branch_code")}
    assert {k: branches[c] for k, c in customer.items()} == {"K1": "ZH01", "K2": "TI01", "K3": "GE01"}
    regions = {r.customer_id: r.value_text for r in _rows(CustomerAttribute, "customer_id", "attribute",
                                                          "value_text") if r.attribute == "region"}
    assert {k: regions[c] for k, c in customer.items()} == {"K1": "Zürich", "K2": "Ticino", "K3": "Genève"}

    balances = {(r.account_no, r.balance_date): (r.balance, r.balance_cny, r.customer_id)
                for r in _rows(BalanceSnapshot, "account_no", "balance_date", "balance", "balance_cny",
                               "customer_id")}
    day = date(2026, 6, 30)
    assert balances == {
        ("CH-1001", day): (Decimal("12500.00"), Decimal("100640.00"), customer["K1"]),  # CHF at 8.0512
        ("CH-1002", day): (Decimal("3000.50"), Decimal("23052.84"), customer["K1"]),  # EUR at 7.6830
        ("CH-2001", day): (Decimal("250.00"), Decimal("2012.80"), customer["K2"]),
        ("CH-3001", day): (Decimal("1000.00"), Decimal("7187.50"), customer["K3"]),  # USD at 7.1875
        ("CH-3002", day): (Decimal("8888.00"), Decimal("8888.00"), customer["K3"]),  # CNY: the configured rate 1
    }
    salden = result.summary["sources"]["salden"]  # type: ignore[index]
    assert salden["rows_filtered"] == 1 and salden["rows_failed"] == 1  # the intraday row; the JPY one

    from tasks.context import flow_context

    with flow_context().engine.connect() as conn:
        reasons = {(r.source, r.row_number): r.failures for r in conn.execute(
            select(QuarantinedRow.source, QuarantinedRow.row_number, QuarantinedRow.failures))}
    assert {(f["rule"], f["column"]) for f in reasons["kunden", 4]} == {("reference_known", "filiale")}
    from lifecycle.integration.quarantine import list_rows

    ctx = flow_context()
    with ctx.engine.connect() as conn:
        shown = list_rows(conn, ctx.keystore, ctx.keyring, ctx.sources, source="kunden")
    (row,) = shown["row"]
    assert row["filiale"] == "99" and row["vorname"] != "Urs" and "Urs" not in str(row)  # input-only PII masked
    assert {(f["rule"], f["column"]) for f in reasons["salden", 7]} == {("required", "balance_cny")}
    assert len(reasons) == 2


def test_erasing_a_customer_deletes_their_extra_attributes(onboard: Callable[[str], DayResult]) -> None:
    from datetime import datetime

    from lifecycle.protection.erasure import erase_customer
    from tasks.context import flow_context

    onboard("eurochurn")
    customer = _customers_by_key("churn_customers")
    ref = {r.customer_id: r.customer_ref for r in _rows(Customer, "customer_id", "customer_ref")}
    ctx = flow_context()
    erase_customer(ctx.engine, ctx.keystore, ref[customer["80010002"]], "dpo", "ticket 42", datetime(2026, 7, 1))
    owners = {r.customer_id for r in _rows(CustomerAttribute, "customer_id")}
    assert customer["80010002"] not in owners and len(owners) == 5


def test_a_row_released_after_its_reference_is_fixed_is_joined_again(onboard: Callable[[str], DayResult],
                                                                     tmp_path: Path) -> None:
    from datetime import datetime, timedelta

    from lifecycle.integration import quarantine
    from tasks.context import flow_context

    onboard("alpenbank")
    ctx = flow_context()
    with ctx.engine.begin() as conn:
        (row_id,) = conn.execute(select(QuarantinedRow.id).where(QuarantinedRow.source == "kunden")).scalars()
        quarantine.release(conn, [row_id], actor="steward", note="branch 99 opened", now=datetime(2026, 7, 1, 9))
    day1, day2 = tmp_path / "landing" / "2026-06-30", tmp_path / "landing" / "2026-07-01"
    shutil.copytree(day1, day2)
    (day2 / "filialen.csv").write_text((day1 / "filialen.csv").read_text(encoding="utf-8") + "99;BE01;Bern\n",
                                       encoding="utf-8")
    lines = (day1 / "kunden.csv").read_text(encoding="utf-8").splitlines()
    (day2 / "kunden.csv").write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")  # only K1 changed today
    result = run_day(ctx, AS_OF + timedelta(days=1))
    assert str(result.status) == "succeeded"
    customer = _customers_by_key("kunden")
    assert "K4" in customer  # the released row, joined with today's reference
    branches = {r.customer_id: r.branch_code for r in _rows(Customer, "customer_id", "branch_code")}
    regions = {r.customer_id: r.value_text for r in _rows(CustomerAttribute, "customer_id", "attribute",
                                                          "value_text") if r.attribute == "region"}
    assert branches[customer["K4"]] == "BE01" and regions[customer["K4"]] == "Bern"
