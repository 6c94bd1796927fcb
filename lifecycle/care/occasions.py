"""Occasions on a date, computed for all customers at once: birthdays, festivals, anniversaries.

Every function here takes whole columns (pandas Series) and returns boolean
masks; nothing loops over customers.

* **Solar birthdays** fall on the same month and day; a 29 February birthday is
  kept on 28 February in common years.
* **Lunar birthdays** (a customer's option) fall on the same day of the same
  month of the Chinese calendar (``lunardate``). A birthday on the 30th is kept
  on the 29th in a year whose month has 29 days; a birthday in a leap month is
  kept in the ordinary month of that number, so there is one every year.
  The calendar is turned into arrays once per range of years (one
  ``lunardate`` call per lunar month), and dates are looked up by day number.
* **Festivals** come from the ``holidays`` package's China calendar, by their
  zh_CN name (the first day of the holiday: 春节 is New Year's day, not the
  eve or the days off in lieu), or from a lunar date for a festival that is not
  a public holiday (元宵节 is 1-15). Nothing is hard-coded per year. When two
  festivals share a day (中秋节 and 国庆节 in 2028) the one configured first greets.
* **Anniversaries** of the account opening: same month and day, a whole number of
  years (at least the configured minimum) after the opening date.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays
import numpy as np
import numpy.typing as npt
import pandas as pd
from lunardate import LunarDate

from lifecycle.care.config import Festival
from lifecycle.errors import ConfigError

BoolArray = npt.NDArray[np.bool_]
LUNAR_YEARS = (1900, 2099)  # the range lunardate's tables cover
_EPOCH = date(1970, 1, 1)


def _days(values: pd.Series) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Days since 1970-01-01 (0 where missing) and whether the value is known."""
    parsed = pd.to_datetime(values, errors="coerce")
    known = parsed.notna().to_numpy()
    return np.where(known, parsed.to_numpy(dtype="datetime64[D]").astype("int64"), 0), known


def _month_day(values: pd.Series) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    parsed = pd.to_datetime(values, errors="coerce")
    known = parsed.notna().to_numpy()
    return (parsed.dt.month.fillna(0).to_numpy("int64"), parsed.dt.day.fillna(0).to_numpy("int64"), known)


def same_day_of_year(values: pd.Series, day: date) -> BoolArray:
    """Dates whose month and day are ``day``'s (29 February counts on 28 February in common years)."""
    month, dom, known = _month_day(values)
    hit = (month == day.month) & (dom == day.day)
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        hit |= (month == 2) & (dom == 29)
    return hit & known


def solar_birthdays(births: pd.Series, day: date) -> BoolArray:
    return same_day_of_year(births, day)


def anniversaries(opened: pd.Series, day: date, min_years: int) -> tuple[BoolArray, npt.NDArray[np.int64]]:
    """Customers whose account-opening anniversary is ``day`` (at least ``min_years``), and the years."""
    parsed = pd.to_datetime(opened, errors="coerce")
    years = (day.year - parsed.dt.year.fillna(day.year)).to_numpy("int64")
    return same_day_of_year(opened, day) & (years >= min_years), years


