"""The Gamma-Gamma spend model: what will a customer spend per purchase?

Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value". Each spend
z of a customer is Gamma(p, ν) with ν ~ Gamma(q, γ) across customers; the mean
m_x of a customer's x repeat spends is then Gamma(px, νx), and the model's
conditional expectation shrinks m_x towards the population mean pγ/(q−1), the
more so the fewer purchases back it up.

It is fitted on repeat buyers only (x > 0): the first purchase day is left out
of m_x (see :mod:`lifecycle.decisioning.clv_rfm`), so a customer with x = 0
has no spend to learn from and receives the population mean. The model assumes
spend per purchase is independent of purchase frequency; check that on your
data (the correlation of x and m_x should be near 0) before relying on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from lifecycle.decisioning.clv_fit import (
    check_stored_keys,
    fit_summary,
    maximise_log_likelihood,
    positive_number,
    rfm_arrays,
    sample_indices,
)
from lifecycle.errors import ModelFitError

__all__ = ["GammaGammaModel", "fit_gamma_gamma", "gamma_gamma_log_likelihood"]

MODEL = "gamma_gamma"
PARAMETERS = ("p", "q", "gamma")


@dataclass(frozen=True)
class GammaGammaModel:
    """Fitted Gamma-Gamma parameters, with the expected spend they imply.

    ``p`` (shape of spend per purchase), ``q`` and ``gamma`` (shape and rate of
    its scale across customers). ``q`` must exceed 1 for the population mean
    spend pγ/(q−1) to exist; a fit giving q ≤ 1 is refused. ``log_likelihood``
    and ``n_customers`` record the fit and are ``None`` for parameters not
    fitted here. ``to_dict`` / ``from_dict`` round-trip through plain values.
    """

    p: float
    q: float
    gamma: float
    log_likelihood: float | None = None
    n_customers: int | None = None

    def __post_init__(self) -> None:
        for name in PARAMETERS:
            object.__setattr__(self, name, positive_number(getattr(self, name), name, MODEL))
        log_likelihood, n_customers = fit_summary(self.log_likelihood, self.n_customers, MODEL)
        object.__setattr__(self, "log_likelihood", log_likelihood)
        object.__setattr__(self, "n_customers", n_customers)

    def to_dict(self) -> dict[str, object]:
        """Plain values (floats, ints, None, the model tag) for storage."""
        return {"model": MODEL, **asdict(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> GammaGammaModel:
        """The model stored by :meth:`to_dict`; :class:`~lifecycle.errors.ConfigError` if malformed."""
        names = [field.name for field in fields(cls)]
        check_stored_keys(data, MODEL, names)
        return cls(**{name: data[name] for name in names})  # type: ignore[arg-type]

    @property
    def population_mean_spend(self) -> float:
        """E[spend per purchase] of a customer about whom nothing is known: pγ/(q−1)."""
        if self.q <= 1.0:
            return float("inf")
        return self.p * self.gamma / (self.q - 1.0)

    def expected_spend(self, frequency: ArrayLike, monetary_value: ArrayLike) -> np.ndarray:
        """E[spend per purchase | x, m_x] = (γ + m_x x) p / (px + q − 1) (the note's eq. 5).

        A weighted mean of the population mean (weight (q−1)/(px+q−1)) and the
        customer's own mean m_x (weight px/(px+q−1)); for x = 0 it is the
        population mean, whatever ``monetary_value`` holds.
        """
        x = np.asarray(frequency, dtype=np.float64)
        m_x = np.where(x > 0, np.asarray(monetary_value, dtype=np.float64), 0.0)
        return np.asarray((self.gamma + m_x * x) * self.p / (self.p * x + self.q - 1.0), dtype=np.float64)


def gamma_gamma_log_likelihood(model: GammaGammaModel, frequency: ArrayLike, monetary_value: ArrayLike) -> np.ndarray:
    """Each repeat buyer's log-density of m_x given x (the note's eq. 1a)."""
    x = np.asarray(frequency, dtype=np.float64)
    m_x = np.asarray(monetary_value, dtype=np.float64)
    value, _ = _log_likelihood_and_gradient(np.log([model.p, model.q, model.gamma]), x, m_x)
    return value


def fit_gamma_gamma(rfm: pd.DataFrame, *, sample_size: int | None = None, seed: int = 0) -> GammaGammaModel:
    """Maximum-likelihood Gamma-Gamma parameters from the repeat buyers of ``rfm``.

    ``rfm`` needs ``frequency`` and ``monetary_value``; customers with x = 0 are
    left out (``n_customers`` counts those fitted). With ``sample_size``, a
    seeded sample of that many repeat buyers is fitted.

    Raises :class:`~lifecycle.errors.ModelFitError` when there is no repeat buyer,
    a repeat buyer's mean spend is not positive (refunds netting a day to zero
    or below: exclude or correct them first), the optimiser fails, or q ≤ 1 (no
    finite population mean spend, so customers without repeats could not be
    valued).
    """
    x, m_x = rfm_arrays(rfm, ("frequency", "monetary_value"), MODEL)
    repeat = x > 0
    x, m_x = x[repeat], m_x[repeat]
    if len(x) == 0:
        raise ModelFitError(f"{MODEL}: no customer has a repeat purchase, so there is no repeat spend to fit")
    not_positive = m_x <= 0
    if not_positive.any():
        raise ModelFitError(f"{MODEL}: {int(not_positive.sum())} repeat buyers have a mean spend that is not positive")
    chosen = sample_indices(len(x), sample_size, seed)
    if chosen is not None:
        x, m_x = x[chosen], m_x[chosen]
    n = len(x)

    def negative_mean_log_likelihood(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = _log_likelihood_and_gradient(log_params, x, m_x)
        return -float(value.sum()) / n, -gradient / n

    start = np.array([0.0, 0.0, np.log(float(np.mean(m_x)))])
    log_params, mean_negative = maximise_log_likelihood(negative_mean_log_likelihood, start, PARAMETERS, MODEL)
    p, q, gamma = np.exp(log_params)
    if q <= 1.0:
        raise ModelFitError(
            f"{MODEL}: the fit gives q = {q:.3g} <= 1, so the population mean spend is infinite; "
            "spend is too heavy-tailed for this model"
        )
    return GammaGammaModel(p=p, q=q, gamma=gamma, log_likelihood=-mean_negative * n, n_customers=n)


def _log_likelihood_and_gradient(
    log_params: np.ndarray, x: np.ndarray, m_x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-customer log-likelihood and the total gradient w.r.t. log-parameters.

    ln f = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m_x + px ln x − (px+q) ln(γ + m_x x)
    """
    p, q, gamma = np.exp(log_params)
    px = p * x
    log_scale = np.log(gamma + m_x * x)
    log_m_x = np.log(m_x)
    log_x = np.log(x)
    value = (
        gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma) + (px - 1.0) * log_m_x + px * log_x
        - (px + q) * log_scale
    )
    digamma_total = digamma(px + q)
    partials = (
        x * (digamma_total - digamma(px) + log_m_x + log_x - log_scale),
        digamma_total - digamma(q) + np.log(gamma) - log_scale,
        q / gamma - (px + q) / (gamma + m_x * x),
    )
    gradient = np.array([float(partial.sum()) for partial in partials]) * np.array([p, q, gamma])
    return value, gradient
