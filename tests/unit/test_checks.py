"""The vectorised check characters agree with python-stdnum (the oracle)."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn as stdnum_luhn
from stdnum.cn import ric, uscc

from lifecycle.integration import checks

digits = st.text(alphabet="0123456789", min_size=17, max_size=17)


@settings(max_examples=300)
@given(st.lists(digits, min_size=1, max_size=30), st.data())
def test_ric_checksum_matches_stdnum_for_any_check_character(bodies: list[str], data: st.DataObject) -> None:
    ids = [b + data.draw(st.sampled_from("0123456789X")) for b in bodies]
    got = checks.ric_checksum(pd.Series(ids)).tolist()
    assert got == [ric.calc_check_digit(i) == i[17] for i in ids]  # stdnum takes the whole number


def test_ric_checksum_is_none_for_missing_and_misshapen_ids() -> None:
    assert checks.ric_checksum(pd.Series([None, "123", "11010519491231002Y"])).tolist() == [None, None, None]


@settings(max_examples=200)
@given(st.lists(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=18, max_size=18)
                .filter(lambda s: s[2:8].isdigit()), min_size=1, max_size=20))
def test_uscc_checksum_matches_stdnum(codes: list[str]) -> None:
    got = checks.uscc_checksum(pd.Series(codes)).tolist()
    assert got == [uscc.calc_check_digit(c[:17]) == c[17] for c in codes]


@settings(max_examples=200)
@given(st.lists(st.text(alphabet="0123456789", min_size=13, max_size=19), min_size=1, max_size=20))
def test_luhn_matches_stdnum(numbers: list[str]) -> None:
    got = checks.luhn(pd.Series(numbers)).tolist()
    assert got == [stdnum_luhn.is_valid(n) for n in numbers]


def test_id_birth_date_and_gender_consistency() -> None:
    ids = pd.Series(["11010519491231002X", "11010519491231002X", None])
    births = pd.Series(pd.to_datetime(["1949-12-31", "1950-01-01", "1949-12-31"]))
    assert checks.ric_birth_date(ids, births).tolist() == [True, False, None]
    # sequence 002 is even: female
    assert checks.ric_gender(ids, pd.Series(["F", "M", "F"])).tolist() == [True, False, None]