@dataclass(frozen=True)
class LunarCalendar:
    """Per day number (days since 1970-01-01, from ``first``): lunar month, day, month length, leap flag."""

    first: int
    month: npt.NDArray[np.int8]
    day: npt.NDArray[np.int8]
    length: npt.NDArray[np.int8]
    leap: npt.NDArray[np.bool_]

    def index(self, days: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return days - self.first

    def covers(self, days: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        i = self.index(days)
        return (i >= 0) & (i < len(self.month))


@lru_cache(maxsize=8)
def lunar_calendar(first_year: int, last_year: int) -> LunarCalendar:
    """The lunar calendar for lunar years ``first_year``..``last_year`` as arrays (one call per lunar month)."""
    lo, hi = max(first_year, LUNAR_YEARS[0]), min(last_year, LUNAR_YEARS[1])
    starts: list[tuple[int, int, bool]] = []  # (day number of the 1st, month, leap)
    for year in range(lo, hi + 1):
        leap = LunarDate.leap_month_for_year(year)
        for month in range(1, 13):
            starts.append(((LunarDate(year, month, 1).to_solar_date() - _EPOCH).days, month, False))
            if leap == month:
                starts.append(((LunarDate(year, month, 1, True).to_solar_date() - _EPOCH).days, month, True))
    if hi < LUNAR_YEARS[1]:
        end = (LunarDate(hi + 1, 1, 1).to_solar_date() - _EPOCH).days
    else:  # the last month the tables know: assume 30 days
        end = starts[-1][0] + 30
    first = starts[0][0]
    size = end - first
    months = np.zeros(size, np.int8)
    dom = np.zeros(size, np.int8)
    length = np.zeros(size, np.int8)
    leap_flags = np.zeros(size, np.bool_)
    bounds = [s[0] for s in starts] + [end]
    for (start, m, is_leap), stop in zip(starts, bounds[1:], strict=True):
        a, b = start - first, stop - first
        months[a:b] = m
        dom[a:b] = np.arange(1, b - a + 1)
        length[a:b] = b - a
        leap_flags[a:b] = is_leap
    return LunarCalendar(first, months, dom, length, leap_flags)


def _calendar_for(days: npt.NDArray[np.int64], day: date) -> LunarCalendar:
    first = (_EPOCH + timedelta(days=int(days.min()))).year - 1 if len(days) else day.year - 1
    return lunar_calendar(max(first, LUNAR_YEARS[0]), min(day.year, LUNAR_YEARS[1]))


def lunar_of(day: date) -> LunarDate:
    return LunarDate.from_solar_date(day.year, day.month, day.day)


def lunar_birthdays(births: pd.Series, day: date) -> BoolArray:
    """Customers whose lunar birthday falls on ``day`` (see the module's rules for the 30th and leap months)."""
    if not LUNAR_YEARS[0] <= day.year <= LUNAR_YEARS[1]:
        raise ConfigError(f"{day}: lunar dates are known for {LUNAR_YEARS[0]}..{LUNAR_YEARS[1]} only")
    today = lunar_of(day)
    days, known = _days(births)
    if today.is_leap_month or not known.any():
        return np.zeros(len(days), np.bool_)
    cal = _calendar_for(days[known], day)
    ok = cal.covers(days) & known
    i = np.where(ok, cal.index(days), 0)
    b_month, b_day = cal.month[i], cal.day[i]
    next_day = lunar_of(day + timedelta(days=1))
    last_of_month = next_day.day == 1
    hit = (b_month == today.month) & ((b_day == today.day) | (last_of_month & (b_day > today.day)))
    return hit & ok


def festival_dates(year: int, festivals: list[Festival]) -> dict[date, Festival]:
    """The date of each configured festival in ``year`` (a holiday's first day, or its lunar date)."""
    calendar_cn = holidays.country_holidays("CN", years=year, language="zh_CN")
    out: dict[date, Festival] = {}
    for festival in festivals:
        if festival.holiday is not None:
            days = sorted(d for d, names in calendar_cn.items() if festival.holiday in names.split("; "))
            if not days:
                known = sorted({n for names in calendar_cn.values() for n in names.split("; ") if "（" not in n})
                raise ConfigError(f"festival {festival.name}: the China calendar of {year} has no holiday named "
                                  f"{festival.holiday!r} (it has: {', '.join(known)})")
            out.setdefault(days[0], festival)
        else:
            assert festival.lunar is not None
            month, dom = (int(p) for p in festival.lunar.split("-"))
            for lunar_year in (year - 1, year):  # a late lunar month of year - 1 falls early in `year`
                try:
                    solar = LunarDate(lunar_year, month, dom).to_solar_date()
                except ValueError as exc:
                    raise ConfigError(f"festival {festival.name}: lunar {festival.lunar} is not a date") from exc
                if solar.year == year:
                    out.setdefault(solar, festival)
    return out


def festival_on(day: date, festivals: list[Festival]) -> Festival | None:
    return festival_dates(day.year, festivals).get(day)
