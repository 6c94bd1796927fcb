"""The BG/NBD activity model: is a customer still active, and how often will they buy?

Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way". While active,
a customer buys as a Poisson process of rate λ ~ Gamma(r, α); after each purchase
they become inactive with probability p ~ Beta(a, b). From (x, t_x, T) alone
(see :mod:`lifecycle.decisioning.clv_rfm`) it gives P(active) and the expected
number of purchases in the next t periods.

Numerical choices (the "Traps" of DESIGN.md):

- The log-likelihood is evaluated in log space: ``betaln`` for the Beta ratio and
  ``logaddexp`` for ln(A₃ + A₄), so ``(α + T)^-(r+x)`` never underflows at
  x in the hundreds and T in the hundreds of weeks.
- The conditional expectation needs ₂F₁(r+x, b+x; a+b+x−1; z) times
  ((α+T)/(α+T+t))^(r+x), where the hypergeometric factor alone overflows for
  large x. Euler's transformation turns the product into
  (1−z)^(a−1) · ₂F₁(a+b−1−r, a−1; a+b+x−1; z) with z = t/(α+T+t): the first two
  arguments no longer grow with x, so the series stays near 1 and never
  overflows (Fader & Hardie's note on the BG/NBD "#NUM!" error takes the same
  route). At x = 0 with a + b = 1 exactly, ₂F₁ has a pole (c = 0) and its
  limit is used instead. At exactly a = 1 the closed form is 0/0 (a removable
  singularity) and gives NaN; a fitted a is never exactly 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from lifecycle.decisioning.clv_fit import (
    check_stored_keys,
    fit_summary,
    maximise_log_likelihood,
    positive_number,
    rfm_arrays,
    sample_indices,
)
from lifecycle.errors import ModelFitError

__all__ = ["BgNbdModel", "bgnbd_log_likelihood", "check_activity_summary", "fit_bgnbd"]

MODEL = "bg_nbd"
PARAMETERS = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class BgNbdModel:
    """Fitted BG/NBD parameters, with the predictions they make.

    ``r``, ``alpha`` (purchase rate: Gamma shape and rate, alpha in periods),
    ``a``, ``b`` (dropout: Beta shapes). ``period_days`` is the length of the
    period that ``alpha``, recency, T and t are measured in; ``log_likelihood``
    and ``n_customers`` record the fit (total log-likelihood, customers fitted)
    and are ``None`` for parameters that were not fitted here. ``to_dict`` /
    ``from_dict`` round-trip through plain JSON-able values so a caller can store
    them beside the fit date and data window.
    """

    r: float
    alpha: float
    a: float
    b: float
    period_days: float = 7.0
    log_likelihood: float | None = None
    n_customers: int | None = None

    def __post_init__(self) -> None:
        for name in (*PARAMETERS, "period_days"):
            object.__setattr__(self, name, positive_number(getattr(self, name), name, MODEL))
        log_likelihood, n_customers = fit_summary(self.log_likelihood, self.n_customers, MODEL)
        object.__setattr__(self, "log_likelihood", log_likelihood)
        object.__setattr__(self, "n_customers", n_customers)

    def to_dict(self) -> dict[str, object]:
        """Plain values (floats, ints, None, the model tag) for storage."""
        return {"model": MODEL, **asdict(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> BgNbdModel:
        """The model stored by :meth:`to_dict`; :class:`~lifecycle.errors.ConfigError` if malformed."""
        names = [field.name for field in fields(cls)]
        check_stored_keys(data, MODEL, names)
        return cls(**{name: data[name] for name in names})  # type: ignore[arg-type]

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """P(active at T | x, t_x, T) (Fader, Hardie & Lee 2008 note, eq. 2).

        1 / (1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)): exactly 1 for x = 0
        (a customer who never repeated cannot have dropped out after a repeat),
        falling as T grows beyond t_x. Evaluated as a logistic of the log-odds.
        """
        x, t_x, age = (np.asarray(value, dtype=np.float64) for value in (frequency, recency, T))
        log_odds_inactive = (
            np.log(self.a)
            - np.log(self.b + np.maximum(x, 1.0) - 1.0)
            + (self.r + x) * np.log1p((age - t_x) / (self.alpha + t_x))
        )
        return np.asarray(np.where(x > 0, expit(-log_odds_inactive), 1.0), dtype=np.float64)

    def expected_purchases(self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """E[purchases in (T, T+t] | x, t_x, T] (Fader, Hardie & Lee 2005, eq. 10).

        P(active) · (a+b+x−1)/(a−1) · [1 − (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; a+b+x−1; z)],
        z = t/(α+T+t): the published closed form after Euler's transformation
        (module docstring). ``t`` is in periods and broadcasts against the rest.
        """
        horizon, x, age = (np.asarray(value, dtype=np.float64) for value in (t, frequency, T))
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        log_one_minus_z = np.log(alpha + age) - np.log(alpha + age + horizon)
        z = horizon / (alpha + age + horizon)
        c = a + b + x - 1.0
        pole = c == 0.0  # x = 0 with a + b = 1 exactly: ₂F₁ has a pole there, the product does not
        c = np.where(pole, 1.0, c)
        hypergeometric = hyp2f1(a + b - 1.0 - r, a - 1.0, c, z)
        # 1 − (1−z)^(a−1)·₂F₁, through expm1 where ₂F₁ > 0 (precise for a short horizon); with
        # c = a + b + x − 1 < 0 (x = 0, a + b < 1) ₂F₁ can be negative and the product is formed directly.
        positive = hypergeometric > 0.0
        log_term = (a - 1.0) * log_one_minus_z + np.log(np.where(positive, hypergeometric, 1.0))
        still_to_buy = np.where(
            positive,
            -np.expm1(log_term),
            1.0 - np.exp((a - 1.0) * log_one_minus_z) * hypergeometric,
        )
        purchases_if_active = c / (a - 1.0) * still_to_buy
        if np.any(pole):
            # lim c→0 of c·₂F₁(A, B; c; z) is A·B·z·₂F₁(A+1, B+1; 2; z); here A = −r, B = a − 1.
            at_pole = r * z * np.exp((a - 1.0) * log_one_minus_z) * hyp2f1(1.0 - r, a, 2.0, z)
            purchases_if_active = np.where(pole, at_pole, purchases_if_active)
        return np.asarray(self.probability_alive(x, recency, age) * purchases_if_active, dtype=np.float64)


def bgnbd_log_likelihood(model: BgNbdModel, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Each customer's BG/NBD log-likelihood under ``model`` (FHL 2005, eq. 6, in log space)."""
    x, t_x, age = (np.asarray(value, dtype=np.float64) for value in (frequency, recency, T))
    value, _ = _log_likelihood_and_gradient(np.log([model.r, model.alpha, model.a, model.b]), x, t_x, age)
    return value


