"""The interactions extract: every contact with a customer, with channel and outcome.

Two kinds of rows per chunk:

* contacts — calls, branch visits, messages and emails, spread over the
  customer's active time like their other activity (corporates more often);
* the feedback extract's cases — a survey's answer, and a complaint's status
  rows: logged (``OPEN``), taken up (``IN_PROGRESS``), answered (``RESOLVED``).
  Each names its feedback record (``case_ref``). A complaint the feedback
  record calls resolved has all three rows; an open one is sometimes taken up
  already. Rows of a case are in time order, never after the as-of day.

Every row is valid: the loader's complaint machine accepts them all.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.synth.activity import _events
from lifecycle.synth.formatting import labels, to_strings
from lifecycle.synth.population import CORPORATE, Population
from lifecycle.synth.rng import stream
from lifecycle.synth.timeline import daytime_seconds, office_seconds, times_on

IntArray = npt.NDArray[np.int64]
Frame = dict[str, "pa.Array | np.ndarray"]

KINDS = ("CALL", "VISIT", "MESSAGE", "EMAIL")
KIND_SHARES = (0.4, 0.2, 0.3, 0.1)
CHANNELS = ("PHONE", "BRANCH", "APP", "WECHAT", "SMS", "EMAIL", "WEB")
# Channel shares per contact kind (rows: KINDS, columns: CHANNELS).
KIND_CHANNELS = np.array([
    [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.3, 0.4, 0.3, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0],
])
OUTCOMES = ("COMPLETED", "NO_ANSWER", "CALLBACK", "INTERESTED", "DECLINED", "PURCHASED")
KIND_OUTCOMES = np.array([
    [0.45, 0.25, 0.1, 0.1, 0.1, 0.0],
    [0.6, 0.0, 0.0, 0.15, 0.1, 0.15],
    [0.8, 0.0, 0.0, 0.1, 0.1, 0.0],
    [0.8, 0.0, 0.0, 0.1, 0.1, 0.0],
])
CONTACTS_PER_YEAR = (2.5, 6.0)  # individual, corporate
COMPLAINT_CHANNELS = ("PHONE", "BRANCH", "APP", "WECHAT")
SURVEY_CHANNELS = ("SMS", "APP", "WECHAT", "EMAIL")
DAY_SECONDS = 86_400


def _arrow(values: pa.Array | np.ndarray) -> pa.Array:
    return values if isinstance(values, pa.Array) else pa.array(values)


def _pick(rng: np.random.Generator, shares: npt.NDArray[np.float64], rows: IntArray) -> IntArray:
    """One column index per row, drawn from ``shares[rows]`` (vectorised inverse CDF)."""
    cdf = np.cumsum(shares / shares.sum(axis=1, keepdims=True), axis=1)[rows]
    return np.minimum((rng.random(len(rows))[:, None] > cdf).sum(axis=1), shares.shape[1] - 1)


def contact_chunk(rng: np.random.Generator, pop: Population, persons: IntArray) -> tuple[IntArray, Frame]:
    """Calls, visits, messages and emails of ``persons``: (person per row, columns)."""
    rate = np.where(pop.kind[persons] == CORPORATE, CONTACTS_PER_YEAR[1], CONTACTS_PER_YEAR[0])
    pos, ts = _events(rng, pop, persons, rate, pop.open_days[persons])
    n = len(pos)
    kind = rng.choice(len(KINDS), n, p=KIND_SHARES)
    return persons[pos], {
        "interaction_time": ts,
        "kind": labels(KINDS, kind),
        "channel": labels(CHANNELS, _pick(rng, KIND_CHANNELS, kind)),
        "outcome": labels(OUTCOMES, _pick(rng, KIND_OUTCOMES, kind)),
        "case_ref": pa.nulls(n, pa.string()),
        "complaint_status": pa.nulls(n, pa.string()),
    }


def case_rows(rng: np.random.Generator, as_of: np.datetime64, feedback: Frame) -> tuple[IntArray, Frame]:
    """Each feedback case's rows: (feedback row per row, columns)."""
    kind = to_strings(feedback["kind"]).astype(str)
    status = pc.fill_null(_arrow(feedback["status"]), "OPEN").to_numpy(zero_copy_only=False).astype(str)
    n = len(kind)
    filed = np.asarray(feedback["feedback_date"], dtype="datetime64[D]")
    last = (as_of + np.timedelta64(1, "D")).astype("datetime64[s]") - np.timedelta64(1, "s")
    opened = times_on(filed, office_seconds(rng, n))
    complaint = kind == "COMPLAINT"
    resolved = complaint & (status == "RESOLVED")
    taken_up = resolved | (complaint & (rng.random(n) < 0.5))
    start = np.minimum(opened + (rng.integers(1, 4, n) * DAY_SECONDS).astype("timedelta64[s]"), last)
    answer = np.minimum(start + (rng.integers(1, 12, n) * DAY_SECONDS).astype("timedelta64[s]"), last)
    stages = [(np.arange(n), opened, np.where(complaint, "OPEN", ""), np.where(complaint, "LOGGED", "COMPLETED")),
              (np.flatnonzero(taken_up), start[taken_up], "IN_PROGRESS", "FOLLOWED_UP"),
              (np.flatnonzero(resolved), answer[resolved], "RESOLVED", "RESOLVED")]
    row = np.concatenate([s[0] for s in stages])
    ts = np.concatenate([s[1] for s in stages])
    state = np.concatenate([np.broadcast_to(np.asarray(s[2], dtype=object), len(s[0])) for s in stages])
    outcome = np.concatenate([np.broadcast_to(np.asarray(s[3], dtype=object), len(s[0])) for s in stages])
    is_complaint = complaint[row]
    channel = np.where(is_complaint, np.array(COMPLAINT_CHANNELS, dtype=object)[rng.integers(0, 4, len(row))],
                       np.array(SURVEY_CHANNELS, dtype=object)[rng.integers(0, 4, len(row))])
    return row, {
        "interaction_time": ts,
        "kind": pa.array(kind[row].astype(object), pa.string()),
        "channel": pa.array(channel, pa.string()),
        "outcome": pa.array(outcome, pa.string()),
        "case_ref": _arrow(feedback["feedback_id"]).take(pa.array(row)),
        "complaint_status": pa.array(state, pa.string(), mask=~is_complaint),
    }


