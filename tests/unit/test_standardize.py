"""Standardisation turns each source's formats into canonical values."""

from __future__ import annotations

from datetime import date

import pandas as pd

from lifecycle.integration.sources import load_sources
from lifecycle.integration.standardize import (
    clean_mobile,
    clean_name,
    clean_upper,
    parse_dates,
    per_distinct,
    standardize,
)

AS_OF = date(2026, 6, 30)


def test_mobile_loses_country_code_spaces_and_dashes_but_keeps_letters() -> None:
    raw = pd.Series(["+86 138-1234-5678", "8613812345678", "0086 13812345678", "138 1234 567a", None, " "])
    assert clean_mobile(raw).tolist() == ["13812345678", "13812345678", "13812345678", "1381234567a", None, None]


def test_name_is_half_width_without_spaces_between_chinese_characters() -> None:
    raw = pd.Series(["  张　三 ", "ＬＩ  Ｍｉｎｇ", "欧阳 娜娜", "阿依古丽·买买提"])
    assert clean_name(raw).tolist() == ["张三", "LI Ming", "欧阳娜娜", "阿依古丽·买买提"]


def test_dates_try_each_format_and_flag_impossible_ones() -> None:
    parsed, ok = parse_dates(pd.Series(["2023-02-28", "2023/03/01", "2023-02-30", None]), ["%Y-%m-%d", "%Y/%m/%d"])
    assert parsed.dt.strftime("%Y-%m-%d").tolist()[:2] == ["2023-02-28", "2023-03-01"]
    assert parsed.isna().tolist() == [False, False, True, True]
    assert ok.tolist() == [True, True, False, None]


def test_card_source_maps_to_canonical_columns_units_and_codes() -> None:
    spec = load_sources()["card_customers"]
    raw = pd.DataFrame({"row_id": [1], "CARD_CUST_ID": ["K1"], "CUST_NM": ["王 伟"], "CERT_NO": ["11010519491231002x"],
                        "MOBILE_NO": ["138-1234-5678"], "BIRTH_DT": ["19491231"], "EMAIL_ADDR": ["W@X.CN"],
                        "CARD_NO": ["6228 4804 0256 4890 018"], "CARD_PRODUCT": ["GOLD"], "CREDIT_LIMIT": ["1234500"],
                        "CARD_OPEN_DT": ["2020/01/02"], "CARD_STATUS": ["F"], "UPD_TS": ["20260101083000"]})
    row = standardize(raw, spec, AS_OF).iloc[0]
    assert (row["source_key"], row["name"], row["id_no"], row["mobile"]) == ("K1", "王伟", "11010519491231002X",
                                                                            "13812345678")
    assert row["credit_limit"] == 12345.0  # fen -> yuan
    assert row["card_status"] == "FROZEN"
    assert row["card_no"] == "6228480402564890018"
    assert row["chk_id_no_checksum"] is True and row["chk_id_no_birth_date"] is True


def test_future_birth_date_and_unknown_code_are_flagged_not_raised() -> None:
    spec = load_sources()["core_customers"]
    columns = {c: [None] for c in spec.columns}
    columns.update(cust_no=["C1"], cust_name=["李四"], birth_date=["2030-01-01"], gender=["Q"],
                   open_date=["2020-01-01"])
    frame = standardize(pd.DataFrame({"row_id": [7], **columns}), spec, AS_OF)
    assert frame.loc[0, "chk_not_future__birth_date"] is False
    assert frame.loc[0, "gender"] == "Q"  # kept for the value-set rule to catch


def test_cleaning_per_distinct_value_equals_cleaning_every_value() -> None:
    values = pd.Series(["  CNY ", "ｕｓｄ", None, "CNY", "", "hkd"] * 50, dtype="str")
    calls: list[int] = []

    def counted(v: pd.Series) -> pd.Series:
        calls.append(len(v))
        return clean_upper(v)

    spread = per_distinct(values, counted)
    assert spread.tolist() == clean_upper(values).tolist()
    assert calls == [5]  # once, over the five distinct present values
    assert spread.index.equals(values.index) and spread.dtype == object
    many = pd.Series([f"t{i}" for i in range(100)], dtype="str")
    assert per_distinct(many, counted).tolist() == clean_upper(many).tolist() and calls[-1] == 100  # direct