def fit_bgnbd(
    rfm: pd.DataFrame,
    *,
    period_days: float = 7.0,
    sample_size: int | None = None,
    seed: int = 0,
) -> BgNbdModel:
    """Maximum-likelihood BG/NBD parameters for a summary from ``rfm_summary``.

    ``rfm`` needs ``frequency``, ``recency`` and ``T`` in periods of
    ``period_days`` days (the same ``period_days`` given to ``rfm_summary``). With
    ``sample_size``, a seeded random sample of that many customers is fitted
    (the estimates apply to everyone; score all customers with them). Customers
    with the same (x, t_x, T) are fitted once with a weight, which shrinks a
    million customers to far fewer likelihood terms.

    Raises :class:`~lifecycle.errors.ModelFitError` when there are no customers,
    no repeat buyers (the dropout process is then unidentified), an inconsistent
    summary, or when the optimiser fails.
    """
    x, t_x, age = rfm_arrays(rfm, ("frequency", "recency", "T"), MODEL)
    chosen = sample_indices(len(x), sample_size, seed)
    if chosen is not None:
        x, t_x, age = x[chosen], t_x[chosen], age[chosen]
    check_activity_summary(x, t_x, age)
    if len(x) == 0:
        raise ModelFitError(f"{MODEL}: no customers to fit")
    if not np.any(x > 0):
        raise ModelFitError(
            f"{MODEL}: none of the {len(x)} customers has a repeat purchase; the dropout process cannot be estimated"
        )
    patterns, counts = np.unique(np.column_stack((x, t_x, age)), axis=0, return_counts=True)
    px, pt_x, page = patterns.T
    weights = counts.astype(np.float64)
    total = float(weights.sum())

    def negative_mean_log_likelihood(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = _log_likelihood_and_gradient(log_params, px, pt_x, page, weights)
        return -float(np.dot(weights, value)) / total, -gradient / total

    start = np.array([0.0, np.log(max(float(np.mean(age)), 1e-3)), 0.0, 0.0])
    log_params, mean_negative = maximise_log_likelihood(negative_mean_log_likelihood, start, PARAMETERS, MODEL)
    r, alpha, a, b = np.exp(log_params)
    return BgNbdModel(
        r=r,
        alpha=alpha,
        a=a,
        b=b,
        period_days=period_days,
        log_likelihood=-mean_negative * total,
        n_customers=len(x),
    )


def check_activity_summary(x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> None:
    """Refuse summaries the model cannot describe, with the count of offending customers."""
    problems = {
        "a negative or non-integer frequency": (x < 0) | (x != np.floor(x)),
        "a negative recency": t_x < 0,
        "a recency after their age T": t_x > age,
        "no repeat purchase but a non-zero recency": (x == 0) & (t_x != 0),
    }
    for what, bad in problems.items():
        if bad.any():
            raise ModelFitError(f"{MODEL}: {int(bad.sum())} customers have {what}")


def _log_likelihood_and_gradient(
    log_params: np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    age: np.ndarray,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-pattern log-likelihood and the weighted total gradient w.r.t. log-parameters.

    ln L = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
           + ln[(α+T)^−(r+x) + δ(x>0) a/(b+x−1) (α+t_x)^−(r+x)]
    The last term is a ``logaddexp`` of its two parts; w₃ and w₄ are their shares,
    which is all the gradient of that term needs.
    """
    r, alpha, a, b = np.exp(log_params)
    repeat = x > 0
    log_alpha_age = np.log(alpha + age)
    log_alpha_recency = np.log(alpha + t_x)
    b_after_last = b + np.maximum(x, 1.0) - 1.0
    log_still_active = -(r + x) * log_alpha_age
    log_dropped = np.where(repeat, np.log(a) - np.log(b_after_last) - (r + x) * log_alpha_recency, -np.inf)
    log_tail = np.logaddexp(log_still_active, log_dropped)
    value = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b) + log_tail

    w3 = np.exp(log_still_active - log_tail)
    w4 = np.exp(log_dropped - log_tail)
    partials = (
        digamma(r + x) - digamma(r) + np.log(alpha) - w3 * log_alpha_age - w4 * log_alpha_recency,
        r / alpha - (r + x) * (w3 / (alpha + age) + w4 / (alpha + t_x)),
        digamma(a + b) - digamma(a + b + x) + w4 / a,
        digamma(b + x) - digamma(b) + digamma(a + b) - digamma(a + b + x) - w4 / b_after_last,
    )
    weight = np.ones_like(x) if weights is None else weights
    gradient = np.array([float(np.dot(weight, partial)) for partial in partials]) * np.array([r, alpha, a, b])
    return value, gradient
