"""Repeat-purchase summaries (x, t_x, T, m_x) of a transaction log, per customer.

The BG/NBD and Gamma-Gamma models do not read transactions: they read, per
customer, four sufficient statistics measured over a calibration window that
ends at ``observation_end``:

- ``frequency`` (x): the number of distinct purchase *days* after the first
  purchase day. Several transactions on one day are one purchase occasion, as in
  Fader, Hardie & Lee (2005); counting them separately would inflate x with
  split payments and same-day top-ups.
- ``recency`` (t_x): time from the first purchase day to the last one, in periods.
- ``T``: time from the first purchase day to ``observation_end``, in periods.
- ``monetary_value`` (m_x): mean spend of the x repeat purchase days, spend summed
  per customer and day, the first purchase day left out (the Gamma-Gamma model
  describes repeat spend; the first purchase is often atypical). 0.0 when x = 0.

A period is ``period_days`` days (7: weeks, as in the CDNOW papers). Times are
whole days divided by ``period_days``, so one week of 7 days is 1.0 and the
published CDNOW customer first seen on 1997-01-01 has T = 272 / 7 = 38.86 weeks
at 1997-09-30.

The computation is vectorised over all transactions at once (no Python loop per
customer): customers are factorised to dense codes; first and last purchase days
come from ``np.minimum.at`` / ``np.maximum.at``; distinct purchase days from one
sort of int64 keys ``customer code × span + day``; repeat spend from one
``np.bincount`` of the amounts not on the customer's first day (which equals the
sum over repeat days of the per-day sums).
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from lifecycle.errors import ModelFitError

__all__ = ["RFM_COLUMNS", "rfm_summary"]

RFM_COLUMNS = ("frequency", "recency", "T", "monetary_value")


def rfm_summary(
    transactions: pd.DataFrame,
    *,
    customer_col: str,
    time_col: str,
    amount_col: str | None = None,
    observation_end: date | datetime | str | pd.Timestamp,
    period_days: float = 7.0,
) -> pd.DataFrame:
    """Summarise a transaction log into one row of (x, t_x, T, m_x) per customer.

    ``transactions`` needs ``customer_col`` (any hashable dtype, no missing values),
    ``time_col`` (datetime64, or anything ``pandas.to_datetime`` parses; a
    timezone-aware column is taken at its local wall-clock date) and, when given,
    ``amount_col`` (numeric, no missing values). Transactions after the day of
    ``observation_end`` are ignored; that day itself is included. Customers whose
    first purchase is after it do not appear.

    Returns a frame indexed by customer (index named ``customer_col``, sorted) with
    ``frequency`` (int64), ``recency`` and ``T`` (float64, periods of
    ``period_days`` days) and, if ``amount_col`` is given, ``monetary_value``
    (float64). An empty log gives an empty frame with those columns.

    Raises :class:`~lifecycle.errors.ModelFitError` when a column is missing,
    ``period_days`` is not positive, or customers, times or amounts are missing.
    """
    if not period_days > 0:
        raise ModelFitError(f"period_days must be positive, got {period_days!r}")
    needed = [customer_col, time_col] + ([amount_col] if amount_col is not None else [])
    missing = [column for column in needed if column not in transactions.columns]
    if missing:
        raise ModelFitError(f"transactions lack the column(s) {missing} needed for the repeat-purchase summary")

    end_day = _day_number(observation_end)
    days = _day_numbers(transactions[time_col], time_col)
    customers = transactions[customer_col]
    amounts = _amounts(transactions[amount_col], amount_col) if amount_col is not None else None
    if customers.isna().any():
        raise ModelFitError(f"{int(customers.isna().sum())} transactions have no {customer_col!r}")

    in_window = days <= end_day
    if not in_window.all():
        days = days[in_window]
        customers = customers[in_window]
        amounts = amounts[in_window] if amounts is not None else None

    codes, uniques = pd.factorize(customers, sort=True)
    summary = _summarise_codes(codes, days, amounts, end_day, len(uniques), period_days)
    summary.index = pd.Index(uniques, name=customer_col)
    return summary


def _summarise_codes(
    codes: np.ndarray,
    days: np.ndarray,
    amounts: np.ndarray | None,
    end_day: int,
    n_customers: int,
    period_days: float,
) -> pd.DataFrame:
    """The summary over dense customer codes 0..n-1; see :func:`rfm_summary`."""
    columns = list(RFM_COLUMNS if amounts is not None else RFM_COLUMNS[:3])
    if n_customers == 0:
        return pd.DataFrame(
            {name: pd.Series(dtype="int64" if name == "frequency" else "float64") for name in columns}
        )
    codes = codes.astype(np.int64, copy=False)
    window_start = int(days.min())
    day = days - window_start  # days into the window: small, so one int64 key holds customer and day
    span = end_day - window_start + 1

    first = np.full(n_customers, span, dtype=np.int64)
    np.minimum.at(first, codes, day)
    last = np.zeros(n_customers, dtype=np.int64)
    np.maximum.at(last, codes, day)

    result = {
        "frequency": _distinct_days(codes * span + day, span, n_customers) - 1,
        "recency": (last - first) / period_days,
        "T": (end_day - window_start - first) / period_days,
    }
    if amounts is not None:
        frequency = result["frequency"]
        repeat_spend = np.bincount(codes, weights=np.where(day != first[codes], amounts, 0.0), minlength=n_customers)
        result["monetary_value"] = np.divide(
            repeat_spend, frequency, out=np.zeros(n_customers), where=frequency > 0
        )
    return pd.DataFrame(result, columns=columns)


def _distinct_days(key: np.ndarray, span: int, n_customers: int) -> np.ndarray:
    """Distinct purchase days per customer, from the keys ``customer × span + day`` (sorted in place).

    An in-place sort of plain int64 keys (SIMD quicksort) and one comparison with
    the neighbour find the distinct customer-days; hashing 20M keys of which most
    are distinct is several times slower.
    """
    key.sort()
    distinct = np.empty(len(key), dtype=bool)
    distinct[0] = True
    np.not_equal(key[1:], key[:-1], out=distinct[1:])
    return np.bincount(key[distinct] // span, minlength=n_customers).astype(np.int64)


def _day_number(moment: date | datetime | str | pd.Timestamp) -> int:
    """Days since 1970-01-01 of the calendar day of ``moment`` (wall-clock if tz-aware)."""
    stamp = pd.Timestamp(moment)
    if stamp is pd.NaT:
        raise ModelFitError("observation_end is missing")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return int(np.datetime64(stamp.normalize().to_datetime64(), "D").astype(np.int64))


def _day_numbers(values: pd.Series, column: str) -> np.ndarray:
    """Days since 1970-01-01 of each value's calendar day, as int64."""
    if not pd.api.types.is_datetime64_any_dtype(values):
        try:
            values = pd.to_datetime(values)
        except (ValueError, TypeError) as error:
            raise ModelFitError(f"column {column!r} holds values that are not dates: {type(error).__name__}") from None
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    stamps = values.to_numpy(dtype="datetime64[ns]")
    missing = np.isnat(stamps)
    if missing.any():
        raise ModelFitError(f"{int(missing.sum())} transactions have no {column!r}")
    return stamps.astype("datetime64[D]").astype(np.int64)


def _amounts(values: pd.Series, column: str) -> np.ndarray:
    """The amounts as float64; missing ones are refused rather than read as zero."""
    if not pd.api.types.is_numeric_dtype(values):
        raise ModelFitError(f"column {column!r} is not numeric (dtype {values.dtype})")
    amounts = values.to_numpy(dtype=np.float64)
    missing = np.isnan(amounts)
    if missing.any():
        raise ModelFitError(f"{int(missing.sum())} transactions have no {column!r}")
    return amounts
