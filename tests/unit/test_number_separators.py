"""Numbers mean what the source means: its separators, plain notation, finite values.

And the stager's own row rules quarantine what no suite speaks of: ambiguous
numbers, control characters, spreadsheet formulas, fact owners two customer
files both claim.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import create_engine, insert

from lifecycle.integration.facts import OwnerIndex
from lifecycle.integration.read import hash_and_scan
from lifecycle.integration.row_rules import row_rule_failures
from lifecycle.integration.sources import ColumnSpec, ColumnType, load_sources
from lifecycle.integration.standardize import parse_number, standardize
from lifecycle.store.base import Base
from lifecycle.store.models import SourceLink

AS_OF = date(2026, 6, 30)
AMOUNT = ColumnSpec(to="amount", type=ColumnType.DECIMAL, unit="yuan")
CORPORATES = load_sources()["core_corporates"]


def _parse(values: list[str | None], decimal: str = ".", thousands: str = ",",
           spec: ColumnSpec = AMOUNT) -> tuple[list[object], list[object], list[object]]:
    number, valid, unambiguous = parse_number(pd.Series(values, dtype=object), spec, decimal, thousands)
    return ([None if pd.isna(v) else float(v) for v in number], valid.tolist(), unambiguous.tolist())


def test_a_decimal_comma_is_not_taken_for_a_thousands_separator() -> None:
    number, valid, unambiguous = _parse(["12,50"])
    assert number == [None] and unambiguous == [False]  # never 1250
    assert valid == [None]  # the row's rule is number_ambiguous, not number_valid


def test_grouped_thousands_read_under_the_default_separators() -> None:
    number, valid, unambiguous = _parse(["1,250", "1,234,567.5", "12.50", "-3", "+4.0"])
    assert number == [1250.0, 1234567.5, 12.5, -3.0, 4.0]
    assert valid == [True] * 5 and unambiguous == [True] * 5


def test_a_source_with_decimal_comma_reads_european_amounts() -> None:
    number, _, unambiguous = _parse(["12,50", "1.234,56", "1234"], decimal=",", thousands=".")
    assert number == [12.5, 1234.56, 1234.0] and unambiguous == [True] * 3
    number, _, unambiguous = _parse(["12.50", "1,234.56"], decimal=",", thousands=".")
    assert number == [None, None] and unambiguous == [False, False]


def test_without_grouping_a_comma_is_ambiguous() -> None:
    number, _, unambiguous = _parse(["1,250", "1250"], thousands="")
    assert number == [None, 1250.0] and unambiguous == [False, True]


@pytest.mark.parametrize("text", ["inf", "-inf", "Infinity", "1e309", "1E3", "NaN", "nan", "9" * 400, "¥12", "1 2"])
def test_non_finite_and_non_plain_numbers_are_not_valid(text: str) -> None:
    number, valid, unambiguous = _parse([text])
    assert number == [None] and valid == [False] and unambiguous == [True]


def test_full_width_digits_are_folded_before_reading() -> None:
    assert _parse(["１２３．４５"])[0] == [123.45]


def test_fen_amounts_are_divided_after_reading_and_integers_stay_whole() -> None:
    fen = ColumnSpec(to="amount", type=ColumnType.DECIMAL, unit="fen")
    assert _parse(["1,234,500"], spec=fen)[0] == [12345.0]
    whole = ColumnSpec(to="overdue_days", type=ColumnType.INTEGER)
    number, valid, _ = _parse(["3", "3.5", "1e2"], spec=whole)
    assert number == [3.0, None, None] and valid == [True, False, False]


def _corporate(**values: str | None) -> pd.DataFrame:
    columns: dict[str, list[object]] = {c: [None] for c in CORPORATES.columns}
    columns.update(corp_no=["P1"], corp_name=["Acme"], uscc=["91350100M000100Y43"], open_date=["2020-01-01"])
    columns.update({k: [v] for k, v in values.items()})
    return pd.DataFrame({"row_id": [5], **columns})


def test_an_ambiguous_amount_is_quarantined_under_number_ambiguous() -> None:
    raw = _corporate(reg_capital="12,50")
    std = standardize(raw, CORPORATES, AS_OF)
    assert pd.isna(std.loc[0, "registered_capital"])
    failures = row_rule_failures(raw, std, CORPORATES)
    assert failures[["row_id", "rule", "column"]].values.tolist() == [[5, "number_ambiguous", "registered_capital"]]


def test_an_infinite_amount_never_reaches_the_frame() -> None:
    std = standardize(_corporate(reg_capital="1e309"), CORPORATES, AS_OF)
    assert pd.isna(std.loc[0, "registered_capital"]) and std.loc[0, "chk_number_valid__registered_capital"] is False
    assert not np.isinf(std["registered_capital"].astype(float)).any()


def test_control_characters_and_formulas_are_quarantined_naming_the_column() -> None:
    raw = pd.concat([_corporate(corp_name="Acme\x00Ltd"), _corporate(corp_name="=HYPERLINK(\"x\")"),
                     _corporate(address="@SUM(A1)"), _corporate(contact_mobile="+86 13812345678"),
                     _corporate(address="-12 Long Road"), _corporate(industry_code="\x1b[31m")],
                    ignore_index=True)
    raw["row_id"] = [1, 2, 3, 4, 5, 6]
    failures = row_rule_failures(raw, standardize(raw, CORPORATES, AS_OF), CORPORATES)
    assert sorted(failures[["row_id", "rule", "column"]].values.tolist()) == [
        [1, "control_characters", "name"], [2, "formula_injection", "name"],
        [3, "formula_injection", "address"], [6, "control_characters", "industry_code"]]


def test_a_source_key_two_customer_files_share_names_no_owner() -> None:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine, tables=[SourceLink.__table__])  # type: ignore[list-item]
    rows = [("core_customers", "C1", 1), ("core_corporates", "C1", 2), ("core_customers", "C2", 3),
            ("core_customers", "C3", 4), ("card_customers", "C3", 4)]
    with engine.begin() as conn:
        conn.execute(insert(SourceLink), [{"source": s, "source_key": k, "customer_id": c, "system": "CORE",
                                           "match_rule": "new", "first_run_id": "r", "last_run_id": "r"}
                                          for s, k, c in rows])
        owners = OwnerIndex.of(conn).by_source_key(["core_customers", "core_corporates"])
        assert pd.Series(["C1", "C2"]).map(owners).tolist()[1] == 3
        assert pd.isna(pd.Series(["C1"]).map(owners)[0])  # claimed by two customers: quarantined
        both = OwnerIndex.of(conn).by_source_key(["core_customers", "card_customers"])
        assert pd.Series(["C3"]).map(both).tolist() == [4]  # the same customer in both: no ambiguity


@pytest.mark.parametrize(("row", "found"), [
    ("R1,Zhang Wei,B01,x,y,rm-R1", set()),
    ("R1,=1+1,B01,x,y,rm-R1", {"formula"}),
    ('R1," @SUM(A1)",B01,x,y,rm-R1', {"formula", "quotes"}),
    ("R1,Zhang\tWei,B01,x,y,+cmd", {"formula"}),
    ("R1,Zhang\x07Wei,B01,x,y,rm-R1", {"control"}),
    ("R1,Zhang\x00Wei,B01,x,y,rm-R1", {"control"}),
])
def test_the_byte_scan_rules_out_checks_only_when_no_value_can_fail_them(
        tmp_path: Path, row: str, found: set[str]) -> None:
    path = tmp_path / "rm.csv"
    path.write_bytes(("rm_id,rm_name,branch_code,branch_name,city,notify_tag\n" + row + "\n").encode())
    sha256, suspects = hash_and_scan(path, ",")
    assert suspects == found and sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
