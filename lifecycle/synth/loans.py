"""Loans with overdue histories consistent with status and five-class grade.

Five-class rules (CBIRC): current -> 1; overdue up to 90 days -> 2 (special
mention); over 90 days is non-performing: 3 up to 180, 4 up to 360, 5 beyond.
A high-credit-risk customer has one loan over 30 days overdue or NPL.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from lifecycle.synth.population import CHURNED, CORPORATE, NEW, Population
from lifecycle.synth.rng import between, log_uniform, stream
from lifecycle.synth.timeline import dates_before, repeat_owner

IntArray = npt.NDArray[np.int64]
Frame = dict[str, "pa.Array | np.ndarray"]

PRODUCTS = np.array(["MORTGAGE", "CONSUMER", "BUSINESS", "AUTO"], dtype=object)
MORTGAGE, CONSUMER, BUSINESS, AUTO = range(4)
PRINCIPAL_YUAN = {MORTGAGE: (300_000, 3_000_000), CONSUMER: (10_000, 300_000),
                  BUSINESS: (500_000, 50_000_000), AUTO: (50_000, 400_000)}
TERM_YEARS = {MORTGAGE: (20, 31), CONSUMER: (1, 4), BUSINESS: (1, 6), AUTO: (3, 6)}
RATE_PCT = {MORTGAGE: (3.0, 4.5), CONSUMER: (4.0, 12.0), BUSINESS: (3.5, 6.0), AUTO: (3.5, 7.0)}


def five_class(overdue_days: IntArray) -> IntArray:
    """Regulatory grade 1-5 from current days overdue."""
    return np.select(
        [overdue_days == 0, overdue_days <= 90, overdue_days <= 180, overdue_days <= 360],
        [1, 2, 3, 4], 5,
    ).astype(np.int64)


def loan_frame(seed: int, pop: Population, primary: pa.Array) -> Frame:
    """loans rows (without ``loan_no``) for all borrowers, in person order."""
    rng = stream(seed, "loans")
    borrowers = np.flatnonzero(pop.borrower)
    counts = 1 + (rng.random(len(borrowers)) < 0.1)
    pos = repeat_owner(counts)
    person = borrowers[pos]
    n = len(person)
    first = np.r_[True, pos[1:] != pos[:-1]] if n else np.zeros(0, dtype=bool)
    corp = pop.kind[person] == CORPORATE
    product = np.where(corp, BUSINESS, rng.choice([MORTGAGE, CONSUMER, AUTO], n, p=[0.4, 0.4, 0.2]))
    principal = np.zeros(n)
    term_days = np.zeros(n, dtype=np.int64)
    rate = np.zeros(n)
    for p in (MORTGAGE, CONSUMER, BUSINESS, AUTO):
        sel = product == p
        k = int(sel.sum())
        principal[sel] = log_uniform(rng, *PRINCIPAL_YUAN[p], k)
        term_days[sel] = rng.integers(*TERM_YEARS[p], k) * 365
        rate[sel] = rng.uniform(*RATE_PCT[p], k)
    principal = np.round(principal / 1000) * 1000

    bad = pop.credit_high[person] & first
    npl = bad & (rng.random(n) < 0.5)
    overdue = np.where(npl, rng.integers(91, 721, n), np.where(bad, rng.integers(31, 91, n), 0))
    open_days = pop.open_days[person]
    persona = pop.persona[person]
    start = np.where(persona == NEW, between(rng, 0, open_days, n),
                     between(rng, 30, np.minimum(open_days, term_days + 365), n))
    start = np.where(bad, np.maximum(start, overdue + 90), start)
    start = np.where(persona == CHURNED, np.maximum(start, pop.close_days[person] + 180), start)
    term_days = np.where(bad, np.maximum(term_days, start + 30), term_days)
    matured = start >= term_days
    closed = ~bad & (matured | (persona == CHURNED))
    status = np.where(closed, "CLOSED", np.where(npl, "NPL", np.where(bad, "OVERDUE", "NORMAL")))
    elapsed = np.where(bad, start - overdue, start)
    outstanding = np.where(closed, 0.0, principal * np.clip(1 - elapsed / term_days, 0.05, 1))
    past = (status == "NORMAL") & (rng.random(n) < 0.1)
    max12 = np.where(bad, overdue, np.where(past, rng.integers(1, 30, n), 0))
    return {
        "borrower_id": primary.take(pa.array(person)),
        "product": pa.array(PRODUCTS[product], pa.string()),
        "principal": np.round(principal * 100).astype(np.int64),
        "outstanding": np.round(outstanding * 100).astype(np.int64),
        "interest_rate": np.round(rate * 100).astype(np.int64),
        "start_date": dates_before(pop.as_of, start),
        "maturity_date": dates_before(pop.as_of, start - term_days),
        "status": pa.array(status.astype(object), pa.string()),
        "overdue_days": overdue.astype(np.int64),
        "max_overdue_days_12m": max12.astype(np.int64),
        "five_class": pa.array(five_class(overdue).astype(str).astype(object), pa.string()),
    }
