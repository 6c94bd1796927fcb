"""Repeat-purchase summary: distinct days, first day out of spend, window cut at observation_end."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.decisioning.clv_rfm import rfm_summary
from lifecycle.errors import ModelFitError

END = "2026-01-29"


def _log() -> pd.DataFrame:
    rows = [
        ("A", "2026-01-01 10:00", 10.0),
        ("A", "2026-01-01 15:00", 5.0),  # same day as the first: one purchase occasion
        ("A", "2026-01-08 09:00", 20.0),
        ("A", "2026-01-08 18:00", 4.0),  # same day: summed into 24
        ("A", "2026-01-22 12:00", 30.0),
        ("A", "2026-02-02 12:00", 99.0),  # after observation_end: ignored
        ("B", "2026-01-15 08:00", 7.0),
        ("B", "2026-01-15 09:00", 8.0),
        ("C", "2026-02-01 10:00", 50.0),  # first purchase after the window: absent
        ("D", "2026-01-29 23:59", 3.0),  # on observation_end itself: included
    ]
    frame = pd.DataFrame(rows, columns=["customer", "at", "amount"])
    frame["at"] = pd.to_datetime(frame["at"])
    return frame


def _summary(frame: pd.DataFrame, **kwargs: object) -> pd.DataFrame:
    options: dict[str, object] = {"customer_col": "customer", "time_col": "at", "amount_col": "amount"}
    options.update(kwargs)
    options.setdefault("observation_end", END)
    return rfm_summary(frame, **options)  # type: ignore[arg-type]


def test_same_day_purchases_count_once_and_the_first_day_is_left_out_of_spend() -> None:
    summary = _summary(_log())
    assert list(summary.index) == ["A", "B", "D"]
    a = summary.loc["A"]
    assert a["frequency"] == 2  # days 01-08 and 01-22 after the first day 01-01
    assert a["recency"] == pytest.approx(21 / 7)
    assert a["T"] == pytest.approx(28 / 7)
    assert a["monetary_value"] == pytest.approx((24.0 + 30.0) / 2)  # 15 of day one left out


def test_a_customer_without_repeat_day_has_zero_frequency_recency_and_spend() -> None:
    summary = _summary(_log())
    b = summary.loc["B"]
    assert (b["frequency"], b["recency"], b["monetary_value"]) == (0, 0.0, 0.0)
    assert b["T"] == pytest.approx(14 / 7)
    assert summary.loc["D", "T"] == 0.0


def test_columns_and_dtypes_are_the_models_inputs() -> None:
    summary = _summary(_log())
    assert list(summary.columns) == ["frequency", "recency", "T", "monetary_value"]
    assert summary["frequency"].dtype == np.int64
    assert summary.index.name == "customer"
    without_amount = rfm_summary(_log(), customer_col="customer", time_col="at", observation_end=END)
    assert list(without_amount.columns) == ["frequency", "recency", "T"]
    pd.testing.assert_frame_equal(without_amount, summary[["frequency", "recency", "T"]])


def test_periods_are_days_divided_by_period_days() -> None:
    daily = _summary(_log(), period_days=1)
    assert daily.loc["A", "recency"] == 21.0
    assert daily.loc["A", "T"] == 28.0


def test_observation_end_may_be_a_date_and_the_log_may_hold_dates_as_strings() -> None:
    frame = _log().assign(at=lambda f: f["at"].dt.strftime("%Y-%m-%d %H:%M"))
    summary = _summary(frame, observation_end=date(2026, 1, 29))
    assert summary.loc["A", "frequency"] == 2


def test_a_timezone_aware_log_is_read_at_its_local_wall_clock_date() -> None:
    frame = pd.DataFrame({
        "customer": [1, 1],
        # 01:00 in Shanghai is the previous day in UTC: read as local, both are one day.
        "at": pd.to_datetime(["2026-01-01 01:00", "2026-01-01 20:00"]).tz_localize("Asia/Shanghai"),
        "amount": [1.0, 2.0],
    })
    summary = _summary(frame, observation_end="2026-01-08")
    assert summary.loc[1, "frequency"] == 0
    assert summary.loc[1, "T"] == pytest.approx(1.0)


def test_an_empty_log_gives_an_empty_summary_with_the_columns() -> None:
    summary = _summary(_log().iloc[0:0])
    assert summary.empty
    assert list(summary.columns) == ["frequency", "recency", "T", "monetary_value"]


@pytest.mark.filterwarnings("ignore:Could not infer format")
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="amount"), "lack the column"),
        (lambda f: f.assign(amount=f["amount"].where(f.index != 2)), "1 transactions have no 'amount'"),
        (lambda f: f.assign(at=f["at"].where(f.index != 0)), "1 transactions have no 'at'"),
        (lambda f: f.assign(customer=f["customer"].where(f.index != 0)), "1 transactions have no 'customer'"),
        (lambda f: f.assign(at="not a date"), "not dates"),
        (lambda f: f.assign(amount="ten"), "not numeric"),
    ],
)
def test_unusable_logs_are_refused_with_the_reason(change: object, message: str) -> None:
    frame = change(_log())  # type: ignore[operator]
    with pytest.raises(ModelFitError, match=message):
        _summary(frame)


def test_a_non_positive_period_is_refused() -> None:
    with pytest.raises(ModelFitError, match="period_days"):
        _summary(_log(), period_days=0)


def _naive_summary(frame: pd.DataFrame, end: pd.Timestamp) -> dict[int, tuple[int, float, float, float]]:
    """The definition, customer by customer: the oracle for the vectorised version."""
    result = {}
    window = frame[frame["at"].dt.normalize() <= end]
    for customer, rows in window.groupby("customer"):
        per_day = rows.groupby(rows["at"].dt.normalize())["amount"].sum().sort_index()
        first, last = per_day.index[0], per_day.index[-1]
        repeats = per_day.iloc[1:]
        result[int(customer)] = (
            len(repeats),
            (last - first).days / 7,
            (end - first).days / 7,
            float(repeats.mean()) if len(repeats) else 0.0,
        )
    return result


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 5),
            st.integers(0, 40 * 24),
            st.floats(0.01, 1000, allow_nan=False),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_the_vectorised_summary_matches_the_definition(rows: list[tuple[int, int, float]]) -> None:
    frame = pd.DataFrame(rows, columns=["customer", "hour", "amount"])
    frame["at"] = pd.Timestamp("2026-01-01") + pd.to_timedelta(frame["hour"], unit="h")
    end = pd.Timestamp("2026-01-30")
    summary = _summary(frame, observation_end=end)
    expected = _naive_summary(frame, end)
    assert sorted(summary.index) == sorted(expected)
    for customer, (x, t_x, age, m_x) in expected.items():
        row = summary.loc[customer]
        assert row["frequency"] == x
        assert row["recency"] == pytest.approx(t_x)
        assert row["T"] == pytest.approx(age)
        assert row["monetary_value"] == pytest.approx(m_x)