def _assemble(contacts: Frame, contact_owner: pa.Array, feedback: Frame, cases: tuple[IntArray, Frame]) -> Frame:
    """Contacts and case rows as one frame in time order (ties keep a case's rows in order)."""
    rows, case_frame = cases
    owner = pa.concat_arrays([contact_owner, _arrow(feedback["cust_no"]).take(pa.array(rows))])
    frame = {k: _concat(contacts[k], case_frame[k]) for k in contacts}
    order = np.argsort(np.asarray(frame["interaction_time"]), kind="stable")
    out: Frame = {"cust_no": owner.take(pa.array(order))}
    out.update({k: v[order] if isinstance(v, np.ndarray) else v.take(pa.array(order)) for k, v in frame.items()})
    out["campaign_code"] = pa.nulls(len(order), pa.string())
    return out


def _concat(a: pa.Array | np.ndarray, b: pa.Array | np.ndarray) -> pa.Array | np.ndarray:
    if isinstance(a, np.ndarray):
        return np.concatenate([a, np.asarray(b)])
    return pa.concat_arrays([a, pc.cast(b, a.type)])


def interaction_chunk(seed: int, chunk: int, pop: Population, primary: pa.Array, start: int, stop: int,
                      feedback: Frame) -> Frame:
    """interactions rows (without ``interaction_id``) of the chunk's core customers: their
    contacts and the cases of the chunk's ``feedback`` rows (with ``feedback_id``)."""
    rng = stream(seed, "interactions", chunk)
    persons = np.arange(start, stop, dtype=np.int64)
    who, contacts = contact_chunk(rng, pop, persons[pop.has_core[persons]])
    return _assemble(contacts, primary.take(pa.array(who)), feedback, case_rows(rng, pop.as_of, feedback))


def today_interactions(seed: int, day_ordinal: int, as_of: np.datetime64, primary: pa.Array, touched: IntArray,
                       feedback: Frame) -> Frame:
    """An incremental day: about one in seven touched core customers contacted today, and
    today's feedback cases."""
    rng = stream(seed, "delta:interactions", day_ordinal)
    who = touched[rng.random(len(touched)) < 0.15]
    n = len(who)
    kind = rng.choice(len(KINDS), n, p=KIND_SHARES)
    contacts: Frame = {
        "interaction_time": times_on(np.full(n, as_of, dtype="datetime64[D]"), daytime_seconds(rng, n)),
        "kind": labels(KINDS, kind), "channel": labels(CHANNELS, _pick(rng, KIND_CHANNELS, kind)),
        "outcome": labels(OUTCOMES, _pick(rng, KIND_OUTCOMES, kind)),
        "case_ref": pa.nulls(n, pa.string()), "complaint_status": pa.nulls(n, pa.string()),
    }
    return _assemble(contacts, primary.take(pa.array(who)), feedback, case_rows(rng, as_of, feedback))
