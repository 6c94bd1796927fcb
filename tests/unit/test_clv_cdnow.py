"""The published CDNOW figures, reproduced from the raw purchase log (tests/data/cdnow/SOURCE.md).

Calibration: 1997-01-01 to 1997-09-30 (39 weeks), repeat purchases per distinct
day, T from each customer's first purchase to 1997-09-30, in weeks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lifecycle.decisioning.clv import (
    BgNbdModel,
    GammaGammaModel,
    fit_bgnbd,
    fit_gamma_gamma,
    rfm_summary,
    score_customers,
)
from lifecycle.decisioning.clv_bgnbd import bgnbd_log_likelihood

CDNOW = Path(__file__).resolve().parents[1] / "data" / "cdnow" / "CDNOW_sample.txt"
PUBLISHED = BgNbdModel(r=0.243, alpha=4.414, a=0.793, b=2.426)


@pytest.fixture(scope="module")
def calibration() -> pd.DataFrame:
    log = pd.read_csv(
        CDNOW,
        sep=r"\s+",
        header=None,
        names=["master_id", "customer", "date", "cds", "amount"],
        dtype={"date": str},
    )
    log["date"] = pd.to_datetime(log["date"], format="%Y%m%d")
    return rfm_summary(
        log, customer_col="customer", time_col="date", amount_col="amount", observation_end="1997-09-30"
    )


def test_the_summary_has_every_customer_and_the_published_repeat_counts(calibration: pd.DataFrame) -> None:
    assert len(calibration) == 2357
    assert int((calibration["frequency"] > 0).sum()) == 946
    assert int(calibration["frequency"].sum()) == 2457  # repeat transactions in the calibration period
    first = calibration.loc[1]
    assert (first["frequency"], round(first["recency"], 2), round(first["T"], 2)) == (2, 30.43, 38.86)


def test_bgnbd_fit_reproduces_the_published_estimates(calibration: pd.DataFrame) -> None:
    model = fit_bgnbd(calibration)
    estimates = tuple(round(value, 3) for value in (model.r, model.alpha, model.a, model.b))
    assert estimates == (0.243, 4.414, 0.793, 2.426)
    assert model.log_likelihood is not None
    assert round(model.log_likelihood, 1) == -9582.4
    assert model.n_customers == 2357
    assert model.period_days == 7.0


def test_the_published_estimates_give_the_published_log_likelihood(calibration: pd.DataFrame) -> None:
    values = bgnbd_log_likelihood(PUBLISHED, calibration["frequency"], calibration["recency"], calibration["T"])
    assert round(float(values.sum()), 1) == -9582.4


def test_conditional_expectation_of_the_worked_example(calibration: pd.DataFrame) -> None:
    fitted = fit_bgnbd(calibration)
    assert round(float(fitted.expected_purchases(39, 2, 30.43, 38.86)), 3) == 1.226
    assert round(float(PUBLISHED.expected_purchases(39, 2, 30.43, 38.86)), 3) == 1.226


def test_gamma_gamma_fit_reproduces_the_published_estimates(calibration: pd.DataFrame) -> None:
    model = fit_gamma_gamma(calibration)
    assert model.n_customers == 946
    assert (round(model.p, 2), round(model.q, 2), round(model.gamma, 2)) == (6.25, 3.74, 15.44)


def test_every_customer_is_scored_with_finite_values(calibration: pd.DataFrame) -> None:
    scores = score_customers(
        calibration, fit_bgnbd(calibration), GammaGammaModel(p=6.25, q=3.74, gamma=15.44), horizon_months=12
    )
    assert scores.index.equals(calibration.index)
    assert np.isfinite(scores.to_numpy()).all()
    assert ((scores["p_alive"] > 0) & (scores["p_alive"] <= 1)).all()
    assert (scores["clv"] >= 0).all()
    # Customers who never repeated are worth less on average than those who did.
    repeat = calibration["frequency"] > 0
    assert scores.loc[repeat, "clv"].mean() > scores.loc[~repeat, "clv"].mean()
