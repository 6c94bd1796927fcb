"""Occasions computed for whole columns agree with lunardate and the holidays calendar, one date at a time."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import numpy as np
import pandas as pd
import pytest
from lunardate import LunarDate

from lifecycle.care.config import Festival
from lifecycle.care.occasions import (
    anniversaries,
    festival_dates,
    festival_on,
    lunar_birthdays,
    solar_birthdays,
)
from lifecycle.errors import ConfigError

FESTIVALS = [Festival(name="春节", holiday="春节"), Festival(name="元宵节", lunar="1-15"),
             Festival(name="端午节", holiday="端午节"), Festival(name="中秋节", holiday="中秋节"),
             Festival(name="国庆节", holiday="国庆节"), Festival(name="腊八节", lunar="12-8")]


def _lunar(day: date) -> LunarDate:
    return LunarDate.from_solar_date(day.year, day.month, day.day)


def _expected_lunar(births: pd.Series, day: date) -> np.ndarray:
    """One lunardate call per customer: the oracle for the vectorised version."""
    today, tomorrow = _lunar(day), _lunar(day + timedelta(days=1))
    out = []
    for b in births:
        if pd.isna(b) or today.is_leap_month:
            out.append(False)
            continue
        born = _lunar(b.date())
        last_of_month = tomorrow.day == 1
        out.append(born.month == today.month and (born.day == today.day or (last_of_month and born.day > today.day)))
    return np.array(out)


def test_lunar_birthdays_agree_with_lunardate_for_every_customer() -> None:
    rng = np.random.default_rng(3)
    births = pd.Series(pd.to_datetime("1925-01-01") + pd.to_timedelta(rng.integers(0, 32000, 4000), unit="D"))
    births[[5, 17]] = pd.NaT
    days = [date(2026, 1, 1) + timedelta(days=int(x)) for x in rng.integers(0, 900, 30)]
    days += [date(2026, 2, 16), date(2026, 2, 17), date(2025, 7, 24)]  # lunar New Year's eve and day, a leap month
    hits = 0
    for day in days:
        got = lunar_birthdays(births, day)
        assert (got == _expected_lunar(births, day)).all(), day
        hits += int(got.sum())
    assert hits > 100  # the comparison is not vacuous


def test_a_leap_month_birthday_is_kept_in_the_ordinary_month_and_the_30th_on_a_short_month() -> None:
    born_leap = date(1976, 10, 1)  # lunar 1976 leap 8th month, day 8
    assert _lunar(born_leap).is_leap_month
    ordinary = LunarDate(2026, 8, 8).to_solar_date()
    assert lunar_birthdays(pd.Series(pd.to_datetime([born_leap])), ordinary).tolist() == [True]
    # someone born on a 30th: in a year whose month has 29 days the birthday is on the 29th
    born_30 = next(d for d in (date(1980, 1, 1) + timedelta(days=i) for i in range(400)) if _lunar(d).day == 30)
    month = _lunar(born_30).month
    last = LunarDate(2026, month, 29).to_solar_date()
    short = _lunar(last + timedelta(days=1)).day == 1
    assert lunar_birthdays(pd.Series(pd.to_datetime([born_30])), last).tolist() == [short]


def test_solar_birthdays_and_the_29th_of_february() -> None:
    births = pd.Series(pd.to_datetime(["1990-02-28", "1992-02-29", "1985-03-01", None]))
    assert solar_birthdays(births, date(2027, 2, 28)).tolist() == [True, True, False, False]
    assert solar_birthdays(births, date(2028, 2, 28)).tolist() == [True, False, False, False]
    assert solar_birthdays(births, date(2028, 2, 29)).tolist() == [False, True, False, False]


def test_anniversaries_count_whole_years_from_the_minimum() -> None:
    opened = pd.Series(pd.to_datetime(["2025-07-01", "2026-07-01", "2010-07-01", "2010-07-02"]))
    mask, years = anniversaries(opened, date(2026, 7, 1), 1)
    assert mask.tolist() == [True, False, True, False]
    assert years[mask].tolist() == [1, 16]


@pytest.mark.parametrize("year", [2025, 2026, 2027, 2028])
def test_festivals_fall_on_the_days_the_calendars_name(year: int) -> None:
    dates = {f.name: d for f in FESTIVALS for d in festival_dates(year, [f])}
    assert _lunar(dates["春节"]) == LunarDate(year, 1, 1)
    assert _lunar(dates["元宵节"]) == LunarDate(year, 1, 15)
    assert _lunar(dates["端午节"]) == LunarDate(year, 5, 5)
    assert _lunar(dates["中秋节"]) == LunarDate(year, 8, 15)
    assert dates["国庆节"] == date(year, 10, 1)
    assert dates["腊八节"].year == year and (_lunar(dates["腊八节"]).month, _lunar(dates["腊八节"]).day) == (12, 8)
    cn = holidays.country_holidays("CN", years=year, language="zh_CN")
    assert cn.get(dates["春节"]) == "春节" and cn.get(dates["春节"] - timedelta(days=1)) != "春节"
    assert festival_on(dates["中秋节"], FESTIVALS) == Festival(name="中秋节", holiday="中秋节")  # first configured
    assert festival_on(dates["中秋节"] + timedelta(days=1), FESTIVALS) is None


def test_a_festival_the_calendar_does_not_know_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="no holiday named '圣诞节'"):
        festival_dates(2026, [Festival(name="圣诞节", holiday="圣诞节")])
