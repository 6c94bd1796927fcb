"""Identifier builders of the synthetic data generator, with python-stdnum as the oracle."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.cn import ric, uscc

from lifecycle.synth.formatting import digits_matrix, fen_to_decimal, format_datetimes, prefixed_numbers
from lifecycle.synth.ids import (
    CARD_BINS,
    area_table,
    build_card_numbers,
    build_ric,
    build_uscc,
    draw_area_codes,
    mobile_strings,
    ric_check_chars,
    ric_digits,
    unique_mobiles,
    unique_ric_keys,
)
from lifecycle.synth.rng import affine_permutation, quota_labels, stream

MOBILE = re.compile(r"^1[3-9]\d{9}$")


@settings(max_examples=40, deadline=None)
@given(year=st.integers(1930, 2015), seed=st.integers(0, 2**31))
def test_area_codes_drawn_for_a_birth_year_pass_stdnum_for_that_year(year: int, seed: int) -> None:
    rng = stream(seed, "test")
    years = np.full(300, year, dtype=np.int64)
    area = draw_area_codes(rng, years, (31, 33))
    birth = np.full(300, year * 10000 + 101, dtype=np.int64)
    ids = build_ric(area, birth, np.arange(1, 301, dtype=np.int64)).to_pylist()
    assert all(ric.is_valid(i) for i in ids)


def test_area_table_is_read_from_stdnum_and_has_time_limited_codes() -> None:
    table = area_table()
    assert len(table.codes) > 3000
    assert (table.last_year < 9999).any() and (table.first_year > 0).any()
    assert not (table.codes % 100 == 0).any()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=17, max_size=17))
def test_ric_check_character_matches_stdnum(body: list[int]) -> None:
    matrix = np.array([[48 + d for d in body]], dtype=np.uint8)
    expected = ric.calc_check_digit("".join(map(str, body)) + "0")
    assert chr(ric_check_chars(matrix)[0]) == expected


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_generated_ids_are_valid_unique_and_encode_gender_and_birth(seed: int) -> None:
    rng = stream(seed, "ids")
    n = 3000
    years = rng.integers(1940, 2006, n)
    birth = years * 10000 + rng.integers(1, 13, n) * 100 + rng.integers(1, 29, n)
    male = rng.random(n) < 0.5
    area = draw_area_codes(rng, years, (11,))
    seq = unique_ric_keys(rng, area, birth, male)
    ids = build_ric(area, birth, seq).to_pylist()
    assert len(set(ids)) == n
    for value, is_male, b in zip(ids[:300], male[:300], birth[:300], strict=True):
        ric.validate(value)
        assert (int(value[14:17]) % 2 == 1) == bool(is_male)
        assert ric.get_birth_date(value) == dt.date(int(b) // 10000, int(b) // 100 % 100, int(b) % 100)
    assert ric_digits(area[:1], birth[:1], seq[:1]).shape == (1, 17)


def test_uscc_codes_pass_stdnum_and_carry_a_valid_organisation_code() -> None:
    rng = stream(5, "uscc")
    codes = build_uscc(rng, np.full(2000, 330106, dtype=np.int64)).to_pylist()
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    for code in codes:
        uscc.validate(code)
        org = code[8:17]
        values = [int(c) if c.isdigit() else ord(c) - 55 for c in org[:8]]
        check = 11 - sum(v * w for v, w in zip(values, weights, strict=True)) % 11
        assert org[8] == {10: "X", 11: "0"}.get(check, str(check))
    assert len(set(codes)) > 1990


def test_card_numbers_are_luhn_valid_unique_and_on_bank_bins() -> None:
    cards = build_card_numbers(stream(1, "cards"), np.arange(20_000, dtype=np.int64)).to_pylist()
    assert len(set(cards)) == len(cards)
    assert all(len(c) == 16 and luhn.is_valid(c) for c in cards)
    assert {int(c[:6]) for c in cards} <= set(CARD_BINS.tolist())


def test_mobiles_are_distinct_mainland_numbers() -> None:
    mobiles = mobile_strings(unique_mobiles(stream(1, "m"), np.arange(50_000, dtype=np.int64))).to_pylist()
    assert len(set(mobiles)) == 50_000
    assert all(MOBILE.match(m) for m in mobiles)


def test_affine_permutation_is_a_bijection_on_small_modulus() -> None:
    out = affine_permutation(stream(2, "p"), np.arange(1000), 1000)
    assert sorted(out.tolist()) == list(range(1000))


def test_quota_labels_give_every_label_even_for_small_populations() -> None:
    labels = quota_labels(stream(1, "q"), 30, (0.9, 0.09, 0.01), min_each=1)
    assert sorted(set(labels.tolist())) == [0, 1, 2]
    assert len(labels) == 30


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2099, 12, 31)), min_size=1,
             max_size=30),
    st.sampled_from(["%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S"]),
)
def test_format_datetimes_matches_strftime(values: list[dt.datetime], fmt: str) -> None:
    arr = np.array([v.replace(microsecond=0) for v in values], dtype="datetime64[s]")
    expected = [v.replace(microsecond=0).strftime(fmt) for v in values]
    assert format_datetimes(arr, fmt).to_pylist() == expected


def test_format_datetimes_renders_nat_as_null_and_literal_digits_for_impossible_dates() -> None:
    arr = np.array(["2023-02-01", "NaT"], dtype="datetime64[D]")
    assert format_datetimes(arr, "%Y-02-30").to_pylist() == ["2023-02-30", None]


def test_digits_prefixes_and_decimals_are_exact() -> None:
    assert digits_matrix([7, 1234567], 9).tobytes() == b"000000007001234567"
    assert prefixed_numbers("T", [1, 42], 5).to_pylist() == ["T00001", "T00042"]
    dec = fen_to_decimal([1, -250, 123456789])
    assert pc.cast(dec, pa.string()).to_pylist() == ["0.01", "-2.50", "1234567.89"]
