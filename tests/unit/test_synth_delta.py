"""Delta mode: only the touched share of the same population, all dated on the as-of day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from lifecycle.synth import SynthConfig, generate
from lifecycle.synth.reading import read_extract, read_truth

DAY = dt.date(2025, 6, 30)
NEXT = DAY + dt.timedelta(days=1)
SHARE = 0.05
N = 1200


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("full")
    generate(SynthConfig(customers=N, seed=9, as_of=DAY, out=out, txns_per_customer=6))
    return out


@pytest.fixture(scope="module")
def delta(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("delta")
    generate(SynthConfig(customers=N, seed=9, as_of=NEXT, out=out, txns_per_customer=6, delta_fraction=SHARE))
    return out


@pytest.fixture(scope="module")
def owner(delta: Path) -> pd.Series:
    ids = read_truth(delta, "identities")
    return ids.set_index("source_key")["person_id"]


@pytest.fixture(scope="module")
def touched(delta: Path) -> set[str]:
    return set(read_truth(delta, "touched")["person_id"])


def test_delta_touches_about_the_requested_share(touched: set[str]) -> None:
    assert len(touched) == round(SHARE * N)


def test_every_delta_row_belongs_to_a_touched_customer(delta: Path, full: Path, owner: pd.Series,
                                                       touched: set[str]) -> None:
    account_owner = pd.concat([read_extract(full, "accounts"), read_extract(delta, "accounts")]) \
        .drop_duplicates("account_no").set_index("account_no")["cust_no"]
    card_owner = read_extract(full, "card_customers").set_index("CARD_NO")["CARD_CUST_ID"]
    owners = {
        "core_customers": read_extract(delta, "core_customers")["cust_no"],
        "core_corporates": read_extract(delta, "core_corporates")["corp_no"],
        "card_customers": read_extract(delta, "card_customers")["CARD_CUST_ID"],
        "accounts": read_extract(delta, "accounts")["cust_no"],
        "balances": read_extract(delta, "balances")["account_no"].map(account_owner),
        "transactions": read_extract(delta, "transactions")["account_no"].map(account_owner),
        "card_transactions": read_extract(delta, "card_transactions")["CARD_NO"].map(card_owner),
        "loans": read_extract(delta, "loans")["borrower_id"],
        "digital_activity": read_extract(delta, "digital_activity")["cust_no"],
        "feedback": read_extract(delta, "feedback")["cust_no"],
    }
    for source, keys in owners.items():
        people = set(keys.map(owner))
        assert people <= touched, source
    assert len(read_extract(delta, "relationship_managers")) == 0
    assert len(set(owners["core_customers"].map(owner)) | set(owners["core_corporates"].map(owner))
               | set(owners["card_customers"].map(owner))) == len(touched)


def test_delta_master_rows_are_the_previous_day_customers_updated_today(delta: Path, full: Path) -> None:
    before = read_extract(full, "core_customers").set_index("cust_no")
    after = read_extract(delta, "core_customers").set_index("cust_no")
    assert len(after) and set(after.index) <= set(before.index)
    for column in ("id_no", "cust_name", "mobile", "birth_date", "open_date"):
        assert (after[column] == before.loc[after.index, column]).all(), column
    assert after["updated_at"].str.startswith(NEXT.isoformat()).all()
    assert (after["address"] != before.loc[after.index, "address"]).any()
    card_before = read_extract(full, "card_customers").set_index("CARD_CUST_ID")
    card_after = read_extract(delta, "card_customers").set_index("CARD_CUST_ID")
    assert (card_after["CERT_NO"] == card_before.loc[card_after.index, "CERT_NO"]).all()
    assert card_after["UPD_TS"].str.startswith(NEXT.strftime("%Y%m%d")).all()


def test_delta_accounts_are_opened_or_closed_today_and_balances_are_dated_as_of(delta: Path, full: Path) -> None:
    accounts = read_extract(delta, "accounts")
    existing = set(read_extract(full, "accounts")["account_no"])
    new = accounts[~accounts["account_no"].isin(existing)]
    old = accounts[accounts["account_no"].isin(existing)]
    assert len(new) and (new["open_date"] == NEXT.isoformat()).all() and (new["status"] == "ACTIVE").all()
    assert (old["status"] == "CLOSED").all() and (old["close_date"] == NEXT.isoformat()).all()
    balances = read_extract(delta, "balances")
    assert (balances["balance_date"] == NEXT.isoformat()).all() and balances["account_no"].is_unique
    assert set(accounts["account_no"]) <= set(balances["account_no"])
    closed_today = balances[balances["account_no"].isin(old["account_no"])]
    assert (closed_today["balance_cny"].astype(float) == 0).all()


def test_delta_events_all_happen_on_the_as_of_day_with_fresh_ids(delta: Path, full: Path) -> None:
    columns = {"transactions": ("txn_time", "%Y-%m-%d", "txn_id"),
               "card_transactions": ("TXN_TS", "%Y%m%d", "TXN_REF"),
               "digital_activity": ("event_time", "%Y-%m-%d", "event_id"),
               "feedback": ("feedback_date", "%Y-%m-%d", "feedback_id")}
    for source, (column, fmt, key) in columns.items():
        frame = read_extract(delta, source)
        assert len(frame), source
        assert frame[column].str.startswith(NEXT.strftime(fmt)).all(), source
        assert frame[key].is_unique and not set(frame[key]) & set(read_extract(full, source)[key]), source


def test_delta_loans_are_existing_loans_moved_on_by_a_day(delta: Path, full: Path) -> None:
    before = read_extract(full, "loans").set_index("loan_no")
    after = read_extract(delta, "loans").set_index("loan_no")
    assert len(after) and set(after.index) <= set(before.index)
    prev = before.loc[after.index]
    assert (after["outstanding"].astype(float) <= prev["outstanding"].astype(float)).all()
    overdue = prev["overdue_days"].astype(int) > 0
    assert (after.loc[overdue, "overdue_days"].astype(int) == prev.loc[overdue, "overdue_days"].astype(int) + 1).all()


def test_delta_truth_keeps_the_population_and_updates_aum_of_touched_customers(
    delta: Path, full: Path, touched: set[str]
) -> None:
    before = read_truth(full, "customers").set_index("person_id")
    after = read_truth(delta, "customers").set_index("person_id")
    assert list(before.index) == list(after.index)
    assert (before["persona_stage"] == after["persona_stage"]).all()
    changed = set(after.index[after["aum_as_of"] != before["aum_as_of"]])
    assert changed and changed <= touched
    assert read_truth(delta, "identities").equals(read_truth(full, "identities"))
