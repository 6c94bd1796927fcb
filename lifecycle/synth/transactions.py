"""Core banking transactions for a chunk of customers.

Row sets, each following the persona: everyday transactions (Poisson count,
persona-shaped dates), monthly salary credits (stopping early for declining
and churned customers), planted AML patterns (large cash days, frequent
cross-border transfers), quarterly interest on dormant accounts (the only
rows after a dormant customer's last action) and a closing transfer for
churned customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.synth.finance import CURRENCIES, FX_RATE, AccountChunk
from lifecycle.synth.formatting import labels
from lifecycle.synth.pools import XB_COUNTRIES, XB_SHARES
from lifecycle.synth.population import CHURNED, CORPORATE, DORMANT, TXN_HORIZON, Population
from lifecycle.synth.rng import stream
from lifecycle.synth.timeline import dates_before, daytime_seconds, office_seconds, persona_days, repeat_owner, times_on

IntArray = npt.NDArray[np.int64]
Frame = dict[str, "pa.Array | np.ndarray"]

TYPES = np.array(["CASH_DEP", "CASH_WDL", "TRF_IN", "TRF_OUT", "SALARY", "PAYMENT", "XB_IN",
                  "XB_OUT", "FEE", "INTEREST"], dtype=object)
CASH_DEP, CASH_WDL, TRF_IN, TRF_OUT, SALARY, PAYMENT, XB_IN, XB_OUT, FEE, INTEREST = range(10)
CREDIT_TYPES = (CASH_DEP, TRF_IN, SALARY, XB_IN, INTEREST)
CUSTOMER_INITIATED = (CASH_DEP, CASH_WDL, TRF_IN, TRF_OUT, SALARY, PAYMENT, XB_IN, XB_OUT)
IND_MIX = np.array([0.06, 0.07, 0.14, 0.16, 0.0, 0.46, 0.003, 0.004, 0.02, 0.03])
CORP_MIX = np.array([0.05, 0.03, 0.33, 0.33, 0.0, 0.2, 0.006, 0.006, 0.03, 0.02])
MEDIAN_YUAN = np.array([1500, 800, 1800, 1500, 9000, 120, 15000, 15000, 10, 15], dtype=float)
SIGMA = np.array([0.9, 0.8, 1.1, 1.1, 0.1, 1.0, 0.9, 0.9, 0.6, 1.0])
CASH_CAP_FEN = 12_000 * 100  # everyday cash stays far below the 50,000 CNY report line
AML_CASH_MIN_YUAN = 50_000
CHANNELS = np.array(["BRANCH", "ATM", "MOBILE", "ONLINE", "POS", None], dtype=object)
CHANNEL_MIX = {  # type -> shares over CHANNELS
    CASH_DEP: (0.4, 0.6, 0, 0, 0, 0), CASH_WDL: (0.4, 0.6, 0, 0, 0, 0),
    TRF_IN: (0.1, 0, 0.6, 0.3, 0, 0), TRF_OUT: (0.1, 0, 0.6, 0.3, 0, 0),
    SALARY: (0, 0, 0, 1, 0, 0), PAYMENT: (0, 0, 0.55, 0.15, 0.3, 0),
    XB_IN: (0.5, 0, 0, 0.5, 0, 0), XB_OUT: (0.5, 0, 0, 0.5, 0, 0),
    FEE: (0, 0, 0, 0, 0, 1), INTEREST: (0, 0, 0, 0, 0, 1),
}


@dataclass
class Rows:
    """Transaction rows before rendering; ``pos`` indexes persons in the chunk."""

    pos: IntArray
    days: IntArray
    seconds: IntArray
    kind: IntArray
    fen: IntArray

    @staticmethod
    def concat(parts: list[Rows]) -> Rows:
        return Rows(*(np.concatenate([getattr(p, f) for p in parts]).astype(np.int64)
                      for f in ("pos", "days", "seconds", "kind", "fen")))


def _lognormal_fen(rng: np.random.Generator, kind: IntArray, scale: npt.NDArray[np.float64]) -> IntArray:
    yuan = np.exp(rng.normal(np.log(MEDIAN_YUAN[kind]), SIGMA[kind])) * scale
    return np.maximum(np.round(yuan * 100), 1).astype(np.int64)


def window(pop: Population, persons: IntArray, horizon: int) -> tuple[IntArray, IntArray]:
    """Customer actions happen between ``lo`` and ``hi`` days before as-of."""
    return pop.end_days[persons], np.minimum(pop.open_days[persons], horizon)


def everyday_rows(rng: np.random.Generator, pop: Population, persons: IntArray) -> Rows:
    lo, hi = window(pop, persons, TXN_HORIZON)
    counts = np.where(hi >= lo, rng.poisson(pop.txn_expected[persons]), 0)
    pos = repeat_owner(counts)
    corp = pop.kind[persons][pos] == CORPORATE
    kind = np.where(corp, rng.choice(10, len(pos), p=CORP_MIX / CORP_MIX.sum()),
                    rng.choice(10, len(pos), p=IND_MIX / IND_MIX.sum()))
    fen = _lognormal_fen(rng, kind, np.where(np.isin(kind, (FEE, INTEREST)), 1.0,
                                             pop.wealth[persons][pos]))
    fen = np.where(np.isin(kind, (CASH_DEP, CASH_WDL)), np.minimum(fen, CASH_CAP_FEN), fen)
    days = persona_days(rng, pop.persona[persons][pos], lo[pos], hi[pos])
    return Rows(pos, days, daytime_seconds(rng, len(pos)), kind, fen)


def salary_rows(rng: np.random.Generator, pop: Population, persons: IntArray) -> Rows:
    """Monthly payroll credits on the customer's pay day while employed."""
    lo, hi = window(pop, persons, TXN_HORIZON)
    lo = np.maximum(lo, pop.salary_stop_days[persons])
    month0 = pop.as_of.astype("datetime64[M]")
    months = (month0 - np.arange(14)).astype("datetime64[D]")
    pay = months[None, :] + (pop.salary_day[persons][:, None] - 1)
    t = (pop.as_of - pay).astype(np.int64)
    ok = pop.salaried[persons][:, None] & (t >= lo[:, None]) & (t <= hi[:, None]) & (t >= 0)
    pos, col = np.nonzero(ok)
    fen = np.round(pop.salary_fen[persons][pos] * rng.normal(1, 0.03, len(pos))).astype(np.int64)
    secs = rng.integers(8 * 3600, 11 * 3600, len(pos))
    return Rows(pos, t[pos, col], secs, np.full(len(pos), SALARY), fen)


