"""The generator's landing files honour the sources contract (names, columns, formats, encodings)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from stdnum import luhn
from stdnum.cn import ric, uscc

from lifecycle.synth import SynthConfig, generate
from lifecycle.synth.config import load_sources
from lifecycle.synth.reading import landing_path, read_extract

AS_OF = dt.date(2025, 6, 15)
MOBILE = re.compile(r"^1[3-9]\d{9}$")
SOURCES = load_sources()


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bank")
    generate(SynthConfig(customers=1500, seed=11, as_of=AS_OF, out=out, txns_per_customer=8))
    return out


def normalise_mobile(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


def test_every_source_file_exists_with_the_configured_columns_in_order(bank: Path) -> None:
    for name, spec in SOURCES.items():
        path = bank / "landing" / spec.relative_path(AS_OF)
        assert path.exists(), name
        header = path.read_bytes().split(b"\n", 1)[0].decode("ascii")
        assert header.split(",") == list(spec.column_names), name


def test_card_files_are_gbk_and_every_other_file_is_utf8(bank: Path) -> None:
    for name, spec in SOURCES.items():
        raw = (bank / "landing" / spec.relative_path(AS_OF)).read_bytes()
        if spec.encoding == "gbk":
            text = raw.decode("gbk")
            assert re.search(r"[\u4e00-\u9fff]", text), name
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
        else:
            raw.decode("utf-8")


def test_rows_parse_as_csv_with_one_field_per_column(bank: Path) -> None:
    for name, spec in SOURCES.items():
        path, encoding = landing_path(bank, name)
        rows = list(csv.reader(io.StringIO(path.read_text(encoding=encoding))))
        assert {len(r) for r in rows} == {len(spec.columns)}, name
        assert len(rows) > 1 or name == "relationship_managers"


def test_dates_follow_the_configured_format_and_are_not_after_as_of(bank: Path) -> None:
    future_allowed = {("loans", "maturity_date")}
    for name, spec in SOURCES.items():
        frame = read_extract(bank, name)
        for col in spec.columns:
            if col.type not in ("date", "datetime"):
                continue
            values = frame[col.name][frame[col.name] != ""]
            parsed = pd.to_datetime(values, format=col.formats[0], errors="coerce")
            assert parsed.notna().all(), (name, col.name)
            if (name, col.name) not in future_allowed:
                assert (parsed < pd.Timestamp(AS_OF + dt.timedelta(days=1))).all(), (name, col.name)


def test_every_resident_id_passes_stdnum_and_agrees_with_birth_date_and_gender(bank: Path) -> None:
    core = read_extract(bank, "core_customers")
    assert (core["id_type"] == "01").all()
    for id_no, birth, gender in zip(core["id_no"], core["birth_date"], core["gender"], strict=True):
        ric.validate(id_no)
        assert ric.get_birth_date(id_no).isoformat() == birth
        assert ("M" if int(id_no[16]) % 2 else "F") == gender
    card = read_extract(bank, "card_customers")
    with_cert = card[card["CERT_NO"] != ""]
    for cert, birth in zip(with_cert["CERT_NO"], with_cert["BIRTH_DT"], strict=True):
        ric.validate(cert)
        assert ric.get_birth_date(cert).strftime("%Y%m%d") == birth


def test_card_system_writes_lower_case_x_and_core_upper_case(bank: Path) -> None:
    card = read_extract(bank, "card_customers")["CERT_NO"]
    core = read_extract(bank, "core_customers")["id_no"]
    assert card.str.endswith("x").any() and not card.str.endswith("X").any()
    assert core.str.endswith("X").any() and not core.str.endswith("x").any()


def test_every_uscc_passes_stdnum(bank: Path) -> None:
    corp = read_extract(bank, "core_corporates")
    assert len(corp) > 50
    assert all(uscc.is_valid(code) for code in corp["uscc"])


def test_card_numbers_are_luhn_valid_and_one_per_card_customer(bank: Path) -> None:
    card = read_extract(bank, "card_customers")
    assert card["CARD_NO"].is_unique and card["CARD_CUST_ID"].is_unique
    assert all(len(c) == 16 and luhn.is_valid(c) for c in card["CARD_NO"])


def test_core_mobiles_are_clean_and_card_mobile_variants_normalise_to_mainland_numbers(bank: Path) -> None:
    core = read_extract(bank, "core_customers")
    primary = core[~core["id_no"].duplicated(keep=False)]
    assert primary["mobile"].str.match(MOBILE).all()
    card = read_extract(bank, "card_customers")["MOBILE_NO"]
    assert card.str.startswith("+86 ").any() and card.str.contains("-").any()
    assert card.map(normalise_mobile).str.match(MOBILE).all()
    corp = read_extract(bank, "core_corporates")["contact_mobile"]
    assert corp.str.match(MOBILE).all()


def test_card_names_sometimes_carry_spaces_or_full_width_spaces(bank: Path) -> None:
    names = read_extract(bank, "card_customers")["CUST_NM"]
    assert names.str.contains(" ").any() and names.str.contains("\u3000").any()
    assert names.str.strip().str.replace(r"[\s\u3000]", "", regex=True).str.len().between(2, 3).all()


def test_amounts_use_the_configured_units(bank: Path) -> None:
    assert read_extract(bank, "card_customers")["CREDIT_LIMIT"].str.fullmatch(r"\d+").all()
    assert read_extract(bank, "card_transactions")["AMT_FEN"].str.fullmatch(r"\d+").all()
    assert read_extract(bank, "transactions")["amount"].str.fullmatch(r"\d+\.\d{2}").all()
    balances = read_extract(bank, "balances")
    assert balances["balance_cny"].str.fullmatch(r"\d+\.\d{2}").all()


def test_foreign_currency_balances_are_converted_to_cny(bank: Path) -> None:
    accounts = read_extract(bank, "accounts").set_index("account_no")
    balances = read_extract(bank, "balances")
    cur = balances["account_no"].map(accounts["currency"])
    assert (cur != "CNY").any()
    rate = cur.map({"CNY": Decimal("1"), "USD": Decimal("7.10"), "HKD": Decimal("0.91"), "EUR": Decimal("7.75")})
    native = balances["balance"].map(Decimal)
    cny = balances["balance_cny"].map(Decimal)
    assert ((native * rate - cny).abs() <= Decimal("0.01")).all()


def test_every_reference_points_at_an_existing_record(bank: Path) -> None:
    customers = set(read_extract(bank, "core_customers")["cust_no"]) | set(
        read_extract(bank, "core_corporates")["corp_no"])
    accounts = read_extract(bank, "accounts")
    assert set(accounts["cust_no"]) <= customers
    assert set(read_extract(bank, "balances")["account_no"]) == set(accounts["account_no"])
    assert set(read_extract(bank, "transactions")["account_no"]) <= set(accounts["account_no"])
    assert set(read_extract(bank, "card_transactions")["CARD_NO"]) <= set(
        read_extract(bank, "card_customers")["CARD_NO"])
    assert set(read_extract(bank, "loans")["borrower_id"]) <= customers
    assert set(read_extract(bank, "digital_activity")["cust_no"]) <= customers
    assert set(read_extract(bank, "feedback")["cust_no"]) <= customers
    rms = read_extract(bank, "relationship_managers")
    assert set(read_extract(bank, "core_customers")["rm_id"]) <= set(rms["rm_id"])


def test_balances_hold_six_month_ends_and_the_as_of_date_for_every_account(bank: Path) -> None:
    balances = read_extract(bank, "balances")
    dates = sorted(balances["balance_date"].unique())
    assert len(dates) == 7 and dates[-1] == AS_OF.isoformat()
    assert dates[:6] == ["2024-12-31", "2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31"]
    at_as_of = balances[balances["balance_date"] == AS_OF.isoformat()]
    assert at_as_of["account_no"].is_unique
    assert set(at_as_of["account_no"]) == set(read_extract(bank, "accounts")["account_no"])


def test_customer_mix_is_mostly_individuals_with_a_third_holding_cards(bank: Path) -> None:
    truth = pd.read_csv(bank / "truth" / "customers.csv", dtype=str)
    corporate_share = (truth["customer_type"] == "corporate").mean()
    assert 0.04 <= corporate_share <= 0.06
    identities = pd.read_csv(bank / "truth" / "identities.csv", dtype=str)
    card_people = set(identities.loc[identities["source"] == "card_customers", "person_id"])
    core_people = set(identities.loc[identities["source"] == "core_customers", "person_id"])
    individuals = (truth["customer_type"] == "individual").sum()
    assert 0.30 <= len(card_people) / individuals <= 0.40
    assert 0.75 <= len(card_people & core_people) / len(card_people) <= 0.85


def test_transactions_span_more_than_twelve_months_with_cross_border_countries(bank: Path) -> None:
    txns = read_extract(bank, "transactions")
    times = pd.to_datetime(txns["txn_time"])
    assert times.min() < pd.Timestamp(AS_OF) - pd.Timedelta(days=365)
    xb = txns["txn_type"].isin(["XB_IN", "XB_OUT"])
    assert (txns.loc[~xb, "counterparty_country"] == "CN").all()
    assert txns.loc[xb, "counterparty_country"].str.fullmatch(r"[A-Z]{2}").all()
    assert (txns.loc[xb, "counterparty_country"] != "CN").all()


def test_relationship_managers_cover_about_one_per_500_customers(bank: Path) -> None:
    rms = read_extract(bank, "relationship_managers")
    assert len(rms) == 5
    assert (rms["notify_tag"] == "rm-" + rms["rm_id"]).all()
