"""Gamma-Gamma: shrinkage of spend towards the population mean, the fit and its errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import check_grad

from lifecycle.decisioning.clv_spend import GammaGammaModel, _log_likelihood_and_gradient, fit_gamma_gamma
from lifecycle.errors import ConfigError, ModelFitError

MODEL = GammaGammaModel(p=6.25, q=3.74, gamma=15.44)


def _simulate(n: int, model: GammaGammaModel, seed: int) -> pd.DataFrame:
    """Repeat buyers drawn from the Gamma-Gamma process: x spends of Gamma(p, ν), ν ~ Gamma(q, γ)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 12, n)
    scale = rng.gamma(model.q, 1.0 / model.gamma, n)
    # The mean of x Gamma(p, ν) spends is Gamma(p·x, ν·x).
    mean_spend = rng.gamma(model.p * x, 1.0 / (scale * x))
    return pd.DataFrame({"frequency": x, "monetary_value": mean_spend})


def test_population_mean_spend_is_p_gamma_over_q_minus_one() -> None:
    assert MODEL.population_mean_spend == pytest.approx(6.25 * 15.44 / 2.74)
    assert GammaGammaModel(p=1.0, q=0.9, gamma=1.0).population_mean_spend == float("inf")


def test_a_customer_without_repeats_gets_the_population_mean_whatever_the_stored_spend() -> None:
    assert MODEL.expected_spend(0, 0.0) == pytest.approx(MODEL.population_mean_spend)
    assert MODEL.expected_spend(0, 500.0) == pytest.approx(MODEL.population_mean_spend)


@given(st.floats(1, 2000), st.integers(1, 300))
def test_expected_spend_lies_between_the_population_mean_and_the_customers_own(m_x: float, x: int) -> None:
    expected = float(MODEL.expected_spend(x, m_x))
    low, high = sorted((m_x, MODEL.population_mean_spend))
    assert low - 1e-9 <= expected <= high + 1e-9


def test_more_purchases_pull_the_expectation_towards_the_customers_own_mean() -> None:
    frequencies = np.array([1, 2, 5, 20, 100])
    gaps = np.abs(MODEL.expected_spend(frequencies, np.full(5, 200.0)) - 200.0)
    assert np.all(np.diff(gaps) < 0)


def test_the_analytic_gradient_matches_finite_differences() -> None:
    data = _simulate(400, MODEL, seed=4)
    x, m_x = data["frequency"].to_numpy(dtype=float), data["monetary_value"].to_numpy()

    def value(log_params: np.ndarray) -> float:
        return float(_log_likelihood_and_gradient(log_params, x, m_x)[0].sum())

    def gradient(log_params: np.ndarray) -> np.ndarray:
        return _log_likelihood_and_gradient(log_params, x, m_x)[1]

    point = np.log([3.0, 2.0, 10.0])
    assert check_grad(value, gradient, point, epsilon=1e-7) < 1e-3 * np.linalg.norm(gradient(point)) + 1e-3


def test_the_fit_recovers_the_parameters_that_generated_the_data() -> None:
    model = fit_gamma_gamma(_simulate(40_000, MODEL, seed=9))
    assert model.p == pytest.approx(MODEL.p, rel=0.1)
    assert model.q == pytest.approx(MODEL.q, rel=0.1)
    assert model.gamma == pytest.approx(MODEL.gamma, rel=0.15)


def test_customers_without_repeats_are_left_out_of_the_fit() -> None:
    data = _simulate(3_000, MODEL, seed=1)
    with_once_only = pd.concat(
        [data, pd.DataFrame({"frequency": [0] * 500, "monetary_value": [0.0] * 500})], ignore_index=True
    )
    assert fit_gamma_gamma(with_once_only) == fit_gamma_gamma(data)
    assert fit_gamma_gamma(with_once_only).n_customers == 3_000


def test_a_sample_of_repeat_buyers_is_fitted_reproducibly() -> None:
    data = _simulate(10_000, MODEL, seed=2)
    sampled = fit_gamma_gamma(data, sample_size=4_000, seed=3)
    assert sampled.n_customers == 4_000
    assert fit_gamma_gamma(data, sample_size=4_000, seed=3) == sampled


def test_without_repeat_buyers_there_is_nothing_to_fit() -> None:
    with pytest.raises(ModelFitError, match="no customer has a repeat purchase"):
        fit_gamma_gamma(pd.DataFrame({"frequency": [0, 0], "monetary_value": [0.0, 0.0]}))
    with pytest.raises(ModelFitError, match="no customer has a repeat purchase"):
        fit_gamma_gamma(pd.DataFrame({"frequency": [], "monetary_value": []}))


def test_a_non_positive_repeat_spend_is_refused_with_a_count() -> None:
    data = pd.concat(
        [_simulate(100, MODEL, seed=0), pd.DataFrame({"frequency": [2, 3], "monetary_value": [0.0, -5.0]})]
    )
    with pytest.raises(ModelFitError, match="2 repeat buyers have a mean spend that is not positive"):
        fit_gamma_gamma(data)


def test_spend_too_heavy_tailed_for_a_finite_mean_is_refused() -> None:
    heavy = _simulate(20_000, GammaGammaModel(p=2.0, q=0.6, gamma=5.0), seed=6)
    with pytest.raises(ModelFitError, match="q = .* <= 1"):
        fit_gamma_gamma(heavy)


def test_parameters_round_trip_through_a_plain_json_dict() -> None:
    model = fit_gamma_gamma(_simulate(1_000, MODEL, seed=8))
    stored = json.loads(json.dumps(model.to_dict()))
    assert stored["model"] == "gamma_gamma"
    assert GammaGammaModel.from_dict(stored) == model


def test_stored_parameters_of_the_other_model_are_refused() -> None:
    with pytest.raises(ConfigError, match="expected 'gamma_gamma'"):
        GammaGammaModel.from_dict({**MODEL.to_dict(), "model": "bg_nbd"})
    with pytest.raises(ConfigError, match="non-negative integer"):
        GammaGammaModel.from_dict({**MODEL.to_dict(), "n_customers": -3})