def aml_rows(rng: np.random.Generator, pop: Population, persons: IntArray) -> Rows:
    """Large cash days (>= 50,000 CNY each) and bursts of cross-border transfers."""
    aml = pop.aml_high[persons]
    lo, hi = window(pop, persons, TXN_HORIZON)
    n_days = np.where(aml, rng.integers(3, 7, len(persons)), 0)
    day_pos = repeat_owner(n_days)
    day = lo[day_pos] + np.floor(rng.random(len(day_pos)) * (hi - lo + 1)[day_pos]).astype(np.int64)
    per_day = rng.integers(1, 3, len(day_pos))
    pos = day_pos[repeat_owner(per_day)]
    days = day[repeat_owner(per_day)]
    kind = np.where(rng.random(len(pos)) < 0.8, CASH_DEP, CASH_WDL)
    fen = np.round(rng.uniform(AML_CASH_MIN_YUAN, 300_000, len(pos)) * 100).astype(np.int64)
    cash = Rows(pos, days, office_seconds(rng, len(pos)), kind, fen)
    xb_n = np.where(aml & (rng.random(len(persons)) < 0.5), rng.integers(12, 31, len(persons)), 0)
    xpos = repeat_owner(xb_n)
    xhi = np.maximum(np.minimum(hi, 180), lo)[xpos]
    xdays = lo[xpos] + np.floor(rng.random(len(xpos)) * (xhi - lo[xpos] + 1)).astype(np.int64)
    xkind = np.where(rng.random(len(xpos)) < 0.7, XB_OUT, XB_IN)
    xfen = np.round(rng.uniform(20_000, 200_000, len(xpos)) * 100).astype(np.int64)
    return Rows.concat([cash, Rows(xpos, xdays, office_seconds(rng, len(xpos)), xkind, xfen)])


