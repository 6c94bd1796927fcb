"""Customer lifetime value from the BG/NBD activity and Gamma-Gamma spend models.

The public face of the CLV models; the pieces live beside it:

- :func:`rfm_summary` (``clv_rfm``): transactions → (x, t_x, T, m_x) per customer;
- :func:`fit_bgnbd` / :class:`BgNbdModel` (``clv_bgnbd``): P(active) and expected purchases;
- :func:`fit_gamma_gamma` / :class:`GammaGammaModel` (``clv_spend``): expected spend per purchase;
- here: :func:`customer_lifetime_value` and :func:`score_customers`, which combine them.

Typical use: summarise the calibration window, fit both models (on a sample of
customers if there are many), store ``model.to_dict()`` with the fit date and
window, and score every customer with :func:`score_customers`.

The lifetime value is a discounted sum over whole months, as in ``lifetimes``'
``customer_lifetime_value``::

    CLV = Σ_{k=1..H}  s · (E[Y(k·τ)] − E[Y((k−1)·τ)]) / (1 + d)^k

where H is the horizon in months, τ = ``days_per_month`` / ``period_days`` is
one month in model periods, E[Y(t)] is the BG/NBD conditional expectation of
purchases in the next t periods (so each difference is the purchases expected in
month k), s is the Gamma-Gamma expected spend per purchase, and d is the monthly
discount rate: month k's cash flow is discounted by k whole months. Spend and
purchase count are treated as independent, which is the Gamma-Gamma assumption.
``days_per_month`` defaults to 30 like ``lifetimes``; pass 365.25 / 12 for
calendar months on average.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from lifecycle.decisioning.clv_bgnbd import BgNbdModel, check_activity_summary, fit_bgnbd
from lifecycle.decisioning.clv_fit import rfm_arrays
from lifecycle.decisioning.clv_rfm import rfm_summary
from lifecycle.decisioning.clv_spend import GammaGammaModel, fit_gamma_gamma
from lifecycle.errors import ConfigError

__all__ = [
    "SCORE_COLUMNS",
    "BgNbdModel",
    "GammaGammaModel",
    "customer_lifetime_value",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "rfm_summary",
    "score_customers",
]

SCORE_COLUMNS = ("p_alive", "expected_purchases", "expected_spend", "clv")


def customer_lifetime_value(
    activity: BgNbdModel,
    spend: GammaGammaModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    *,
    horizon_months: int = 12,
    monthly_discount_rate: float = 0.01,
    days_per_month: float = 30.0,
) -> np.ndarray:
    """Each customer's discounted expected spend over the next ``horizon_months`` months.

    ``frequency``, ``recency`` and ``T`` are in the periods of ``activity``
    (``activity.period_days`` days); ``monetary_value`` is m_x in currency. See
    the module docstring for the formula. A horizon of 0 gives 0; a positive
    discount rate gives less than none. Raises
    :class:`~lifecycle.errors.ConfigError` for a negative horizon or rate.
    """
    month = _month_in_periods(activity, horizon_months, monthly_discount_rate, days_per_month)
    x = np.asarray(frequency, dtype=np.float64)
    t_x = np.asarray(recency, dtype=np.float64)
    age = np.asarray(T, dtype=np.float64)
    spend_per_purchase = spend.expected_spend(x, monetary_value)
    value = np.zeros(np.broadcast(x, t_x, age).shape)
    purchased_before = np.zeros_like(value)
    for k in range(1, horizon_months + 1):
        purchased_by_k = activity.expected_purchases(k * month, x, t_x, age)
        value += (purchased_by_k - purchased_before) / (1.0 + monthly_discount_rate) ** k
        purchased_before = purchased_by_k
    return np.asarray(value * spend_per_purchase, dtype=np.float64)


def score_customers(
    rfm: pd.DataFrame,
    activity: BgNbdModel,
    spend: GammaGammaModel,
    *,
    horizon_months: int = 12,
    monthly_discount_rate: float = 0.01,
    days_per_month: float = 30.0,
) -> pd.DataFrame:
    """P(active), purchases and spend expected over the horizon, and CLV, per customer.

    ``rfm`` is a summary from :func:`rfm_summary` (its index is kept). Columns:
    ``p_alive`` (now, at T), ``expected_purchases`` (in the next
    ``horizon_months`` months, undiscounted), ``expected_spend`` (per purchase)
    and ``clv`` (see :func:`customer_lifetime_value`). Raises
    :class:`~lifecycle.errors.ModelFitError` for an inconsistent summary.
    """
    month = _month_in_periods(activity, horizon_months, monthly_discount_rate, days_per_month)
    x, t_x, age, m_x = rfm_arrays(rfm, ("frequency", "recency", "T", "monetary_value"), "scoring")
    check_activity_summary(x, t_x, age)
    scores = {
        "p_alive": activity.probability_alive(x, t_x, age),
        "expected_purchases": activity.expected_purchases(horizon_months * month, x, t_x, age),
        "expected_spend": spend.expected_spend(x, m_x),
        "clv": customer_lifetime_value(
            activity,
            spend,
            x,
            t_x,
            age,
            m_x,
            horizon_months=horizon_months,
            monthly_discount_rate=monthly_discount_rate,
            days_per_month=days_per_month,
        ),
    }
    return pd.DataFrame(scores, index=rfm.index, columns=list(SCORE_COLUMNS))


def _month_in_periods(
    activity: BgNbdModel, horizon_months: int, monthly_discount_rate: float, days_per_month: float
) -> float:
    """One month in the model's periods, after checking the valuation settings."""
    if isinstance(horizon_months, bool) or not isinstance(horizon_months, int) or horizon_months < 0:
        raise ConfigError(f"horizon_months must be a non-negative whole number of months, got {horizon_months!r}")
    if not (np.isfinite(monthly_discount_rate) and monthly_discount_rate >= 0):
        raise ConfigError(f"monthly_discount_rate must be finite and >= 0, got {monthly_discount_rate!r}")
    if not (np.isfinite(days_per_month) and days_per_month > 0):
        raise ConfigError(f"days_per_month must be finite and positive, got {days_per_month!r}")
    return days_per_month / activity.period_days
