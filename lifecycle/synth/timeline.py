"""Turning 'days before as-of' into dates and event times that follow a persona."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from lifecycle.synth.population import DECLINING, GROWING

IntArray = npt.NDArray[np.int64]
DateArray = npt.NDArray[np.datetime64]

# Share of customer actions per hour of day (bank-app traffic shape).
HOUR_PROFILE = np.array(
    [0.4, 0.2, 0.1, 0.1, 0.1, 0.2, 0.8, 2.0, 3.5, 5.0, 5.5, 5.5,
     5.0, 5.0, 5.5, 5.5, 5.0, 5.0, 5.5, 6.0, 6.0, 5.0, 3.0, 1.5]
)
HOUR_PROFILE = HOUR_PROFILE / HOUR_PROFILE.sum()


def dates_before(as_of: np.datetime64, days: npt.ArrayLike) -> DateArray:
    """Calendar dates ``days`` before ``as_of``."""
    return as_of - np.asarray(days, dtype=np.int64).astype("timedelta64[D]")


def times_on(dates: DateArray, seconds: IntArray) -> DateArray:
    """Timestamps (second resolution) at ``seconds`` after midnight of ``dates``."""
    out: DateArray = dates.astype("datetime64[s]") + seconds.astype("timedelta64[s]")
    return out


def daytime_seconds(rng: np.random.Generator, n: int) -> IntArray:
    """Seconds after midnight following the daily activity profile."""
    hours = rng.choice(24, size=n, p=HOUR_PROFILE)
    return (hours * 3600 + rng.integers(0, 3600, n)).astype(np.int64)


def office_seconds(rng: np.random.Generator, n: int) -> IntArray:
    """Seconds after midnight between 09:00 and 17:00 (branch, payroll)."""
    return rng.integers(9 * 3600, 17 * 3600, n).astype(np.int64)


def persona_days(
    rng: np.random.Generator, persona: npt.NDArray[np.int8], lo: IntArray, hi: IntArray
) -> IntArray:
    """Days-before-as-of in ``[lo, hi]`` with the persona's activity trend.

    Growing customers act more and more (recent days weigh more); declining
    customers less and less (a mix of uniform and past-heavy draws).
    """
    u = rng.random(len(lo))
    x = np.where(persona == GROWING, 1.0 - np.sqrt(u), u)
    past_heavy = np.sqrt(rng.random(len(lo)))
    x = np.where((persona == DECLINING) & (rng.random(len(lo)) < 0.6), past_heavy, x)
    return np.asarray(np.clip(lo + np.floor(x * (hi - lo + 1)), lo, hi), dtype=np.int64)


def month_end_snapshots(as_of: np.datetime64, months: int = 6) -> DateArray:
    """The last ``months`` month-ends before ``as_of`` plus ``as_of`` itself."""
    this_month = as_of.astype("datetime64[M]")
    ends = (this_month - np.arange(months, 0, -1)).astype("datetime64[M]") + 1
    ends = ends.astype("datetime64[D]") - 1
    out = np.concatenate([ends, [as_of]]).astype("datetime64[D]")
    return np.unique(out)


def repeat_owner(counts: IntArray) -> IntArray:
    """Owner position for each of ``counts[i]`` rows of owner ``i``."""
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)
