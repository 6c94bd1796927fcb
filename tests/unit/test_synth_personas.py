"""Planted personas, tiers, risks and identities are visible in the generated extracts."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lifecycle.synth import SynthConfig, generate
from lifecycle.synth.reading import read_extract, read_truth

AS_OF = dt.date(2025, 6, 30)
TODAY = pd.Timestamp(AS_OF)
CUSTOMER_INITIATED = {"CASH_DEP", "CASH_WDL", "TRF_IN", "TRF_OUT", "SALARY", "PAYMENT", "XB_IN", "XB_OUT"}


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bank")
    generate(SynthConfig(customers=2000, seed=23, as_of=AS_OF, out=out, txns_per_customer=12))
    return out


@pytest.fixture(scope="module")
def truth(bank: Path) -> pd.DataFrame:
    return read_truth(bank, "customers").set_index("person_id")


@pytest.fixture(scope="module")
def owner(bank: Path) -> pd.Series:
    """source_key -> person_id for core customers and corporates."""
    ids = read_truth(bank, "identities")
    core = ids[ids["source"].isin(["core_customers", "core_corporates"])]
    return core.set_index("source_key")["person_id"]


@pytest.fixture(scope="module")
def balances(bank: Path, owner: pd.Series) -> pd.DataFrame:
    accounts = read_extract(bank, "accounts")
    frame = read_extract(bank, "balances").merge(accounts[["account_no", "cust_no"]], on="account_no")
    frame["person_id"] = frame["cust_no"].map(owner)
    frame["cny"] = frame["balance_cny"].astype(float)
    return frame


@pytest.fixture(scope="module")
def aum(balances: pd.DataFrame) -> pd.DataFrame:
    """AUM per person (rows) and snapshot date (columns)."""
    return balances.pivot_table(index="person_id", columns="balance_date", values="cny", aggfunc="sum")


@pytest.fixture(scope="module")
def txns(bank: Path, owner: pd.Series) -> pd.DataFrame:
    accounts = read_extract(bank, "accounts").set_index("account_no")["cust_no"]
    frame = read_extract(bank, "transactions")
    frame["person_id"] = frame["account_no"].map(accounts).map(owner)
    frame["time"] = pd.to_datetime(frame["txn_time"])
    frame["amount_cny"] = frame["amount"].astype(float)
    return frame


def persons(truth: pd.DataFrame, stage: str) -> pd.Index:
    return truth.index[truth["persona_stage"] == stage]


def test_every_persona_value_tier_and_risk_level_is_planted(truth: pd.DataFrame) -> None:
    assert set(truth["persona_stage"]) == {"new", "growing", "mature", "declining", "dormant", "churned"}
    assert set(truth["value_tier"]) == {"mass", "affluent", "high_value", "private"}
    assert 0 < (truth["value_tier"] == "private").mean() <= 0.02
    assert set(truth["credit_risk"]) == {"low", "high"} and set(truth["aml_risk"]) == {"low", "high"}


def test_truth_aum_is_the_sum_of_balance_cny_at_as_of_and_sets_the_tier(truth: pd.DataFrame, aum: pd.DataFrame) -> None:
    at = aum[AS_OF.isoformat()].reindex(truth.index).fillna(0.0)
    assert np.allclose(at.to_numpy(), truth["aum_as_of"].astype(float).to_numpy(), atol=0.005)
    tier = pd.cut(at, [-1, 50_000 - 0.001, 500_000 - 0.001, 6_000_000 - 0.001, np.inf],
                  labels=["mass", "affluent", "high_value", "private"]).astype(str)
    assert (tier == truth["value_tier"]).all()


def test_new_customers_opened_within_90_days(bank: Path, truth: pd.DataFrame, owner: pd.Series) -> None:
    core = read_extract(bank, "core_customers")
    opened = pd.to_datetime(core["open_date"]).groupby(core["cust_no"].map(owner)).min()
    new = persons(truth, "new").intersection(opened.index)
    assert len(new) > 20
    assert ((TODAY - opened[new]).dt.days <= 90).all()
    others = opened.index.difference(persons(truth, "new"))
    assert ((TODAY - opened[others]).dt.days > 90).all()


def test_growing_customers_aum_rises_every_month(truth: pd.DataFrame, aum: pd.DataFrame) -> None:
    growing = aum.loc[persons(truth, "growing").intersection(aum.index)]
    assert len(growing) > 50
    assert (growing.diff(axis=1).iloc[:, 1:] > 0).all().all()
    assert (growing.iloc[:, -1] / growing.iloc[:, 0] >= 1.5).all()


def test_declining_customers_aum_fell_at_least_30_percent_in_90_days(truth: pd.DataFrame, aum: pd.DataFrame) -> None:
    declining = aum.loc[persons(truth, "declining").intersection(aum.index)]
    before = [c for c in aum.columns if pd.Timestamp(c) <= TODAY - pd.Timedelta(days=90)][-1]
    drop = 1 - declining[AS_OF.isoformat()] / declining[before]
    assert len(declining) > 50 and (drop >= 0.30).all()
    stable = aum.loc[persons(truth, "mature").intersection(aum.index)]
    assert ((1 - stable[AS_OF.isoformat()] / stable[before]).abs() < 0.15).mean() > 0.95


def test_declining_customers_transact_less_in_the_last_90_days(truth: pd.DataFrame, txns: pd.DataFrame) -> None:
    def recent_share(stage: str) -> float:
        mine = txns[txns["person_id"].isin(persons(truth, stage))]
        return float((mine["time"] > TODAY - pd.Timedelta(days=90)).mean())

    assert recent_share("declining") < 0.7 * recent_share("mature")


def test_churned_customers_closed_every_account_and_hold_nothing(
    bank: Path, truth: pd.DataFrame, owner: pd.Series, aum: pd.DataFrame
) -> None:
    accounts = read_extract(bank, "accounts")
    accounts["person_id"] = accounts["cust_no"].map(owner)
    churned = accounts[accounts["person_id"].isin(persons(truth, "churned"))]
    assert len(churned) > 50
    assert (churned["status"] == "CLOSED").all() and (churned["close_date"] != "").all()
    assert (aum.loc[churned["person_id"].unique(), AS_OF.isoformat()] == 0).all()
    others = accounts[~accounts["person_id"].isin(persons(truth, "churned"))]
    assert (others.groupby("person_id")["status"].apply(lambda s: (s != "CLOSED").any())).all()


def test_dormant_customers_did_nothing_for_180_days_and_hold_little(
    bank: Path, truth: pd.DataFrame, txns: pd.DataFrame, owner: pd.Series, aum: pd.DataFrame
) -> None:
    cutoff = TODAY - pd.Timedelta(days=180)
    dormant = persons(truth, "dormant")
    mine = txns[txns["person_id"].isin(dormant)]
    assert (mine.loc[mine["txn_type"].isin(CUSTOMER_INITIATED), "time"] < cutoff).all()
    assert (mine.loc[mine["time"] >= cutoff, "txn_type"] == "INTEREST").all()
    events = read_extract(bank, "digital_activity")
    events = events[events["cust_no"].map(owner).isin(dormant)]
    assert (pd.to_datetime(events["event_time"]) < cutoff).all()
    ids = read_truth(bank, "identities")
    cards = set(ids.loc[(ids["source"] == "card_customers") & ids["person_id"].isin(dormant), "source_key"])
    card_no = read_extract(bank, "card_customers").set_index("CARD_CUST_ID").loc[sorted(cards), "CARD_NO"]
    spend = read_extract(bank, "card_transactions")
    spend = spend[spend["CARD_NO"].isin(set(card_no))]
    assert (pd.to_datetime(spend["TXN_TS"], format="%Y%m%d%H%M%S") < cutoff).all()
    assert (aum.loc[dormant.intersection(aum.index), AS_OF.isoformat()] < 5_000).all()


def test_active_customers_show_recent_activity(truth: pd.DataFrame, txns: pd.DataFrame) -> None:
    recent = txns[txns["time"] > TODAY - pd.Timedelta(days=90)]
    active = persons(truth, "mature").intersection(txns["person_id"].unique())
    assert recent["person_id"].isin(active).sum() > 0
    assert active.isin(recent["person_id"]).mean() > 0.8


def test_aml_high_customers_have_large_cash_days_or_frequent_cross_border(
    truth: pd.DataFrame, txns: pd.DataFrame
) -> None:
    cash = txns[txns["txn_type"].isin(["CASH_DEP", "CASH_WDL"])]
    daily = cash.groupby(["person_id", cash["time"].dt.date])["amount_cny"]
    large_days = (daily.max() >= 50_000).groupby(level=0).sum()
    recent = txns[txns["time"] > TODAY - pd.Timedelta(days=180)]
    xb = recent[recent["txn_type"].isin(["XB_IN", "XB_OUT"])].groupby("person_id").size()
    flagged = set(large_days[large_days >= 3].index) | set(xb[xb >= 12].index)
    high = set(truth.index[truth["aml_risk"] == "high"])
    assert high and high == flagged
    assert (cash[~cash["person_id"].isin(high)]["amount_cny"] < 50_000).all()


def test_credit_risk_follows_overdue_loans_and_five_class_is_consistent(
    bank: Path, truth: pd.DataFrame, owner: pd.Series
) -> None:
    loans = read_extract(bank, "loans")
    overdue = loans["overdue_days"].astype(int)
    bad = (overdue > 30) | (loans["status"] == "NPL")
    high = set(loans.loc[bad, "borrower_id"].map(owner))
    assert high == set(truth.index[truth["credit_risk"] == "high"])
    expected = np.select([overdue == 0, overdue <= 90, overdue <= 180, overdue <= 360], ["1", "2", "3", "4"], "5")
    assert (loans["five_class"] == expected).all()
    assert ((loans["status"] == "NPL") == (overdue > 90)).all()
    assert (loans.loc[loans["status"] == "CLOSED", "outstanding"].astype(float) == 0).all()
    assert (loans["max_overdue_days_12m"].astype(int) >= overdue).all()
    borrowers = loans["borrower_id"].map(owner).nunique()
    assert 0.15 <= borrowers / len(truth) <= 0.25


def test_same_person_shares_id_and_mobile_and_different_people_never_do(bank: Path) -> None:
    ids = read_truth(bank, "identities")
    core = read_extract(bank, "core_customers")[["cust_no", "id_no", "mobile", "cust_name"]]
    card = read_extract(bank, "card_customers")[["CARD_CUST_ID", "CERT_NO", "MOBILE_NO", "CUST_NM"]]
    card.columns = ["cust_no", "id_no", "mobile", "cust_name"]
    records = pd.concat([core, card]).merge(ids, left_on="cust_no", right_on="source_key")
    records["id_no"] = records["id_no"].str.upper()
    records["mobile"] = records["mobile"].map(lambda v: re.sub(r"\D", "", v)[-11:])
    with_id = records[records["id_no"] != ""]
    assert (with_id.groupby("id_no")["person_id"].nunique() == 1).all()
    assert (with_id.groupby("person_id")["id_no"].nunique() == 1).all()
    assert (records.groupby("mobile")["person_id"].nunique() == 1).all()
    names = records.assign(name=records["cust_name"].str.replace(r"[\s\u3000]", "", regex=True))
    assert (names.groupby("name")["person_id"].nunique() > 1).any()  # common names: hard negatives


def test_legacy_duplicates_and_card_records_without_cert_no_are_planted(bank: Path) -> None:
    ids = read_truth(bank, "identities")
    core = ids[ids["source"] == "core_customers"]
    corp = ids[ids["source"] == "core_corporates"]
    assert 1 <= core["person_id"].duplicated().sum() <= 0.01 * core["person_id"].nunique() + 1
    assert corp["person_id"].duplicated().sum() >= 1
    frame = read_extract(bank, "core_customers").set_index("cust_no")
    twins = core[core["person_id"].duplicated(keep=False)].groupby("person_id")["source_key"].apply(list)
    for keys in twins:
        rows = frame.loc[keys]
        assert rows["id_no"].nunique() == 1 and rows["updated_at"].nunique() == 2
    card = read_extract(bank, "card_customers")
    overlap = set(ids.loc[ids["source"] == "card_customers"].merge(core, on="person_id")["source_key_x"])
    no_cert = card[card["CARD_CUST_ID"].isin(overlap) & (card["CERT_NO"] == "")]
    assert 1 <= len(no_cert) <= 0.1 * len(overlap)
    assert (card.loc[~card["CARD_CUST_ID"].isin(overlap), "CERT_NO"] != "").all()


def test_manifest_records_rows_and_hashes_of_every_file(bank: Path) -> None:
    import hashlib

    manifest = json.loads((bank / "truth" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 23 and manifest["mode"] == "full"
    assert len([p for p in manifest["files"] if p.startswith("landing/")]) == 12
    for relative, entry in manifest["files"].items():
        data = (bank / relative).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert data.count(b"\n") - 1 == entry["rows"]
