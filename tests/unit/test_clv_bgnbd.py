"""BG/NBD: P(active), conditional expectation, numerical stability, the fit and its errors."""

from __future__ import annotations

import json
import warnings

import mpmath
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import check_grad

from lifecycle.decisioning.clv_bgnbd import BgNbdModel, _log_likelihood_and_gradient, fit_bgnbd
from lifecycle.errors import ConfigError, ModelFitError

MODEL = BgNbdModel(r=0.243, alpha=4.414, a=0.793, b=2.426)


def _simulate(n: int, model: BgNbdModel, age: float, seed: int) -> pd.DataFrame:
    """Customers drawn from the BG/NBD process itself, all observed for ``age`` periods."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(model.r, 1.0 / model.alpha, n)
    dropout = rng.beta(model.a, model.b, n)
    clock = np.zeros(n)
    last = np.zeros(n)
    count = np.zeros(n, dtype=np.int64)
    active = np.ones(n, dtype=bool)
    while active.any():
        clock[active] += rng.exponential(1.0 / rate[active])
        active &= clock <= age
        last[active] = clock[active]
        count[active] += 1
        active &= rng.random(n) >= dropout
    return pd.DataFrame({"frequency": count, "recency": last, "T": np.full(n, age)})


@given(st.floats(0, 500))
def test_p_alive_is_one_without_repeat_purchases(age: float) -> None:
    assert MODEL.probability_alive(0, 0.0, age) == 1.0


def test_p_alive_falls_as_time_since_the_last_purchase_grows() -> None:
    ages = np.linspace(10, 500, 50)
    p_alive = MODEL.probability_alive(3, 10.0, ages)
    assert p_alive[0] == pytest.approx(1 / (1 + MODEL.a / (MODEL.b + 2)))  # T = t_x: only the dropout chance
    assert np.all(np.diff(p_alive) < 0)
    assert p_alive[-1] < 0.01


def test_expected_purchases_grow_with_frequency_for_a_recent_buyer() -> None:
    frequencies = np.arange(0, 50)
    expected = MODEL.expected_purchases(39, frequencies, 30.0, 30.0)
    assert np.all(np.diff(expected) > 0)


def test_expected_purchases_start_at_zero_and_grow_with_the_horizon() -> None:
    horizons = np.linspace(0, 200, 41)
    expected = MODEL.expected_purchases(horizons, 2, 30.43, 38.86)
    assert expected[0] == 0.0
    assert np.all(np.diff(expected) > 0)


def test_no_overflow_for_heavy_buyers_and_long_histories() -> None:
    x = np.arange(0, 401, 20, dtype=float)
    grid_x, grid_age = np.meshgrid(x, np.linspace(1, 500, 25))
    recency = np.where(grid_x > 0, grid_age * 0.9, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p_alive = MODEL.probability_alive(grid_x, recency, grid_age)
        expected = MODEL.expected_purchases(52, grid_x, recency, grid_age)
    assert np.isfinite(p_alive).all() and np.isfinite(expected).all()
    # Alive or not, nobody is expected to buy faster than their posterior rate (r+x)/(alpha+T) allows.
    ceiling = p_alive * 52 * (MODEL.r + grid_x) / (MODEL.alpha + grid_age)
    assert np.all(expected >= 0)
    assert np.all(expected <= ceiling * (1 + 1e-9))


def _published_closed_form(model: BgNbdModel, t: float, x: int, t_x: float, age: float) -> float:
    """FHL (2005) eq. 10 as printed, in 50-digit arithmetic: the oracle for the transformed version."""
    mpmath.mp.dps = 50
    r, alpha, a, b = (mpmath.mpf(value) for value in (model.r, model.alpha, model.a, model.b))
    t, t_x, age = mpmath.mpf(t), mpmath.mpf(t_x), mpmath.mpf(age)
    if a + b + x - 1 == 0:  # the pole of the hypergeometric term: approach its limit
        b += mpmath.mpf("1e-30")
    hyp = mpmath.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + age + t))
    numerator = (a + b + x - 1) / (a - 1) * (1 - ((alpha + age) / (alpha + age + t)) ** (r + x) * hyp)
    denominator = 1 + (a / (b + x - 1) * ((alpha + age) / (alpha + t_x)) ** (r + x) if x > 0 else 0)
    return float(numerator / denominator)


@settings(max_examples=150, deadline=None)
@given(
    x=st.integers(0, 400),
    age=st.floats(0.5, 500),
    recency_share=st.floats(0, 1),
    t=st.floats(0.1, 300),
    a=st.floats(0.2, 5).filter(lambda value: abs(value - 1) > 0.05),
    b=st.floats(0.2, 10),
)
def test_conditional_expectation_matches_the_published_formula_in_high_precision(
    x: int, age: float, recency_share: float, t: float, a: float, b: float
) -> None:
    model = BgNbdModel(r=0.4, alpha=6.0, a=a, b=b)
    t_x = age * recency_share if x > 0 else 0.0
    expected = _published_closed_form(model, t, x, t_x, age)
    assert float(model.expected_purchases(t, x, t_x, age)) == pytest.approx(expected, rel=1e-7, abs=1e-12)


def test_a_negative_hypergeometric_term_below_the_pole_gives_the_published_value() -> None:
    # x = 0 with a + b < 1 puts c = a + b + x - 1 below zero, where the transformed 2F1 is negative
    # (found by the property test above: x=0, T=1, t=7, a=0.25, b=0.5 gave NaN).
    model = BgNbdModel(r=0.4, alpha=6.0, a=0.25, b=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = float(model.expected_purchases(7.0, 0, 0.0, 1.0))
    assert value == pytest.approx(_published_closed_form(model, 7.0, 0, 0.0, 1.0), rel=1e-7)


@pytest.mark.parametrize("t", [0.5, 10.0, 52.0])
def test_at_the_pole_of_the_hypergeometric_term_its_limit_is_used(t: float) -> None:
    # x = 0 and a + b = 1 make c = a + b + x - 1 zero; just beside it the formula is regular.
    at_pole = BgNbdModel(r=0.4, alpha=6.0, a=0.5, b=0.5)
    beside = BgNbdModel(r=0.4, alpha=6.0, a=0.5, b=0.5 + 1e-9)
    expected = _published_closed_form(beside, t, 0, 0.0, 20.0)
    assert float(at_pole.expected_purchases(t, 0, 0.0, 20.0)) == pytest.approx(expected, rel=1e-6)
    assert float(at_pole.expected_purchases(t, 3, 10.0, 20.0)) == pytest.approx(
        _published_closed_form(at_pole, t, 3, 10.0, 20.0), rel=1e-7
    )


def test_the_analytic_gradient_matches_finite_differences() -> None:
    data = _simulate(500, MODEL, 52.0, seed=3)
    x, t_x, age = (data[column].to_numpy(dtype=float) for column in ("frequency", "recency", "T"))

    def value(log_params: np.ndarray) -> float:
        return float(_log_likelihood_and_gradient(log_params, x, t_x, age)[0].sum())

    def gradient(log_params: np.ndarray) -> np.ndarray:
        return _log_likelihood_and_gradient(log_params, x, t_x, age)[1]

    for point in (np.log([0.3, 5.0, 0.7, 2.0]), np.log([2.0, 0.5, 3.0, 0.4])):
        assert check_grad(value, gradient, point, epsilon=1e-7) < 1e-3 * np.linalg.norm(gradient(point)) + 1e-3


def test_the_fit_recovers_the_parameters_that_generated_the_data() -> None:
    truth = BgNbdModel(r=0.8, alpha=6.0, a=0.6, b=2.5)
    model = fit_bgnbd(_simulate(30_000, truth, 78.0, seed=11))
    for name in ("r", "alpha", "a", "b"):
        assert getattr(model, name) == pytest.approx(getattr(truth, name), rel=0.15), name
    assert model.n_customers == 30_000


def test_a_sample_is_fitted_reproducibly_and_lands_near_the_full_fit() -> None:
    data = _simulate(20_000, MODEL, 52.0, seed=5)
    full = fit_bgnbd(data)
    sampled = fit_bgnbd(data, sample_size=8_000, seed=1)
    assert sampled.n_customers == 8_000
    assert fit_bgnbd(data, sample_size=8_000, seed=1) == sampled
    assert fit_bgnbd(data, sample_size=8_000, seed=2) != sampled
    for name in ("r", "alpha", "a", "b"):
        assert getattr(sampled, name) == pytest.approx(getattr(full, name), rel=0.3), name


def test_an_empty_summary_cannot_be_fitted() -> None:
    empty = pd.DataFrame({"frequency": [], "recency": [], "T": []})
    with pytest.raises(ModelFitError, match="no customers"):
        fit_bgnbd(empty)


def test_without_repeat_buyers_the_fit_says_so() -> None:
    once_only = pd.DataFrame({"frequency": [0, 0, 0], "recency": [0.0, 0.0, 0.0], "T": [5.0, 10.0, 20.0]})
    with pytest.raises(ModelFitError, match="none of the 3 customers has a repeat purchase"):
        fit_bgnbd(once_only)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"frequency": 1, "recency": 12.0, "T": 10.0}, "recency after their age"),
        ({"frequency": -1, "recency": 0.0, "T": 10.0}, "negative or non-integer frequency"),
        ({"frequency": 1.5, "recency": 2.0, "T": 10.0}, "negative or non-integer frequency"),
        ({"frequency": 0, "recency": 3.0, "T": 10.0}, "no repeat purchase but a non-zero recency"),
        ({"frequency": 1, "recency": np.nan, "T": 10.0}, "missing or infinite 'recency'"),
    ],
)
def test_an_inconsistent_summary_is_refused_with_a_count(row: dict[str, float], message: str) -> None:
    data = pd.concat([_simulate(50, MODEL, 52.0, seed=0), pd.DataFrame([row])], ignore_index=True)
    with pytest.raises(ModelFitError, match=f"1 customers have .*{message}"):
        fit_bgnbd(data)


def test_a_missing_column_is_named() -> None:
    with pytest.raises(ModelFitError, match="lacks the column"):
        fit_bgnbd(pd.DataFrame({"frequency": [1], "recency": [1.0]}))


def test_the_fit_error_is_a_value_error() -> None:
    assert issubclass(ModelFitError, ValueError)


def test_parameters_round_trip_through_a_plain_json_dict() -> None:
    model = fit_bgnbd(_simulate(2_000, MODEL, 52.0, seed=2), period_days=7.0)
    stored = json.loads(json.dumps(model.to_dict()))
    assert stored["model"] == "bg_nbd"
    assert BgNbdModel.from_dict(stored) == model


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"model": "gamma_gamma"}, "expected 'bg_nbd'"),
        ({"r": -0.1}, "finite and positive"),
        ({"alpha": "4.4"}, "must be a number"),
        ({"a": True}, "must be a number"),
        ({"extra": 1.0}, "unexpected \\['extra'\\]"),
    ],
)
def test_malformed_stored_parameters_are_refused(change: dict[str, object], message: str) -> None:
    stored = {**MODEL.to_dict(), **change}
    with pytest.raises(ConfigError, match=message):
        BgNbdModel.from_dict(stored)


def test_a_stored_dict_missing_a_parameter_is_refused() -> None:
    stored = MODEL.to_dict()
    del stored["b"]
    with pytest.raises(ConfigError, match="missing \\['b'\\]"):
        BgNbdModel.from_dict(stored)
