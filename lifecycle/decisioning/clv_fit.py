"""What the CLV model fits share: input checks, sampling, and one maximiser.

Both models are fitted by maximum likelihood over the *logarithms* of their
positive parameters: the search is then unconstrained in practice, a step can
never produce a negative shape or scale, and parameters of very different
magnitudes (r ≈ 0.2 beside alpha ≈ 4 or 30) are searched on comparable scales.
The objective is the mean negative log-likelihood per customer, so tolerances do
not depend on how many customers are fitted, and its gradient is analytic.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from lifecycle.errors import ConfigError, ModelFitError

__all__ = [
    "LOG_PARAMETER_BOUND",
    "NegativeLogLikelihood",
    "check_stored_keys",
    "fit_summary",
    "maximise_log_likelihood",
    "positive_number",
    "rfm_arrays",
    "sample_indices",
]

#: Log-parameters are kept within ±18.4, i.e. each parameter within [1e-8, 1e8].
#: A maximum found on this bound means the data do not pin the model down.
LOG_PARAMETER_BOUND = 18.42

NegativeLogLikelihood = Callable[[np.ndarray], tuple[float, np.ndarray]]


def rfm_arrays(rfm: pd.DataFrame, columns: Sequence[str], model: str) -> list[np.ndarray]:
    """The named summary columns as float64 arrays, refused if absent or not finite."""
    missing = [column for column in columns if column not in rfm.columns]
    if missing:
        raise ModelFitError(f"{model}: the summary lacks the column(s) {missing}")
    arrays = [rfm[column].to_numpy(dtype=np.float64) for column in columns]
    for column, values in zip(columns, arrays, strict=True):
        bad = ~np.isfinite(values)
        if bad.any():
            raise ModelFitError(f"{model}: {int(bad.sum())} customers have a missing or infinite {column!r}")
    return arrays


def sample_indices(n: int, sample_size: int | None, seed: int) -> np.ndarray | None:
    """Row positions of a seeded sample without replacement, or ``None`` for all rows.

    Fitting four parameters does not need a million customers: a sample of
    100k gives the same estimates to about two digits in a fraction of the
    time, and every customer is still scored with them.
    """
    if sample_size is None or sample_size >= n:
        return None
    if sample_size <= 0:
        raise ModelFitError(f"sample_size must be positive, got {sample_size}")
    return np.sort(np.random.default_rng(seed).choice(n, size=sample_size, replace=False))


def maximise_log_likelihood(
    negative_log_likelihood: NegativeLogLikelihood,
    start: np.ndarray,
    names: Sequence[str],
    model: str,
) -> tuple[np.ndarray, float]:
    """Minimise a mean negative log-likelihood over log-parameters.

    ``negative_log_likelihood`` maps log-parameters to (value, gradient). Returns
    the log-parameters at the optimum and the value there. Raises
    :class:`~lifecycle.errors.ModelFitError` naming the cause when the optimiser
    fails, the value is not finite, or a parameter ends on its bound.
    """
    bounds = [(-LOG_PARAMETER_BOUND, LOG_PARAMETER_BOUND)] * len(start)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        result = minimize(
            negative_log_likelihood,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 1000, "ftol": 1e-15, "gtol": 1e-9},
        )
    if not np.isfinite(result.fun) or not np.all(np.isfinite(result.x)):
        raise ModelFitError(f"{model}: the optimiser reached a non-finite log-likelihood ({result.message})")
    gradient = np.asarray(result.jac, dtype=np.float64)
    if not result.success and np.max(np.abs(gradient)) > 1e-5:
        raise ModelFitError(f"{model}: the optimiser did not converge after {result.nit} iterations ({result.message})")
    on_bound = [name for name, value in zip(names, result.x, strict=True) if abs(value) >= LOG_PARAMETER_BOUND - 1e-6]
    if on_bound:
        raise ModelFitError(
            f"{model}: the maximum lies at the edge of the parameter space ({', '.join(on_bound)}); "
            "the data do not identify the model"
        )
    return np.asarray(result.x, dtype=np.float64), float(result.fun)


def check_stored_keys(data: Mapping[str, object], model: str, fields: Sequence[str]) -> None:
    """Refuse stored parameters unless they carry exactly ``fields`` and the model tag."""
    if data.get("model") != model:
        raise ConfigError(f"stored parameters are for model {data.get('model')!r}, expected {model!r}")
    keys = set(data) - {"model"}
    if keys != set(fields):
        raise ConfigError(
            f"stored {model} parameters: missing {sorted(set(fields) - keys)}, unexpected {sorted(keys - set(fields))}"
        )


def positive_number(value: object, name: str, model: str) -> float:
    """``value`` as a float if it is a finite positive real number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ConfigError(f"{model} parameter {name!r} must be a number, got {type(value).__name__}")
    number = float(value)
    if not (np.isfinite(number) and number > 0):
        raise ConfigError(f"{model} parameter {name!r} must be finite and positive, got {number!r}")
    return number


def fit_summary(log_likelihood: object, n_customers: object, model: str) -> tuple[float | None, int | None]:
    """The optional fit record (log-likelihood, customers fitted) as plain Python values."""
    if log_likelihood is not None:
        if isinstance(log_likelihood, bool) or not isinstance(log_likelihood, int | float | np.integer | np.floating):
            raise ConfigError(f"{model} log_likelihood must be a number or None")
        log_likelihood = float(log_likelihood)
        if not np.isfinite(log_likelihood):
            raise ConfigError(f"{model} log_likelihood must be finite, got {log_likelihood!r}")
    if n_customers is not None:
        if isinstance(n_customers, bool) or not isinstance(n_customers, int | np.integer) or n_customers < 0:
            raise ConfigError(f"{model} n_customers must be a non-negative integer or None")
        n_customers = int(n_customers)
    return log_likelihood, n_customers
