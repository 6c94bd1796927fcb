"""Display masking: surname only, mobile 3+4, ID first and last, card 6+4, email initial."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.privacy.masking import (
    mask_card,
    mask_card_series,
    mask_email,
    mask_email_series,
    mask_id_no,
    mask_id_no_series,
    mask_mobile,
    mask_mobile_series,
    mask_name,
    mask_name_series,
)

MOBILES = st.from_regex(r"\A1[3-9][0-9]{9}\Z")
ID_NUMBERS = st.from_regex(r"\A[1-9][0-9]{16}[0-9X]\Z")


@pytest.mark.parametrize(("name", "masked"), [("张三", "张*"), ("欧阳娜娜", "欧***"), ("李", "李"),
                                              (" 王小明 ", "王**"), ("", None), (None, None)])
def test_name_keeps_the_surname_character(name: str | None, masked: str | None) -> None:
    assert mask_name(name) == masked


def test_fixed_examples() -> None:
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_id_no("11010119900307451X") == "1****************X"
    assert mask_card("6222021234567890123") == "622202*********0123"
    assert mask_card("6222 0212 3456 7890") == "622202******7890"
    assert mask_email("zhang.san@example.com") == "z***@example.com"
    assert mask_email("not-an-email") == "***"


@pytest.mark.parametrize("masker", [mask_mobile, mask_id_no, mask_card, mask_email])
def test_missing_and_empty_stay_none(masker: object) -> None:
    for value in (None, "", "   "):
        assert masker(value) is None  # type: ignore[operator]


def test_too_short_values_are_fully_starred() -> None:
    assert mask_mobile("1381234") == "*******"
    assert mask_card("1234567890") == "**********"
    assert mask_id_no("1X") == "**"


@settings(deadline=None)  # timing varies on shared machines
@given(MOBILES)
def test_mobile_mask_shape(mobile: str) -> None:
    masked = mask_mobile(mobile)
    assert masked == mobile[:3] + "****" + mobile[-4:]
    assert masked is not None and masked[3:7] == "****" and len(masked) == 11


@settings(deadline=None)  # timing varies on shared machines
@given(ID_NUMBERS)
def test_id_mask_shape(id_no: str) -> None:
    masked = mask_id_no(id_no)
    assert masked is not None and len(masked) == 18
    assert masked[0] == id_no[0] and masked[-1] == id_no[-1] and set(masked[1:-1]) == {"*"}


@settings(deadline=None)  # timing varies on shared machines
@given(st.lists(st.one_of(st.none(), MOBILES, ID_NUMBERS, st.emails(), st.text(max_size=25),
                          st.text(alphabet=" -@\n0123456789a\u3000", max_size=12)), max_size=20))
def test_series_forms_agree_with_scalar_forms(values: list[str | None]) -> None:
    series = pd.Series(values, dtype=object, name="v")
    for scalar, vectorised in [(mask_name, mask_name_series), (mask_mobile, mask_mobile_series),
                               (mask_id_no, mask_id_no_series), (mask_card, mask_card_series),
                               (mask_email, mask_email_series)]:
        out = vectorised(series)
        assert out.name == "v" and list(out.index) == list(series.index)
        assert out.tolist() == [scalar(v) for v in values], scalar.__name__


def test_series_keeps_index_and_turns_na_into_none() -> None:
    series = pd.Series(["13812345678", pd.NA, "", "13912345678"], index=[5, 6, 7, 8], dtype="string")
    assert mask_mobile_series(series).to_dict() == {5: "138****5678", 6: None, 7: None, 8: "139****5678"}
    emails = pd.Series(["li@bank.cn", None, "x"], dtype="str")
    assert mask_email_series(emails).tolist() == ["l***@bank.cn", None, "***"]
