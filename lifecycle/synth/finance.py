"""Accounts and month-end balances that follow each customer's persona.

A person's AUM path over the snapshot dates is drawn from the persona
(growing: rising every month; declining: down by 40-85 % over the last 70
days; churned: zero after closing; ...) and split over the person's accounts
with fixed shares, so the sum of ``balance_cny`` tells the planted story.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.synth.formatting import prefixed_numbers
from lifecycle.synth.population import CHURNED, CORPORATE, DECLINING, DORMANT, GROWING, MATURE, NEW, Population
from lifecycle.synth.rng import affine_permutation, between, stream
from lifecycle.synth.timeline import dates_before, month_end_snapshots, repeat_owner

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Frame = dict[str, "pa.Array | np.ndarray"]

CATEGORIES = np.array(["DEPOSIT", "TIME_DEPOSIT", "WEALTH", "FUND", "INSURANCE"], dtype=object)
DEPOSIT, TIME_DEPOSIT, WEALTH, FUND, INSURANCE = range(5)
CURRENCIES = np.array(["CNY", "USD", "HKD", "EUR"], dtype=object)
FX_RATE = np.array([1.0, 7.10, 0.91, 7.75])  # synthetic fixed CNY rates
PRODUCTS = {
    DEPOSIT: ("DD-SAV",), TIME_DEPOSIT: ("TD-3M", "TD-6M", "TD-1Y", "TD-2Y", "TD-3Y", "TD-5Y"),
    WEALTH: ("WM-R1", "WM-R2", "WM-R3", "WM-R4"), FUND: ("FD-MMF", "FD-BOND", "FD-EQTY", "FD-MIX"),
    INSURANCE: ("INS-LIFE", "INS-ANN", "INS-HEALTH"),
}
MASS_MIX = (0.0, 0.5, 0.1, 0.3, 0.1)
RICH_MIX = (0.0, 0.25, 0.35, 0.25, 0.15)
DECLINE_START = 70  # days before as-of when a declining customer's AUM starts falling


@dataclass(frozen=True)
class AccountChunk:
    """Accounts and balances of persons ``[start, stop)``."""

    accounts: Frame
    balances: Frame
    person: IntArray  # global person index per account
    account_no: pa.Array
    currency: npt.NDArray[np.int64]
    balance_fen: IntArray  # as-of balance in account currency
    aum_fen: IntArray  # per person in the chunk: sum of balance_cny at as-of
    main_account: pa.Array  # per person in the chunk: first demand account (or null)
    fx_account: pa.Array  # per person in the chunk: a foreign-currency account (or null)
    fx_currency: IntArray  # per person in the chunk: its currency index (0 if none)


def account_numbers(seed: int, index: IntArray) -> pa.Array:
    """16-digit account numbers, unique for distinct global account indexes."""
    return prefixed_numbers("62170", affine_permutation(stream(seed, "account_no"), index, 10**11), 11)


def aum_paths(pop: Population, persons: IntArray, t: IntArray, rng: np.random.Generator) -> FloatArray:
    """AUM (fen) per person (rows) and snapshot ``t`` days before as-of (columns)."""
    aum = pop.aum_fen[persons].astype(np.float64)[:, None]
    persona = pop.persona[persons][:, None]
    tt = t[None, :].astype(np.float64)
    noise = rng.normal(0, 1, (len(persons), len(t)))
    growth = pop.growth[persons][:, None]
    pre = aum / (1 - pop.drop[persons][:, None])
    declining = np.where(tt >= DECLINE_START, pre * (1 + 0.02 * noise),
                         aum + (pre - aum) * tt / DECLINE_START)
    opened = np.maximum(pop.open_days[persons][:, None], 1)
    churned = np.where(tt > pop.close_days[persons][:, None], aum * (1 + 0.05 * noise), 0.0)
    path = np.select(
        [persona == MATURE, persona == GROWING, persona == DECLINING, persona == CHURNED,
         persona == NEW],
        [aum * (1 + 0.03 * noise), aum * growth ** (-tt / 180), declining, churned,
         aum * (1 - 0.5 * np.minimum(tt / opened, 1))],
        aum,
    )
    return np.where(tt == 0, np.where(persona == CHURNED, 0.0, aum), np.maximum(path, 0))


def _categories(rng: np.random.Generator, tier: npt.NDArray[np.int8]) -> IntArray:
    mass = rng.choice(5, len(tier), p=MASS_MIX)
    rich = rng.choice(5, len(tier), p=RICH_MIX)
    return np.where(tier >= 1, rich, mass).astype(np.int64)


def account_chunk(
    seed: int, chunk: int, pop: Population, primary: pa.Array, legacy: pa.Array,
    start: int, stop: int,
) -> AccountChunk:
    """Accounts, balance snapshots and as-of AUM for persons ``[start, stop)``."""
    rng = stream(seed, "accounts", chunk)
    persons = np.arange(start, stop, dtype=np.int64)
    counts = pop.n_accounts[persons]
    pos = repeat_owner(counts)
    person = persons[pos]
    n = len(person)
    ordinal = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)
    is_legacy = pop.legacy[person] & (ordinal == counts[pos] - 1)
    first = ordinal == 0
    persona = pop.persona[person]
    corp = pop.kind[person] == CORPORATE
    tier = pop.tier[person]

    category = np.where(first | is_legacy | (persona == DORMANT), DEPOSIT, _categories(rng, tier))
    category = np.where(corp & (category == INSURANCE), TIME_DEPOSIT, category)
    fx = ~first & ~is_legacy & (tier >= 1) & (rng.random(n) < 0.08)
    category = np.where(fx, DEPOSIT, category)
    currency = np.where(fx, rng.choice([1, 2, 3], n, p=[0.6, 0.3, 0.1]), 0)
    product = np.empty(n, dtype=object)
    for cat, codes in PRODUCTS.items():
        rows = category == cat
        product[rows] = np.array(codes, dtype=object)[rng.integers(0, len(codes), rows.sum())]
    product[(category == DEPOSIT) & corp] = "DD-CORP"
    product[fx] = "DD-FX"
    product[corp & (category != DEPOSIT)] = np.char.add(
        product[corp & (category != DEPOSIT)].astype(str), "-C").astype(object)

    p_open = pop.open_days[person]
    acc_open = np.where(
        first, p_open,
        np.where(persona == NEW, between(rng, 0, p_open, n), between(rng, 200, p_open, n)),
    )
    acc_open = np.where(is_legacy, pop.legacy_open_days[person], acc_open)
    old_closed = (~first & ~is_legacy & (counts[pos] >= 3) & (ordinal == counts[pos] - 1)
                  & np.isin(persona, (MATURE, GROWING)) & (rng.random(n) < 0.1))
    close_days = np.where(persona == CHURNED,
                          pop.close_days[person] + np.where(first, 0, rng.integers(0, 11, n)), -1)
    close_days = np.where(old_closed, rng.integers(200, 361, n), close_days)
    acc_open = np.where(old_closed, np.minimum(close_days + rng.integers(30, 1000, n), p_open),
                        acc_open)
    status = np.where(close_days >= 0, "CLOSED", np.where(persona == DORMANT, "DORMANT", "ACTIVE"))

    share = np.where(old_closed, 0.0, rng.gamma(1.0, 1.0, n))
    share = share / np.bincount(pos, weights=share, minlength=len(persons))[pos]
    snaps = month_end_snapshots(pop.as_of)
    t = (pop.as_of - snaps).astype(np.int64)
    paths = aum_paths(pop, persons, t, rng)[pos] * share[:, None]
    paths = np.where(t[None, :] <= close_days[:, None], 0.0, paths)
    rate = FX_RATE[currency][:, None]
    native = np.round(paths / rate)
    cny = np.round(native * rate).astype(np.int64)
    exists = t[None, :] <= acc_open[:, None]

    index = pop.account_offset[person] + ordinal
    account_no = account_numbers(seed, index)
    owner = pc.if_else(pa.array(is_legacy), legacy.take(pa.array(person)),
                       primary.take(pa.array(person)))
    rows, cols = np.nonzero(exists)
    accounts: Frame = {
        "account_no": account_no,
        "cust_no": owner,
        "product_code": pa.array(product, pa.string()),
        "product_category": pa.array(CATEGORIES[category], pa.string()),
        "currency": pa.array(CURRENCIES[currency], pa.string()),
        "open_date": dates_before(pop.as_of, acc_open),
        "close_date": np.where(close_days >= 0, dates_before(pop.as_of, np.maximum(close_days, 0)),
                               np.datetime64("NaT", "D")),
        "status": pa.array(status.astype(object), pa.string()),
    }
    balances: Frame = {
        "account_no": account_no.take(pa.array(rows)),
        "balance_date": snaps[cols],
        "balance": native.astype(np.int64)[rows, cols],
        "balance_cny": cny[rows, cols],
    }
    main = _per_person(len(persons), np.flatnonzero(first), pos, account_no)
    fx_rows = np.flatnonzero(fx)
    return AccountChunk(
        accounts=accounts, balances=balances, person=person, account_no=account_no,
        currency=currency, balance_fen=native[:, -1].astype(np.int64),
        aum_fen=np.bincount(pos, weights=cny[:, -1], minlength=len(persons)).astype(np.int64),
        main_account=main, fx_account=_per_person(len(persons), fx_rows, pos, account_no),
        fx_currency=_fx_currency(len(persons), fx_rows, pos, currency),
    )


def _per_person(n: int, rows: IntArray, pos: IntArray, values: pa.Array) -> pa.Array:
    out = np.full(n, None, dtype=object)
    out[pos[rows]] = np.asarray(values.take(pa.array(rows)).to_numpy(zero_copy_only=False))
    return pa.array(out, pa.string())


def _fx_currency(n: int, rows: IntArray, pos: IntArray, currency: IntArray) -> IntArray:
    out = np.zeros(n, dtype=np.int64)
    out[pos[rows]] = currency[rows]
    return out
