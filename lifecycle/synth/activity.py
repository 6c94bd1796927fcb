"""Card spending, digital-channel events and customer feedback for a chunk.

All three stop at the customer's last action (dormant: at least 200 days
ago; churned: at closing) and follow the persona's trend, like transactions.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from lifecycle.synth.formatting import labels
from lifecycle.synth.pools import CITIES, COMPLAINT_CATEGORIES, MCC_CODES, MCC_SHARES, MERCHANT_CITIES
from lifecycle.synth.population import ACTIVITY_HORIZON, CORPORATE, DORMANT, Population
from lifecycle.synth.rng import stream
from lifecycle.synth.timeline import dates_before, daytime_seconds, persona_days, repeat_owner, times_on

IntArray = npt.NDArray[np.int64]
Frame = dict[str, "pa.Array | np.ndarray"]

EVENT_TYPES = np.array(["LOGIN", "VIEW_PRODUCT", "TRANSFER", "PURCHASE"], dtype=object)
EVENT_SHARES = (0.6, 0.2, 0.15, 0.05)
DIGITAL_CHANNELS = np.array(["APP", "WECHAT", "WEB"], dtype=object)
# NPS score weights 0..10 per persona (new, growing, mature, declining, dormant, churned)
NPS_WEIGHTS = np.array([
    [0, 0, 0, 0, 0, 1, 2, 4, 6, 5, 4],
    [0, 0, 0, 0, 0, 0, 1, 2, 5, 7, 6],
    [0, 0, 0, 0, 0, 1, 1, 3, 6, 6, 5],
    [1, 1, 2, 3, 4, 4, 4, 3, 2, 1, 0],
    [0, 0, 0, 1, 2, 3, 3, 3, 2, 1, 0],
    [3, 3, 3, 3, 2, 2, 1, 0, 0, 0, 0],
], dtype=np.float64)
COMPLAINT_RATE = np.array([0.03, 0.02, 0.02, 0.12, 0.01, 0.20])
SEVERITIES = ("LOW", "MEDIUM", "HIGH")


def _events(
    rng: np.random.Generator, pop: Population, persons: IntArray, expected: npt.NDArray[np.float64],
    open_days: IntArray,
) -> tuple[IntArray, npt.NDArray[np.datetime64]]:
    lo = pop.end_days[persons]
    hi = np.minimum(open_days, ACTIVITY_HORIZON)
    counts = np.where(hi >= lo, rng.poisson(expected), 0)
    pos = repeat_owner(counts)
    days = persona_days(rng, pop.persona[persons][pos], lo[pos], hi[pos])
    ts = times_on(dates_before(pop.as_of, days), daytime_seconds(rng, len(pos)))
    order = np.argsort(ts, kind="stable")
    return pos[order], ts[order]


def card_transaction_chunk(
    seed: int, chunk: int, pop: Population, card_no: pa.Array, city: IntArray,
    start: int, stop: int,
) -> Frame:
    """card_transactions rows (without ``TXN_REF``) for card holders in the chunk."""
    rng = stream(seed, "card_transactions", chunk)
    persons = np.arange(start, stop, dtype=np.int64)
    persons = persons[pop.has_card[persons]]
    pos, ts = _events(rng, pop, persons, pop.card_expected[persons], pop.card_open_days[persons])
    n = len(pos)
    fen = np.exp(rng.normal(np.log(180), 1.1, n)) * np.sqrt(pop.wealth[persons][pos]) * 100
    home = pa.array([c.name for c in CITIES], pa.string()).take(pa.array(city[persons][pos]))
    away = pa.array(MERCHANT_CITIES, pa.string()).take(
        pa.array(rng.integers(0, len(MERCHANT_CITIES), n)))
    return {
        "CARD_NO": card_no.take(pa.array(persons[pos])),
        "TXN_TS": ts,
        "AMT_FEN": np.maximum(np.round(fen), 100).astype(np.int64),
        "MCC": pa.array(np.array(MCC_CODES, dtype=object)[rng.choice(len(MCC_CODES), n, p=MCC_SHARES)],
                        pa.string()),
        "MERCHANT_CITY": pa.array(np.where(rng.random(n) < 0.65, home.to_numpy(zero_copy_only=False),
                                           away.to_numpy(zero_copy_only=False)), pa.string()),
    }


def digital_chunk(
    seed: int, chunk: int, pop: Population, primary: pa.Array, start: int, stop: int
) -> Frame:
    """digital_activity rows (without ``event_id``) for enrolled customers in the chunk."""
    rng = stream(seed, "digital_activity", chunk)
    persons = np.arange(start, stop, dtype=np.int64)
    persons = persons[pop.digital[persons]]
    pos, ts = _events(rng, pop, persons, pop.digital_expected[persons], pop.open_days[persons])
    n = len(pos)
    corp = pop.kind[persons][pos] == CORPORATE
    channel = np.where(corp, rng.choice(3, n, p=[0.3, 0.0, 0.7]),
                       rng.choice(3, n, p=[0.6, 0.25, 0.15]))
    return {
        "cust_no": primary.take(pa.array(persons[pos])),
        "event_time": ts,
        "channel": pa.array(DIGITAL_CHANNELS[channel], pa.string()),
        "event_type": pa.array(EVENT_TYPES[rng.choice(4, n, p=EVENT_SHARES)], pa.string()),
    }


def feedback_chunk(
    seed: int, chunk: int, pop: Population, primary: pa.Array, start: int, stop: int
) -> Frame:
    """feedback rows (without ``feedback_id``): NPS surveys and complaints."""
    rng = stream(seed, "feedback", chunk)
    persons = np.arange(start, stop, dtype=np.int64)
    persons = persons[pop.has_core[persons]]
    persona = pop.persona[persons]
    survey = rng.random(len(persons)) < np.where(persona == DORMANT, 0.03, 0.12)
    complaint = rng.random(len(persons)) < COMPLAINT_RATE[persona]
    who = np.concatenate([np.flatnonzero(survey), np.flatnonzero(complaint)])
    is_complaint = np.arange(len(who)) >= survey.sum()
    lo = pop.end_days[persons][who]
    hi = np.maximum(np.minimum(pop.open_days[persons][who], ACTIVITY_HORIZON), lo)
    days = persona_days(rng, persona[who], lo, hi)
    cdf = np.cumsum(NPS_WEIGHTS / NPS_WEIGHTS.sum(axis=1, keepdims=True), axis=1)
    score = (rng.random(len(who))[:, None] > cdf[persona[who]]).sum(axis=1)
    n = len(who)
    recent = days <= 30
    status = (rng.random(n) >= np.where(recent, 0.6, 0.05)).astype(np.int64)
    category = rng.integers(0, len(COMPLAINT_CATEGORIES), n)
    frame: Frame = {
        "cust_no": primary.take(pa.array(persons[who])),
        "feedback_date": dates_before(pop.as_of, days),
        "kind": labels(["SURVEY", "COMPLAINT"], is_complaint),
        "nps_score": pa.array(score, pa.int64(), mask=is_complaint),
        "category": labels(COMPLAINT_CATEGORIES, category, ~is_complaint),
        "severity": labels(SEVERITIES, rng.choice(3, n, p=[0.5, 0.35, 0.15]), ~is_complaint),
        "status": labels(["OPEN", "RESOLVED"], status, ~is_complaint),
    }
    order = np.argsort(-days, kind="stable")
    return {k: (v[order] if isinstance(v, np.ndarray) else v.take(pa.array(order)))
            for k, v in frame.items()}
