"""Demographics of individuals: occupation, monthly income band, marital status, dependants.

Drawn per person from their own stream (so adding them changed no other
column), and plausible together: students are young and single, retirees
old, income follows the salary (or wealth without one), marriage and
children follow age. About 5 % of each value is unknown (the columns are
optional in the extract), so the labels meet missing values too.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from lifecycle.synth.formatting import labels
from lifecycle.synth.population import Population
from lifecycle.synth.rng import stream

FloatArray = npt.NDArray[np.float64]
Frame = dict[str, "pa.Array | np.ndarray"]

# Source codes, as the core system writes them (sources.yaml maps them).
WORKING_OCCUPATIONS = ("1", "2", "3", "4", "5", "6", "7", "8")
WORKING_SHARES = (0.08, 0.22, 0.18, 0.26, 0.06, 0.14, 0.01, 0.05)
INCOME_BANDS = ("A", "B", "C", "D", "E")
INCOME_LIMITS = (5_000, 10_000, 20_000, 50_000)  # monthly CNY: below each, the band before
MARITAL = ("10", "20", "30", "40")  # single, married, widowed, divorced
UNKNOWN_SHARE = 0.05


def _age_years(pop: Population, birth: npt.NDArray[np.datetime64]) -> FloatArray:
    return np.asarray((pop.as_of - birth).astype("timedelta64[D]").astype(np.int64) / 365.25, dtype=np.float64)


def _marital(rng: np.random.Generator, age: FloatArray) -> npt.NDArray[np.int64]:
    """Index into MARITAL, by age."""
    married = np.interp(age, [20, 25, 30, 35, 60, 80], [0.02, 0.25, 0.6, 0.8, 0.8, 0.6])
    widowed = np.interp(age, [50, 70, 85], [0.0, 0.12, 0.35])
    divorced = np.where(age >= 30, 0.07, 0.0)
    u = rng.random(len(age))
    return np.select([u < married, u < married + widowed, u < married + widowed + divorced], [1, 2, 3], 0)


def demographics(seed: int, pop: Population, birth: npt.NDArray[np.datetime64]) -> Frame:
    """Per person (corporates' entries are unused): the four extract columns, as source codes."""
    rng = stream(seed, "demographics")
    n = pop.n
    age = _age_years(pop, birth)
    working = rng.choice(len(WORKING_OCCUPATIONS), n, p=WORKING_SHARES)
    occupation = np.array(WORKING_OCCUPATIONS, dtype=object)[working]
    occupation = np.where((age < 23) & (rng.random(n) < 0.8), "S", occupation)
    occupation = np.where((age >= 60) & (rng.random(n) < 0.85), "R", occupation)
    monthly = np.where(pop.salaried, pop.salary_fen / 100, 3_000 * pop.wealth ** 2 * rng.lognormal(0, 0.4, n))
    monthly = np.where(occupation == "S", np.minimum(monthly, 4_000), monthly)
    income = np.searchsorted(np.array(INCOME_LIMITS), monthly, side="right")
    marital = _marital(rng, age)
    parents = np.interp(age, [22, 28, 35, 45, 60], [0.0, 0.3, 0.75, 0.8, 0.3])
    has_children = rng.random(n) < np.where(marital == 0, parents * 0.1, parents)
    dependants = np.where(has_children, 1 + rng.poisson(0.5, n), 0)
    dependants = np.where(age >= 65, np.where(rng.random(n) < 0.1, 1, 0), dependants).astype(np.int64)
    unknown = rng.random((4, n)) < UNKNOWN_SHARE
    return {
        "occupation": pa.array(occupation, pa.string(), mask=unknown[0]),
        "income_band": labels(INCOME_BANDS, income, unknown[1]),
        "marital_status": labels(MARITAL, marital, unknown[2]),
        "dependants": pa.array(dependants, pa.int64(), mask=unknown[3]),
    }
