"""Customer lifetime value and scoring: horizon, discounting, units, and refused settings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.decisioning.clv import BgNbdModel, GammaGammaModel, customer_lifetime_value, score_customers
from lifecycle.decisioning.clv_fit import maximise_log_likelihood, sample_indices
from lifecycle.errors import ConfigError, ModelFitError

ACTIVITY = BgNbdModel(r=0.243, alpha=4.414, a=0.793, b=2.426)
SPEND = GammaGammaModel(p=6.25, q=3.74, gamma=15.44)
RFM = pd.DataFrame(
    {
        "frequency": [0, 1, 2, 5, 12],
        "recency": [0.0, 4.0, 30.43, 20.0, 38.0],
        "T": [10.0, 20.0, 38.86, 38.86, 38.86],
        "monetary_value": [0.0, 15.0, 22.35, 40.0, 18.0],
    },
    index=pd.Index(["c1", "c2", "c3", "c4", "c5"], name="customer"),
)


def _clv(**kwargs: object) -> np.ndarray:
    return customer_lifetime_value(
        ACTIVITY, SPEND, RFM["frequency"], RFM["recency"], RFM["T"], RFM["monetary_value"], **kwargs  # type: ignore[arg-type]
    )


def test_a_zero_horizon_is_worth_nothing() -> None:
    assert np.array_equal(_clv(horizon_months=0), np.zeros(len(RFM)))


def test_discounting_lowers_the_value_and_more_discounting_lowers_it_more() -> None:
    undiscounted = _clv(monthly_discount_rate=0.0)
    one_percent = _clv(monthly_discount_rate=0.01)
    five_percent = _clv(monthly_discount_rate=0.05)
    assert np.all(undiscounted > 0)
    assert np.all(one_percent < undiscounted)
    assert np.all(five_percent < one_percent)


def test_without_discounting_the_value_is_spend_times_purchases_over_the_whole_horizon() -> None:
    months = 18
    purchases = ACTIVITY.expected_purchases(months * 30 / 7, RFM["frequency"], RFM["recency"], RFM["T"])
    spend = SPEND.expected_spend(RFM["frequency"], RFM["monetary_value"])
    np.testing.assert_allclose(_clv(horizon_months=months, monthly_discount_rate=0.0), purchases * spend, rtol=1e-12)


def test_one_month_is_discounted_by_one_whole_month() -> None:
    purchases = ACTIVITY.expected_purchases(30 / 7, RFM["frequency"], RFM["recency"], RFM["T"])
    spend = SPEND.expected_spend(RFM["frequency"], RFM["monetary_value"])
    np.testing.assert_allclose(_clv(horizon_months=1, monthly_discount_rate=0.02), purchases * spend / 1.02)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 36), st.floats(0, 0.1))
def test_the_value_does_not_depend_on_the_period_the_model_counts_in(months: int, rate: float) -> None:
    in_days = BgNbdModel(r=ACTIVITY.r, alpha=ACTIVITY.alpha * 7, a=ACTIVITY.a, b=ACTIVITY.b, period_days=1.0)
    weekly = _clv(horizon_months=months, monthly_discount_rate=rate)
    daily = customer_lifetime_value(
        in_days,
        SPEND,
        RFM["frequency"],
        RFM["recency"] * 7,
        RFM["T"] * 7,
        RFM["monetary_value"],
        horizon_months=months,
        monthly_discount_rate=rate,
    )
    np.testing.assert_allclose(daily, weekly, rtol=1e-9)


def test_calendar_months_are_worth_a_little_more_than_30_day_months() -> None:
    assert np.all(_clv(days_per_month=365.25 / 12) > _clv(days_per_month=30.0))


def test_scores_keep_the_customers_and_agree_with_the_models() -> None:
    scores = score_customers(RFM, ACTIVITY, SPEND, horizon_months=6, monthly_discount_rate=0.0)
    assert list(scores.columns) == ["p_alive", "expected_purchases", "expected_spend", "clv"]
    assert scores.index.equals(RFM.index)
    assert scores.loc["c1", "p_alive"] == 1.0
    np.testing.assert_allclose(scores["clv"], scores["expected_purchases"] * scores["expected_spend"], rtol=1e-12)
    np.testing.assert_allclose(
        scores["p_alive"], ACTIVITY.probability_alive(RFM["frequency"], RFM["recency"], RFM["T"])
    )


def test_scoring_an_inconsistent_summary_is_refused() -> None:
    broken = RFM.assign(recency=RFM["T"] + 1)
    with pytest.raises(ModelFitError, match="5 customers have a recency after their age"):
        score_customers(broken, ACTIVITY, SPEND)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"horizon_months": -1}, "horizon_months"),
        ({"horizon_months": 1.5}, "horizon_months"),
        ({"horizon_months": True}, "horizon_months"),
        ({"monthly_discount_rate": -0.01}, "monthly_discount_rate"),
        ({"monthly_discount_rate": float("nan")}, "monthly_discount_rate"),
        ({"days_per_month": 0.0}, "days_per_month"),
    ],
)
def test_unusable_valuation_settings_are_refused(setting: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _clv(**setting)


def test_an_optimiser_that_meets_a_non_finite_likelihood_says_so() -> None:
    def nowhere(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        return float("nan"), np.full_like(log_params, np.nan)

    with pytest.raises(ModelFitError, match="toy: the optimiser"):
        maximise_log_likelihood(nowhere, np.zeros(2), ("u", "v"), "toy")


def test_a_maximum_on_the_edge_of_the_parameter_space_is_refused() -> None:
    def runaway(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        # Improves without end as the first parameter grows: the data would not pin it down.
        return float(-log_params[0] + log_params[1] ** 2), np.array([-1.0, 2 * log_params[1]])

    with pytest.raises(ModelFitError, match=r"edge of the parameter space \(u\)"):
        maximise_log_likelihood(runaway, np.zeros(2), ("u", "v"), "toy")


def test_samples_are_seeded_and_refuse_a_non_positive_size() -> None:
    assert sample_indices(10, None, 0) is None
    assert sample_indices(10, 10, 0) is None
    first = sample_indices(1000, 50, 7)
    assert first is not None and len(np.unique(first)) == 50
    assert np.array_equal(first, sample_indices(1000, 50, 7))  # type: ignore[arg-type]
    with pytest.raises(ModelFitError, match="sample_size"):
        sample_indices(10, 0, 0)
