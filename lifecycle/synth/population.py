"""The planted population: who each customer is in lifecycle terms.

One row per real-world customer (``person``). Everything downstream —
balances, transactions, logins, feedback, loans — is derived from these
arrays, so the ground truth is planted here and the extracts follow it.
Times are kept as whole days *before* the as-of date.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lifecycle.synth.rng import between, log_uniform, quota_labels, quota_mask, stream

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

PERSONAS = ("new", "growing", "mature", "declining", "dormant", "churned")
NEW, GROWING, MATURE, DECLINING, DORMANT, CHURNED = range(6)
TIERS = ("mass", "affluent", "high_value", "private")
TIER_BOUNDS_YUAN = (50_000, 500_000, 6_000_000)
INDIVIDUAL, CORPORATE = 0, 1

TXN_HORIZON = 395  # days of transaction history (13 months)
ACTIVITY_HORIZON = 365  # digital events, card spending, feedback

CORE_PERSONA_SHARES = (0.08, 0.15, 0.42, 0.12, 0.13, 0.10)
CARD_ONLY_PERSONA_SHARES = (0.15, 0.0, 0.60, 0.0, 0.15, 0.10)
IND_TIER_SHARES = (0.60, 0.30, 0.094, 0.006)
CORP_TIER_SHARES = (0.27, 0.40, 0.29, 0.04)
OPEN_DAYS = {NEW: (5, 80), GROWING: (400, 2500), MATURE: (1100, 7000),
             DECLINING: (400, 5000), DORMANT: (600, 5000), CHURNED: (400, 4000)}
TXN_RATE = np.array([1.3, 1.15, 1.0, 0.9, 0.8, 0.9])


@dataclass
class Population:
    """Per-person plan. All arrays have one entry per person."""

    as_of: np.datetime64
    kind: npt.NDArray[np.int8]
    has_core: BoolArray
    has_card: BoolArray
    persona: npt.NDArray[np.int8]
    tier: npt.NDArray[np.int8]  # planted tier (truth is recomputed from balances)
    open_days: IntArray  # relationship start (core, or card for card-only)
    card_open_days: IntArray
    quiet_days: IntArray  # dormant: days since the last customer action
    close_days: IntArray  # churned: days since the accounts were closed
    aum_fen: IntArray  # AUM at as-of (churned: level before closing)
    growth: FloatArray  # growing: AUM(as-of) / AUM(180 days before)
    drop: FloatArray  # declining: fall over the last 70 days
    n_accounts: IntArray
    account_offset: IntArray
    legacy: BoolArray  # has a second (legacy) core record
    legacy_open_days: IntArray  # legacy record's (older) open date
    aml_high: BoolArray
    borrower: BoolArray
    credit_high: BoolArray
    digital: BoolArray
    salaried: BoolArray
    salary_fen: IntArray
    salary_day: IntArray
    salary_stop_days: IntArray
    wealth: FloatArray
    rm: IntArray
    txn_expected: FloatArray  # customer-initiated core transactions
    digital_expected: FloatArray
    card_expected: FloatArray

    @property
    def n(self) -> int:
        return len(self.kind)

    @property
    def end_days(self) -> IntArray:
        """Most recent day (days before as-of) a customer action may happen."""
        return np.maximum(self.quiet_days, self.close_days)


def _aum_for_tier(rng: np.random.Generator, tier: npt.NDArray[np.int8]) -> FloatArray:
    n = len(tier)
    mass = np.clip(np.exp(rng.normal(np.log(12_000), 1.0, n)), 200, 45_000)
    ranges = [(60_000, 450_000), (600_000, 5_500_000), (6_600_000, 50_000_000)]
    out = mass
    for t, (low, high) in enumerate(ranges, start=1):
        out = np.where(tier == t, log_uniform(rng, low, high, n), out)
    return out


def plan_population(
    seed: int, customers: int, as_of: np.datetime64, txns_per_customer: float, n_rms: int
) -> Population:
    """Draw kinds, personas, tiers, timelines and risk flags for everyone."""
    rng = stream(seed, "population")
    n = customers
    n_corp = max(1, int(round(0.05 * n)))
    kind = np.zeros(n, dtype=np.int8)
    kind[n - n_corp :] = CORPORATE
    ind = kind == INDIVIDUAL
    n_ind = int(ind.sum())
    has_card = np.zeros(n, dtype=bool)
    has_card[:n_ind] = quota_labels(rng, n_ind, (0.65, 0.35), min_each=2) == 1
    card_only = has_card & quota_mask(rng, has_card, 0.20, minimum=1)
    has_core = ~card_only

    persona = np.zeros(n, dtype=np.int8)
    core_ind = np.flatnonzero(has_core & ind)
    corp = np.flatnonzero(~ind)
    only = np.flatnonzero(card_only)
    persona[core_ind] = quota_labels(rng, len(core_ind), CORE_PERSONA_SHARES, min_each=1)
    persona[corp] = quota_labels(rng, len(corp), CORE_PERSONA_SHARES, min_each=1)
    persona[only] = quota_labels(rng, len(only), CARD_ONLY_PERSONA_SHARES, min_each=0)

    open_days = np.zeros(n, dtype=np.int64)
    for p, (first, last) in OPEN_DAYS.items():
        sel = persona == p
        open_days[sel] = between(rng, first, last, int(sel.sum()))
    open_days[only] = np.minimum(open_days[only], np.where(persona[only] == NEW, 80, 3000))
    quiet = np.where(persona == DORMANT, between(rng, 200, 330, n), 0)
    close = np.where(persona == CHURNED, between(rng, 20, 150, n), 0)
    card_lo = np.where(persona == NEW, 0, np.maximum(quiet, close) + 60)
    card_open = np.where(card_only, open_days, between(rng, card_lo, open_days))
    card_open = np.where(has_card, np.minimum(card_open, open_days), 0)

    tier = np.zeros(n, dtype=np.int8)
    active = has_core & (persona <= DECLINING)
    for group, shares in ((active & ind, IND_TIER_SHARES), (active & ~ind, CORP_TIER_SHARES)):
        idx = np.flatnonzero(group)
        tier[idx] = quota_labels(rng, len(idx), shares, min_each=1)
    aum = _aum_for_tier(rng, tier)
    aum = np.where(persona == DORMANT, log_uniform(rng, 5, 3_000, n), aum)
    aum = np.where(persona == CHURNED, log_uniform(rng, 1_000, 300_000, n), aum)
    aum_fen = np.where(has_core, np.round(aum * 100), 0).astype(np.int64)

    n_acc = 1 + rng.binomial(1, 0.5, n) + np.array([0, 1, 2, 3])[tier]
    n_acc = np.where(persona >= DORMANT, 1 + rng.binomial(1 + (persona == CHURNED), 0.5, n), n_acc)
    n_acc = np.where(kind == CORPORATE, 1 + rng.integers(0, 4, n), n_acc)
    not_new_core = has_core & (persona != NEW)
    legacy = quota_mask(rng, not_new_core & ind, 0.005, minimum=1 if n_ind >= 100 else 0)
    legacy |= quota_mask(rng, not_new_core & ~ind, 0.005, minimum=1 if n_corp >= 20 else 0)
    n_acc = np.where(has_core, n_acc + legacy, 0).astype(np.int64)
    offset = np.concatenate([[0], np.cumsum(n_acc)[:-1]]).astype(np.int64)

    lo = np.maximum(quiet, close)
    span = np.clip(np.minimum(open_days, TXN_HORIZON) - lo, 0, None)
    aml = quota_mask(rng, has_core & (persona <= DECLINING) & (span >= 30), 0.02, minimum=1)
    can_borrow = has_core & (persona != DORMANT)
    borrower = quota_mask(rng, can_borrow, min(1.0, 0.20 * n / max(int(can_borrow.sum()), 1)), minimum=2)
    credit_high = quota_mask(rng, borrower & (persona != CHURNED), 0.15, minimum=1)
    digital = has_core & (rng.random(n) < np.where(ind, 0.75, 0.6))
    salaried = has_core & ind & (rng.random(n) < 0.6)
    salary = np.exp(rng.normal(np.log(9_000), 0.35, n)) * np.array([1.0, 1.8, 3.5, 6.0])[tier]
    stop = np.select(
        [persona == DECLINING, persona == CHURNED],
        [between(rng, 60, 120, n), close + rng.integers(0, 30, n)],
        quiet,
    )
    wealth = np.clip((np.maximum(aum, 1_000) / 20_000) ** 0.25, 0.5, 6.0)
    wealth = np.where(kind == CORPORATE, wealth * 15, wealth)

    kind_rate = np.where(kind == CORPORATE, 3.0, 1.0)
    txn_w = np.where(has_core, TXN_RATE[persona] * kind_rate * span / TXN_HORIZON, 0.0)
    dspan = np.clip(np.minimum(open_days, ACTIVITY_HORIZON) - lo, 0, None)
    dig_w = np.where(digital, TXN_RATE[persona] * dspan / ACTIVITY_HORIZON, 0.0)
    cspan = np.clip(np.minimum(card_open, ACTIVITY_HORIZON) - lo, 0, None)
    card_w = np.where(has_card, TXN_RATE[persona] * cspan / ACTIVITY_HORIZON, 0.0)
    salary_rows = 12.0 * salaried.sum() * 0.8
    budget = max(n * txns_per_customer - salary_rows, 0.3 * n * txns_per_customer)

    return Population(
        as_of=as_of, kind=kind, has_core=has_core, has_card=has_card, persona=persona,
        tier=tier, open_days=open_days, card_open_days=card_open.astype(np.int64),
        quiet_days=quiet.astype(np.int64), close_days=close.astype(np.int64), aum_fen=aum_fen,
        growth=rng.uniform(1.6, 3.0, n), drop=rng.uniform(0.4, 0.85, n), n_accounts=n_acc,
        account_offset=offset, legacy=legacy,
        legacy_open_days=np.where(legacy, open_days + rng.integers(200, 2000, n), 0),
        aml_high=aml, borrower=borrower,
        credit_high=credit_high, digital=digital, salaried=salaried,
        salary_fen=np.round(salary * 100).astype(np.int64),
        salary_day=np.array([5, 10, 15, 20, 25])[rng.integers(0, 5, n)].astype(np.int64),
        salary_stop_days=stop.astype(np.int64), wealth=wealth,
        rm=rng.integers(0, n_rms, n).astype(np.int64),
        txn_expected=txn_w * budget / max(txn_w.sum(), 1e-9),
        digital_expected=dig_w * 12.0 * max(digital.sum(), 1) / max(dig_w.sum(), 1e-9),
        card_expected=card_w * 3.0 * max(has_card.sum(), 1) / max(card_w.sum(), 1e-9),
    )


def value_tier(aum_yuan: FloatArray) -> npt.NDArray[np.int8]:
    """Tier index from AUM in yuan (mass < 50k ≤ affluent < 500k ≤ high < 6M ≤ private)."""
    return np.searchsorted(np.array(TIER_BOUNDS_YUAN), aum_yuan, side="right").astype(np.int8)


def rm_count(customers: int) -> int:
    """About one relationship manager per 500 customers, at least five."""
    return max(5, int(round(customers / 500)))