def system_rows(rng: np.random.Generator, pop: Population, persons: IntArray) -> Rows:
    """Quarterly interest for dormant accounts and closing transfers for churned ones."""
    q = pop.as_of.astype("datetime64[M]") - np.arange(16)
    quarter_end = q[(q.astype(np.int64) % 12 + 1) % 3 == 0].astype("datetime64[D]") + 20
    t = (pop.as_of - quarter_end).astype(np.int64)
    dormant = pop.persona[persons] == DORMANT
    ok = (dormant[:, None] & (t[None, :] >= 0) & (t[None, :] < pop.quiet_days[persons][:, None])
          & (t[None, :] <= pop.open_days[persons][:, None]))
    pos, col = np.nonzero(ok)
    fen = np.maximum(np.round(pop.aum_fen[persons][pos] * 0.0005), 1).astype(np.int64)
    interest = Rows(pos, t[col], rng.integers(3600, 3 * 3600, len(pos)), np.full(len(pos), INTEREST), fen)
    churned = np.flatnonzero(pop.persona[persons] == CHURNED)
    close_fen = np.round(pop.aum_fen[persons][churned] * rng.uniform(0.3, 1.0, len(churned)))
    closing = Rows(churned, pop.close_days[persons][churned], office_seconds(rng, len(churned)),
                   np.full(len(churned), TRF_OUT), np.maximum(close_fen, 1).astype(np.int64))
    return Rows.concat([interest, closing])


def transaction_chunk(
    seed: int, chunk: int, pop: Population, accounts: AccountChunk, start: int, stop: int
) -> Frame:
    """transactions rows (without ``txn_id``) for persons ``[start, stop)``, by time."""
    rng = stream(seed, "transactions", chunk)
    persons = np.arange(start, stop, dtype=np.int64)
    persons_with_account = np.asarray(accounts.main_account.is_valid())
    rows = Rows.concat([everyday_rows(rng, pop, persons), salary_rows(rng, pop, persons),
                        aml_rows(rng, pop, persons), system_rows(rng, pop, persons)])
    keep = persons_with_account[rows.pos]
    rows = Rows(*(getattr(rows, f)[keep] for f in ("pos", "days", "seconds", "kind", "fen")))
    return render(rng, pop.as_of, rows, accounts.main_account, accounts.fx_account,
                  accounts.fx_currency)


def render(
    rng: np.random.Generator, as_of: np.datetime64, rows: Rows, main_account: pa.Array,
    fx_account: pa.Array, fx_currency: IntArray,
) -> Frame:
    """Source columns for transaction rows, sorted by time.

    ``rows.pos`` indexes the per-person account arrays; cross-border rows use
    the person's foreign-currency account when there is one.
    """
    ts = times_on(dates_before(as_of, rows.days), rows.seconds)
    order = np.argsort(ts, kind="stable")
    ts, pos, kind, fen = ts[order], rows.pos[order], rows.kind[order], rows.fen[order]
    n = len(ts)
    xb = np.isin(kind, (XB_IN, XB_OUT))
    use_fx = xb & np.asarray(fx_account.is_valid())[pos]
    take = pa.array(pos)
    account = pc.if_else(pa.array(use_fx), fx_account.take(take), main_account.take(take))
    currency = np.where(use_fx, fx_currency[pos], 0)
    fen = np.maximum(np.round(fen / FX_RATE[currency]), 1).astype(np.int64)
    channel = np.full(n, 5, dtype=np.int64)
    for t, shares in CHANNEL_MIX.items():
        sel = kind == t
        channel[sel] = rng.choice(6, int(sel.sum()), p=shares)
    country = np.zeros(n, dtype=np.int64)
    country[xb] = 1 + rng.choice(len(XB_COUNTRIES), int(xb.sum()), p=XB_SHARES)
    return {
        "account_no": account,
        "txn_time": ts,
        "amount": fen,
        "direction": labels(["D", "C"], np.isin(kind, CREDIT_TYPES).astype(np.int64)),
        "channel": labels(list(CHANNELS), channel),
        "txn_type": labels(list(TYPES), kind),
        "counterparty_country": labels(["CN", *XB_COUNTRIES], country),
        "currency": labels(list(CURRENCIES), currency),
    }
